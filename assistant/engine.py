"""What a question is about: a dossier's status, the asker's digital address, a commune's
one-stop desk, an FAQ entry or a procedure of the catalog — or nothing the assistant knows.

Retrieval is BM25 (``bm25s``) over the normalised text of the procedures and FAQ entries
(``assistant.language``: unigrams and bigrams), with misspelt words mapped to the index's
vocabulary by ``rapidfuzz``. The confidence of the best match is how much of the question it
covers, each word weighted by its rarity in the index (a word the index does not know weighs
most: "hộ chiếu" is not "hộ tịch"), and how far it stands ahead of the next one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import bm25s
import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.language import STOPWORDS, is_syllable, spell_out, terms, untelex, words
from digital_address.vietnamese_text import fold

# Below this, the assistant says it does not know (and offers the closest procedures).
THRESHOLD = 0.45
MIN_TYPO_LENGTH = 3
# How far ahead an FAQ entry must be of the best procedure to answer instead of it.
FAQ_MARGIN = 0.05
OFFERED = 3

DOSSIER_CODE = re.compile(r"(?<![\w.])([A-Za-z0-9.]{1,32}-\d{6}-\d{4,6})(?![\w])")
_MY = r"(cua toi|nha toi|ho toi|cua minh|nha minh|ho minh|cua em|nha em|ho em|cua tui|nha tui)"
_ADDRESS = r"(dia chi so|ma dia chi|dia chi cua ho|dia chi nha)"
# Both, in any order, even sharing a word ("địa chỉ nhà tôi").
MY_ADDRESS = re.compile(rf"(?=.*\b{_ADDRESS}\b)(?=.*\b{_MY}\b)")
HOW_TO = re.compile(r"\b(lam sao|lam the nao|cach|nhu the nao|dang ky|xin|tao|cap)\b")
_ASKS_WHERE = r"tru so|dia chi|dien thoai|lien he|o dau|lam viec|mo cua|may gio|gio lam|hotline"
ASKS_WHERE = re.compile(rf"\b({_ASKS_WHERE})\b")
DESK = re.compile(rf"\b(mot cua|uy ban|uyban|bo phan|tiep dan|{_ASKS_WHERE})\b")
# A procedure this close is what is asked about, even with a commune's desk in the question.
SURE = 0.7
_PREFIXES = ("xa ", "phuong ", "dac khu ", "thi tran ")


@dataclass(frozen=True)
class Match:
    kind: str  # "procedure" or "faq"
    key: str  # a procedure code or an FAQ entry id
    title: str
    confidence: float


@dataclass(frozen=True)
class Reading:
    """What the engine made of a question."""

    intent: str
    confidence: float
    matches: list[Match] = field(default_factory=list)
    dossier_code: str = ""
    ward_code: int | None = None


def ward_names(name: str) -> list[str]:
    """A commune's name as people say it: folded, with and without its type."""
    folded = " ".join(words(fold(name)))
    bare = next((folded[len(p) :] for p in _PREFIXES if folded.startswith(p)), folded)
    return sorted({folded, bare})


class Engine:
    """Built from a SearchIndex's documents: ``{"kind", "key", "title", "text"}`` for
    procedures and FAQ entries, ``{"kind": "ward", "key", "title", "names"}`` for communes."""

    def __init__(self, documents: Iterable[dict]) -> None:
        documents = list(documents)
        self.documents = [d for d in documents if d["kind"] in ("procedure", "faq")]
        self.wards = [
            (name, int(d["key"])) for d in documents if d["kind"] == "ward" for name in d["names"]
        ]
        # Longest names first: "dong dang" before "dong".
        self.wards.sort(key=lambda item: -len(item[0]))
        corpus = [terms(d["text"]) for d in self.documents]
        self.term_sets = [set(doc) for doc in corpus]
        self.title_sets = [set(terms(spell_out(d["title"]))) for d in self.documents]
        self.vocabulary = sorted({t for doc in corpus for t in doc if "_" not in t})
        self.known = set(self.vocabulary) | STOPWORDS
        count = len(corpus) or 1
        frequency: dict[str, int] = {}
        for doc in self.term_sets:
            for term in doc:
                frequency[term] = frequency.get(term, 0) + 1
        self.idf = {t: math.log(1 + count / n) for t, n in frequency.items()}
        # A word the index does not know weighs as much as its rarest word.
        self.unknown_idf = math.log(1 + count)
        self.retriever = bm25s.BM25()
        if corpus:
            self.retriever.index(corpus, show_progress=False)

    # --- reading a question -------------------------------------------------------------

    def read(self, question: str) -> Reading:
        code = DOSSIER_CODE.search(question)
        if code:
            return Reading("dossier_status", 1.0, dossier_code=code.group(1).upper())
        plain = spell_out(question)
        if MY_ADDRESS.search(plain) and not HOW_TO.search(plain):
            return Reading("my_address", 1.0)
        spelled, guessed = self._corrected(plain)
        matches = self._faq_yields(self.search(spelled, guessed))
        best = matches[0] if matches else None
        procedure = next((m for m in matches if m.kind == "procedure"), None)
        # Names as written (no synonyms: a commune's name is not a word of the catalog).
        ward = self._ward(" ".join(words(fold(question))))
        if ward is not None and self._asks_desk(spelled, best, procedure):
            return Reading("ward_desk", 1.0, matches=matches, ward_code=ward)
        if best is None or best.confidence < THRESHOLD:
            offered = [m for m in matches if m.kind == "procedure"][:OFFERED]
            confidence = best.confidence if best else 0.0
            return Reading("none", confidence, matches=offered, ward_code=ward)
        return Reading(best.kind, best.confidence, matches=matches[:OFFERED], ward_code=ward)

    @staticmethod
    def _asks_desk(spelled: str, best: Match | None, procedure: Match | None) -> bool:
        """With a commune named: its desk is asked about when the question has words of a desk
        (or nothing else was understood) and no procedure is clearly asked about; or it asks
        where, when or how to reach, and the procedure is not asked about beyond doubt."""
        confidence = procedure.confidence if procedure else 0.0
        if confidence < THRESHOLD:
            return best is None or DESK.search(spelled) is not None
        return confidence < SURE and ASKS_WHERE.search(spelled) is not None

    @staticmethod
    def _faq_yields(matches: list[Match]) -> list[Match]:
        """An FAQ entry answers before a procedure only when it is clearly closer: its few
        words easily cover a question that is really about the procedure."""
        if len(matches) < 2 or matches[0].kind != "faq":
            return matches
        procedure = next((m for m in matches if m.kind == "procedure"), None)
        if procedure is None or matches[0].confidence - procedure.confidence >= FAQ_MARGIN:
            return matches
        return [procedure] + [m for m in matches if m is not procedure]

    def _corrected(self, spelled: str) -> tuple[str, set[str]]:
        """Words that are no Vietnamese syllable read as what was meant: telex leftovers
        decoded ("dduwowcj" → duoc), else the index's nearest word when one is a typing slip
        away (one edit or swap in a short word, two in a long one). Returns the text and the
        words found by nearness (they count half towards the confidence)."""
        known = self.known
        out, guessed = [], set()
        for word in words(spelled):
            if word in known or is_syllable(word) or len(word) < MIN_TYPO_LENGTH:
                out.append(word)
                continue
            plain = untelex(word)
            if plain in known or is_syllable(plain):
                out.append(plain)
                continue
            limit = 1 if len(word) <= 5 else 2
            found = process.extractOne(
                word, self.vocabulary, scorer=OSA.distance, score_cutoff=limit
            )
            if found is not None:
                out.append(found[0])
                guessed.add(found[0])
            else:
                out.append(word)
        return " ".join(out), guessed

    def _ward(self, spelled: str) -> int | None:
        padded = f" {spelled} "
        for name, code in self.wards:
            if f" {name} " in padded:
                return code
        return None

    def search(self, spelled: str, guessed: frozenset[str] | set[str] = frozenset()) -> list[Match]:
        """Procedures and FAQ entries by confidence, best first (those with a score)."""
        query = terms(spelled)
        if not query or not self.documents:
            return []
        scores = np.asarray(self.retriever.get_scores(query), dtype=float)
        order = [int(i) for i in np.argsort(-scores) if scores[i] > 0]
        if not order:
            return []
        # A word the index does not know weighs as its rarest word; a pair the index does not
        # know weighs nothing (its unknown word already counts).
        weights = {t: self.idf.get(t, 0.0 if "_" in t else self.unknown_idf) for t in query}
        # A word read through a typo counts half when found (the question may not have meant
        # it), and fully when missing.
        credit = {t: 0.5 if any(p in guessed for p in t.split("_")) else 1.0 for t in query}
        matches = []
        for rank, index in enumerate(order[:10]):
            runner_up = scores[order[rank + 1]] if rank + 1 < len(order) else 0.0
            matches.append(
                Match(
                    kind=self.documents[index]["kind"],
                    key=self.documents[index]["key"],
                    title=self.documents[index]["title"],
                    confidence=self._confidence(
                        weights,
                        credit,
                        self.title_sets[index],
                        self.term_sets[index],
                        scores[index] - runner_up,
                        scores[index],
                    ),
                )
            )
        matches.sort(key=lambda m: -m.confidence)
        return matches

    @staticmethod
    def _confidence(
        weights: dict[str, float],
        credit: dict[str, float],
        title: set[str],
        document: set[str],
        lead: float,
        score: float,
    ) -> float:
        """0–1: the rarity-weighted share of the question's words and word pairs the document
        has (in its name counts fully, elsewhere half), how much of its name the question
        says, and its lead over the next document."""
        total = sum(weights.values())
        if not total or score <= 0:
            return 0.0
        covered = sum(
            w * credit[t] * (1.0 if t in title else 0.5 if t in document else 0.0)
            for t, w in weights.items()
        )
        named = len(title & set(weights)) / len(title) if title else 0.0
        value = 0.75 * covered / total + 0.05 * lead / score + 0.20 * named
        return round(float(min(1.0, value)), 3)
