"""Vietnamese questions as the search reads them: folded (case, diacritics, đ → d), the
abbreviations people type spelled out, everyday words mapped to the catalog's, tokens and
bigrams.

The abbreviations, synonyms and everyday words here were written from the catalog and everyday
usage, and tuned against bench/assistant_tuning.jsonl; the evaluation questions
(bench/assistant_eval.jsonl) were written apart and are never tuned against.
"""

from __future__ import annotations

import re
from itertools import pairwise

from digital_address.vietnamese_text import fold

_WORD = re.compile(r"[a-z0-9]+")

# Typed abbreviations, one token each (folded).
ABBREVIATIONS: dict[str, str] = {
    "gks": "giay khai sinh",
    "dkks": "dang ky khai sinh",
    "ks": "khai sinh",
    "dkkh": "dang ky ket hon",
    "kh": "ket hon",
    "cccd": "can cuoc cong dan",
    "cmnd": "chung minh nhan dan",
    "cmt": "chung minh nhan dan",
    "hk": "ho khau",
    "xn": "xac nhan",
    "gxn": "giay xac nhan",
    "ubnd": "uy ban nhan dan",
    "tthc": "thu tuc hanh chinh",
    "dk": "dang ky",
    "dki": "dang ky",
    "dky": "dang ky",
    "ki": "ky",
    "ko": "khong",
    "k": "khong",
    "kg": "khong",
    "j": "gi",
    "bn": "bao nhieu",
    "bnhieu": "bao nhieu",
    "mk": "minh",
    "mik": "minh",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "tg": "thoi gian",
    "hs": "ho so",
    "tt": "thu tuc",
    "ct": "chung thuc",
    "tthn": "tinh trang hon nhan",
    "dvc": "dich vu cong",
    "fi": "phi",
    "ng": "nguoi",
}

# Everyday phrases → the catalog's words (applied to the folded, spelled-out text, longest
# first, on word boundaries).
SYNONYMS: dict[str, str] = {
    # marriage
    "lay vo": "ket hon",
    "lay chong": "ket hon",
    "cuoi vo": "ket hon",
    "cuoi chong": "ket hon",
    "dang ky cuoi": "dang ky ket hon",
    "giay dang ky ket hon": "ket hon",
    "dam cuoi": "ket hon",
    "cuoi": "ket hon",
    "cuoi tuan": "thu bay chu nhat",
    "doc than": "tinh trang hon nhan",
    "chua vo": "tinh trang hon nhan",
    "chua chong": "tinh trang hon nhan",
    "chua ket hon": "tinh trang hon nhan",
    # birth and death
    "giay khai sinh": "khai sinh",
    "lam giay khai sinh": "dang ky khai sinh",
    "em be moi sinh": "khai sinh",
    "tre moi sinh": "khai sinh",
    "con moi sinh": "khai sinh",
    "moi sinh": "khai sinh",
    "vua sinh": "khai sinh",
    "moi de": "khai sinh",
    "vua de": "khai sinh",
    "sinh con": "khai sinh",
    "giay chung sinh": "khai sinh",
    "lam lai khai sinh": "dang ky lai khai sinh",
    "cap lai khai sinh": "dang ky lai khai sinh",
    "giay chung tu": "khai tu",
    "bao tu": "khai tu",
    "qua doi": "khai tu",
    "giay bao tu": "khai tu",
    "moi mat": "khai tu",
    "vua mat": "khai tu",
    "da mat": "khai tu",
    "nguoi than mat": "khai tu",
    "chet": "khai tu",
    "mat nguoi": "khai tu",
    "nhan cha": "nhan cha me con",
    "nhan me": "nhan cha me con",
    "nhan con": "nhan cha me con",
    "ghi ten bo": "nhan cha me con",
    "ghi ten cha": "nhan cha me con",
    "ten bo": "nhan cha me con",
    "ten cha": "nhan cha me con",
    "ngoai gia thu": "nhan cha me con",
    # residence
    "nhap ho khau": "dang ky thuong tru",
    "nhap khau": "dang ky thuong tru",
    "chuyen ho khau": "dang ky thuong tru",
    "chuyen khau": "dang ky thuong tru",
    "ho khau": "thuong tru",
    "dang ky tam tru": "tam tru",
    "khai bao tam tru": "tam tru",
    "o tro": "tam tru",
    "thue nha": "tam tru",
    # certification ("bản sao" and "chữ ký" as one word each: "bản", "sao" and "ký" alone are
    # everyday words)
    "ban sao": "bansao",
    "ban chinh": "banchinh",
    "chu ky": "chuky",
    "sao y": "chung thuc bansao",
    "ban sao cong chung": "chung thuc bansao",
    "photo cong chung": "chung thuc bansao",
    "cong chung ban sao": "chung thuc bansao",
    "cong chung": "chung thuc",
    "ky ten": "chuky",
    "xac nhan chu ky": "chung thuc chuky",
    "photo": "bansao",
    "pho to": "bansao",
    # Where every procedure is filed: it does not choose one (kept as one word, which the
    # desk question still sees).
    "uy ban nhan dan": "uyban",
    # What the question asks about the procedure (its fee, time, papers, place, channel):
    # every answer gives all of these, so they do not choose the procedure.
    "mat bao lau": "",
    "bao lau": "",
    "bao nhieu ngay": "",
    "thoi gian": "",
    "bao nhieu tien": "",
    "ton tien": "",
    "mat tien": "",
    "mien phi": "",
    "le phi": "",
    "phi": "",
    "giay to": "",
    "ho so": "",
    "can nhung gi": "",
    "can gi": "",
    "nop online": "",
    "online": "",
    "truc tuyen": "",
    "dich vu cong": "",
    # Where the papers come from, not which procedure.
    "benh vien": "",
    "tram y te": "",
    "may ngay": "",
    "qua mang": "",
    "tren mang": "",
    "thu tuc": "",
    "nop": "",
}
_SYNONYM_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True)) + r")\b"
)

# Words every question has: they say nothing about which procedure.
STOPWORDS = frozenset(
    [
        "a",
        "ah",
        "ai",
        "ak",
        "ay",
        "ba",
        "ban",
        "bang",
        "bay",
        "be",
        "bi",
        "biet",
        "bo",
        "cac",
        "cach",
        "can",
        "chau",
        "chi",
        "cho",
        "chu",
        "co",
        "con",
        "cu",
        "cua",
        "cung",
        "da",
        "dang",
        "dau",
        "day",
        "de",
        "den",
        "di",
        "do",
        "dong",
        "dua",
        "duoc",
        "em",
        "gai",
        "gi",
        "gio",
        "giup",
        "ha",
        "hai",
        "hang",
        "hay",
        "hoi",
        "khi",
        "khong",
        "la",
        "lam",
        "lay",
        "len",
        "luc",
        "ma",
        "mang",
        "may",
        "minh",
        "moi",
        "muon",
        "nao",
        "nay",
        "ne",
        "neu",
        "nguoi",
        "nha",
        "nhe",
        "nhu",
        "nhung",
        "noi",
        "nua",
        "o",
        "oi",
        "ong",
        "phai",
        "phuong",
        "qua",
        "ra",
        "roi",
        "sao",
        "sau",
        "se",
        "so",
        "ten",
        "thang",
        "the",
        "them",
        "thi",
        "thoi",
        "tien",
        "toi",
        "trai",
        "tren",
        "truoc",
        "tuan",
        "tui",
        "uyban",
        "va",
        "vao",
        "vay",
        "ve",
        "vi",
        "voi",
        "vua",
        "xa",
        "xem",
        "xin",
        "xom",
    ]
)


# A Vietnamese syllable once folded: an initial, one to three vowels, a final. A word that is
# not one is a typing slip (or telex leftovers); a word that is one is left as typed, even if
# the index does not know it: one letter away from a catalog word is usually another word
# ("tiền" is not "biên", "đâu" is not "câu").
_SYLLABLE = re.compile(
    r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?"
)
# Telex typed without the keyboard turning it into accents: "dduwowcj" is "được".
_TELEX_DOUBLE = re.compile(r"(aa|ee|oo|dd)")
_TELEX_TONE = re.compile(r"(?<=[aeiouy])[sfrxj]|[sfrxj]$")


def is_syllable(word: str) -> bool:
    return word.isdigit() or _SYLLABLE.fullmatch(word) is not None


def untelex(word: str) -> str:
    """The word with telex keys read as the marks they stand for (which folding drops)."""
    plain = _TELEX_DOUBLE.sub(lambda m: m.group(1)[0], word.replace("w", ""))
    return _TELEX_TONE.sub("", plain, count=1)


def spell_out(text: str) -> str:
    """Folded, abbreviations spelled out, synonyms replaced."""
    words = [ABBREVIATIONS.get(word, word) for word in _WORD.findall(fold(text))]
    return _SYNONYM_PATTERN.sub(lambda m: SYNONYMS[m.group(1)], " ".join(words))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def terms(spelled: str) -> list[str]:
    """What is indexed and searched: the content words and the pairs of neighbouring words
    ("khai_sinh" tells birth from "khai_tu", death, where "khai" alone does not)."""
    tokens = words(spelled)
    content = [t for t in tokens if t not in STOPWORDS]
    pairs = [f"{a}_{b}" for a, b in pairwise(tokens) if a not in STOPWORDS and b not in STOPWORDS]
    return content + pairs
