"""Latency of /api/search in-process over 200 varied questions: hybrid, dense-only, and hybrid with replies.

    python bench/search_latency.py            # indexes kb/ into a temporary folder first
    python bench/search_latency.py --index .kb-index --json

Questions: the golden files' questions, their first halves (what an agent has typed so far), single
words and codes. Each question runs once per variant, variants interleaved so machine noise hits all
alike. "hybrid" and "dense" ask for no reply suggestions (replies=0) and are written to a query log in a
temporary folder; "hybrid, not logged" is the same on an app with the log switched off. "hybrid+replies"
is what the page and a default /api/search call do: templates, or extracts chosen by comparing the stored
sentence vectors with the question's; a second round of it shows the cost once the cache holds the
questions' vectors. Each variant has an app of its own, so
none answers from another's caches; the question pool repeats some questions, as agents do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _index import given_or_built  # noqa: E402
from _stats import percentile  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.retrieval.evaluation import load_questions  # noqa: E402
from webapp import create_app  # noqa: E402

EXTRA = [
    "angrerett", "reklamasjon", "E-101", "E24", "AU55-Q4", "KM-700", "RS-300", "Hub-1", "BT-20", "faktura",
    "gavekort", "refund", "tracking", "password", "GDPR", "org.nr", "FH-2045581", "SR-318204", "Vipps",
    "Klikk og hent", "purregebyr 35 kr", "Svalbard", "levering", "invoice overdue", "parcel lost",
]
VARIANTS = {
    "hybrid": {"mode": "hybrid", "replies": "0"},
    "hybrid, not logged": {"mode": "hybrid", "replies": "0"},
    "dense": {"mode": "dense", "replies": "0"},
    "hybrid+replies": {"mode": "hybrid"},
}


def questions(count: int) -> list[str]:
    """`count` varied questions: full, half-typed, and one-word or code lookups."""
    golden = [q.question for path in ("golden_questions.yaml", "golden_cross_language.yaml")
              for q in load_questions(ROOT / "tests" / path)]
    halves = [" ".join(q.split()[: max(1, len(q.split()) // 2)]) for q in golden]
    pool = golden + halves + EXTRA
    return [pool[i % len(pool)] for i in range(count)]



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--index", type=Path, default=None, help="Use this index instead of building one.")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    index_dir = given_or_built(args.index, args.kb, "kb-latency-")
    # One app per variant, so no variant answers from another's cache of question vectors.
    log_dir = Path(tempfile.mkdtemp(prefix="kb-latency-log-"))
    clients = {
        name: create_app(Settings.from_env(index_dir=index_dir, feedback=name != "hybrid, not logged",
                                           feedback_db=str(log_dir / f"feedback-{number}.sqlite")),
                         {"WARM_UP": True}).test_client()
        for number, name in enumerate(VARIANTS)
    }
    asked = questions(args.count)
    for client in clients.values():
        for warm_up in ("warm up", "oppvarming"):
            client.get("/api/search", query_string={"q": warm_up, "replies": "0"})

    timings: dict[str, list[float]] = {name: [] for name in VARIANTS}
    failures = 0
    for question in asked:
        for name, params in VARIANTS.items():
            began = time.perf_counter()
            response = clients[name].get("/api/search", query_string={"q": question, **params})
            timings[name].append((time.perf_counter() - began) * 1000)
            failures += response.status_code != 200
    # The same questions again: their vectors come from the cache, as for an agent's common questions.
    timings["hybrid+replies, repeated"] = []
    for question in asked:
        began = time.perf_counter()
        response = clients["hybrid+replies"].get("/api/search",
                                                 query_string={"q": question, **VARIANTS["hybrid+replies"]})
        timings["hybrid+replies, repeated"].append((time.perf_counter() - began) * 1000)
        failures += response.status_code != 200
    summary = {
        "questions": len(asked), "failures": failures, "index": str(index_dir),
        "variants": {
            name: {"p50_ms": round(statistics.median(values), 2), "p95_ms": round(percentile(values, 0.95), 2),
                   "max_ms": round(max(values), 2)}
            for name, values in timings.items()
        },
    }
    variants = summary["variants"]
    summary["p95_ratio_hybrid_to_dense"] = round(variants["hybrid"]["p95_ms"] / variants["dense"]["p95_ms"], 2)
    summary["logging_added_ms"] = {
        "p50": round(variants["hybrid"]["p50_ms"] - variants["hybrid, not logged"]["p50_ms"], 2),
        "p95": round(variants["hybrid"]["p95_ms"] - variants["hybrid, not logged"]["p95_ms"], 2),
    }
    summary["replies_added_ms"] = {
        "p50": round(variants["hybrid+replies"]["p50_ms"] - variants["hybrid"]["p50_ms"], 2),
        "p95": round(variants["hybrid+replies"]["p95_ms"] - variants["hybrid"]["p95_ms"], 2),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"/api/search in-process, {len(asked)} questions per variant, {failures} failures")
        for name, row in variants.items():
            print(f"  {name:<24} p50 {row['p50_ms']:6.2f} ms   p95 {row['p95_ms']:6.2f} ms"
                  f"   max {row['max_ms']:6.2f} ms")
        print(f"  hybrid p95 / dense p95 = {summary['p95_ratio_hybrid_to_dense']}")
        added = summary["replies_added_ms"]
        print(f"  replies add p50 {added['p50']:+.2f} ms, p95 {added['p95']:+.2f} ms")
        added = summary["logging_added_ms"]
        print(f"  logging adds p50 {added['p50']:+.2f} ms, p95 {added['p95']:+.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
