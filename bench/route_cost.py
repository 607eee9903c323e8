"""What `route` costs on /api/search: p50 and p95 with and without it, through a real `kb serve`, in one run.

    python bench/route_cost.py            # indexes kb/ into a temporary folder first
    python bench/route_cost.py --index .kb-index --count 200 --json

One `kb serve` as shipped (one worker, so both variants meet the same process and caches) answers each
question twice, once with the routes (the default) and once with `route=0`. Every question is distinct (the
golden, routing and cross-language questions, their first halves, then numbered variants). The second ask
of a question finds its vector cached, so the variant that goes first alternates from question to question:
each variant is asked first for half of them, and machine noise hits both alike. Replies are left out
(`replies=0`) to compare routing with the search itself. Since that difference is small against the noise of
a busy machine, the routing step alone (analysing the question and routing five results' articles) is
timed in-process too, on the same questions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _index import given_or_built  # noqa: E402
from _server import search_url, serve, stop  # noqa: E402
from _stats import percentile  # noqa: E402

from indexer.retrieval.evaluation import load_questions  # noqa: E402
from indexer.routing.golden import load_routing_questions  # noqa: E402
from indexer.store import IndexRoot  # noqa: E402

# Results routed per question in the in-process measure: /api/search's default k.
ROUTED_RESULTS = 5


def distinct_questions(count: int) -> list[str]:
    """`count` different questions: golden ones, their first halves, then numbered variants of them."""
    tests = ROOT / "tests"
    base = [q.question for name in ("golden_questions.yaml", "golden_cross_language.yaml")
            for q in load_questions(tests / name)]
    base += [q.question for q in load_routing_questions(tests / "golden_routing.yaml")]
    pool = list(dict.fromkeys(base + [" ".join(q.split()[: max(1, len(q.split()) // 2)]) for q in base]))
    asked, round_number = [], 0
    while len(asked) < count:
        for question in pool:
            asked.append(question if round_number == 0 else f"{question} ({round_number + 1})")
            if len(asked) == count:
                break
        round_number += 1
    return asked


def routing_step_ms(index_dir: Path, questions: list[str]) -> list[float]:
    """Milliseconds per question of what `route` adds inside a search: analyse it, route five articles."""
    version = IndexRoot(index_dir).open_current()
    router = version.router
    articles = [{"owner": row["owner"], "category": row["category"], "products": json.loads(row["products"]),
                 "tags": json.loads(row["tags"])} for row in version.articles()]
    timings = []
    for number, question in enumerate(questions):
        began = time.perf_counter()
        analysis = router.analyse(question)
        router.urgent(analysis, "nb")
        for offset in range(ROUTED_RESULTS):
            router.route(analysis, articles[(number + offset) % len(articles)], "nb")
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def timed_get(url: str) -> tuple[float, int]:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback only
        response.read()
        status = response.status
    return (time.perf_counter() - began) * 1000, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--index", type=Path, default=None, help="Use this index instead of building one.")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    index_dir = given_or_built(args.index, args.kb, "kb-route-cost-")
    questions = distinct_questions(args.count)
    process, base = serve(index_dir, workers=1)
    try:
        for warm_up in ("warm up", "oppvarming"):
            timed_get(search_url(base, warm_up, replies="0"))
        timings = {"with route": [], "route=0": []}
        failures = 0
        for number, question in enumerate(questions):
            variants = [("with route", {}), ("route=0", {"route": "0"})]
            for name, extra in variants if number % 2 == 0 else reversed(variants):
                elapsed, status = timed_get(search_url(base, question, replies="0", **extra))
                timings[name].append(elapsed)
                failures += status != 200
    finally:
        stop(process)
    summary = {
        "questions": args.count, "failures": failures, "index": str(index_dir),
        "variants": {name: {"p50_ms": round(statistics.median(values), 2),
                            "p95_ms": round(percentile(values, 0.95), 2)} for name, values in timings.items()},
    }
    with_route, without = summary["variants"]["with route"], summary["variants"]["route=0"]
    summary["route_adds_ms"] = {"p50": round(with_route["p50_ms"] - without["p50_ms"], 2),
                                "p95": round(with_route["p95_ms"] - without["p95_ms"], 2)}
    summary["p95_ratio"] = round(with_route["p95_ms"] / without["p95_ms"], 3)
    step = routing_step_ms(index_dir, questions)
    summary["routing_step_ms"] = {"p50": round(statistics.median(step), 3), "p95": round(percentile(step, 0.95), 3)}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"/api/search through kb serve (1 worker), {args.count} distinct questions per variant, {failures} failures")
    for name, row in summary["variants"].items():
        print(f"  {name:<12} p50 {row['p50_ms']:7.2f} ms   p95 {row['p95_ms']:7.2f} ms")
    added = summary["route_adds_ms"]
    print(f"  route adds p50 {added['p50']:+.2f} ms, p95 {added['p95']:+.2f} ms (p95 ratio {summary['p95_ratio']})")
    step = summary["routing_step_ms"]
    print(f"  the routing step alone, in-process: p50 {step['p50']:.3f} ms, p95 {step['p95']:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
