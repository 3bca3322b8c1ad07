"""Benchmark and evaluation of the virtual assistant over a held-out set of questions.

    .venv/bin/python bench/assistant_eval.py            # SQLite, in a temporary directory
    .venv/bin/python bench/assistant_eval.py --show-misses
    .venv/bin/python bench/assistant_eval.py --set tuning --show-misses   # the tuning set

The questions (bench/assistant_eval.jsonl) and the FAQ entries they ask about
(bench/assistant_faq.json) were written apart from the assistant's abbreviations and synonyms
(assistant/language.py) and are never used to tune them. The tuning set
(bench/assistant_tuning.jsonl, its FAQ entries in bench/assistant_tuning_faq.json), written
separately, is what the synonyms and the threshold are tuned against (``--set tuning``).

Setup: a fresh database (migrated), Lạng Sơn's communes (``load_admin_units --province 20``), the
demo catalog (``load_demo_procedures``), the FAQ entries, the index built once.

Figures:
- top-1 accuracy: the first answer is the expected procedure, FAQ entry, commune or intent;
- top-3 accuracy (procedure questions): the expected procedure is among the three offered;
- declined: the share of questions with no answer that the assistant declined;
- latency: ``assistant_ask`` (reading, answer, log) per question, p50 and p95, as a ratio
  against the floor measured in the same run: the bare BM25 scoring of the same question's
  terms (``bm25s`` ``get_scores``), what any retrieval must at least do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AIM = {"top1": 0.90, "top3": 0.98, "p95_ms": 50.0}


def _setup(tmp: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("DEBUG", "true")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    quiet = StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    call_command("load_admin_units", "--province", "20", stdout=quiet)
    call_command("load_demo_procedures", stdout=quiet)


SETS = {
    "eval": ("bench/assistant_eval.jsonl", "bench/assistant_faq.json"),
    "tuning": ("bench/assistant_tuning.jsonl", "bench/assistant_tuning_faq.json"),
}


def _seed_faq(path: str) -> dict[str, int]:
    from assistant.models import FaqEntry

    slugs = {}
    for entry in json.loads((ROOT / path).read_text(encoding="utf-8")):
        row = FaqEntry.objects.create(
            questions="\n".join(entry["questions"]), answer=entry["answer"]
        )
        slugs[entry["slug"]] = row.pk
    return slugs


def _correct(expect: dict, reading, faq_ids: dict[str, int]) -> tuple[bool, bool | None]:
    """(top-1 right, top-3 right for a procedure question else None)."""
    intent = expect["intent"]
    if intent == "procedure":
        codes = [m.key for m in reading.matches if m.kind == "procedure"]
        top1 = reading.intent == "procedure" and codes[:1] == [expect["procedure"]]
        return top1, expect["procedure"] in codes[:3]
    if intent == "faq":
        right = reading.intent == "faq" and reading.matches[0].key == str(faq_ids[expect["faq"]])
        return right, None
    if intent == "ward_desk":
        return reading.intent == "ward_desk" and reading.ward_code == int(expect["ward"]), None
    return reading.intent == intent, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--set", choices=sorted(SETS), default="eval")
    args = parser.parse_args()
    questions, faq = SETS[args.set]
    with tempfile.TemporaryDirectory() as tmp:
        _setup(tmp)
        from assistant.actions import assistant_ask
        from assistant.language import spell_out, terms
        from assistant.search_index import current_engine, search_index_rebuild

        faq_ids = _seed_faq(faq)
        search_index_rebuild()
        engine = current_engine()
        lines = (ROOT / questions).read_text(encoding="utf-8").splitlines()
        cases = [json.loads(line) for line in lines if line.strip()]
        for case in cases[:20]:  # warm up
            assistant_ask(question=case["q"], user=None)
        top1 = top3 = top3_n = declined = none_n = 0
        asks, floors, misses = [], [], []
        for case in cases:
            reading = engine.read(case["q"])
            ok1, ok3 = _correct(case["expect"], reading, faq_ids)
            top1 += ok1
            if ok3 is not None:
                top3_n += 1
                top3 += ok3
            if case["expect"]["intent"] == "none":
                none_n += 1
                declined += reading.intent == "none"
            if not ok1:
                misses.append((case, reading))
            query = terms(spell_out(case["q"]))
            if query:  # a question of only everyday words is not searched at all
                start = time.perf_counter()
                engine.retriever.get_scores(query)
                floors.append(time.perf_counter() - start)
            start = time.perf_counter()
            assistant_ask(question=case["q"], user=None)
            asks.append(time.perf_counter() - start)

        def p(values: list[float], q: float) -> float:
            return statistics.quantiles(values, n=100)[int(q) - 1] * 1000

        n = len(cases)
        print(f"questions: {n} ({top3_n} about a procedure, {none_n} with no answer)")
        print(f"top-1 accuracy: {top1 / n:.1%}  (aim {AIM['top1']:.0%})")
        print(f"top-3 accuracy (procedures): {top3 / top3_n:.1%}  (aim {AIM['top3']:.0%})")
        print(f"no-answer questions declined: {declined / none_n:.1%}")
        ask50, ask95, floor95 = p(asks, 50), p(asks, 95), p(floors, 95)
        print(
            f"latency of assistant_ask: p50 {ask50:.1f} ms, p95 {ask95:.1f} ms "
            f"(aim {AIM['p95_ms']:.0f} ms); floor (bare BM25 scoring) p95 {floor95:.2f} ms; "
            f"p95 ratio {ask95 / floor95:.0f} × the floor"
        )
        if args.show_misses:
            for case, reading in misses:
                got = [(m.key, m.confidence) for m in reading.matches[:3]]
                print(f"  MISS {case['q']!r} expect {case['expect']} got {reading.intent} {got}")


if __name__ == "__main__":
    main()
