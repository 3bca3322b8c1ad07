"""Vietnamese questions as the search reads them: folded (case, diacritics, đ → d), the
abbreviations people type spelled out, everyday words mapped to the catalog's, tokens and
bigrams.

The abbreviations and synonyms here were written from the catalog and everyday usage; the
evaluation questions (bench/assistant_eval.jsonl) were written apart and never tuned against.
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
    "lam lai khai sinh": "dang ky lai khai sinh",
    "cap lai khai sinh": "dang ky lai khai sinh",
    "giay chung tu": "khai tu",
    "bao tu": "khai tu",
    "qua doi": "khai tu",
    "chet": "khai tu",
    "mat nguoi": "khai tu",
    "nhan cha": "nhan cha me con",
    "nhan me": "nhan cha me con",
    "nhan con": "nhan cha me con",
    # residence
    "nhap ho khau": "dang ky thuong tru",
    "nhap khau": "dang ky thuong tru",
    "chuyen ho khau": "dang ky thuong tru",
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
        "ak",
        "ay",
        "ba",
        "ban",
        "bay",
        "be",
        "bi",
        "biet",
        "bo",
        "cac",
        "cach",
        "can",
        "cho",
        "chi",
        "chu",
        "co",
        "cua",
        "da",
        "dang",
        "day",
        "de",
        "den",
        "di",
        "do",
        "duoc",
        "em",
        "gi",
        "gio",
        "giup",
        "hay",
        "hoi",
        "khi",
        "khong",
        "la",
        "lam",
        "len",
        "luc",
        "ma",
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
        "o",
        "oi",
        "phai",
        "qua",
        "ra",
        "roi",
        "sao",
        "se",
        "sau",
        "the",
        "thi",
        "thoi",
        "toi",
        "tren",
        "tui",
        "va",
        "vao",
        "vay",
        "ve",
        "vi",
        "voi",
        "xin",
        "xem",
    ]
)


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
