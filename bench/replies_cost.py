"""What reply suggestions cost a search, through HTTP: `kb serve` with replies on (the page's default) against
replies off, each question asked once of each, in the same run.

    OMP_NUM_THREADS=1 python bench/replies_cost.py --index /path/to/index --count 200

Two servers run side by side, one per variant (one worker each), so neither answers from the other's
caches, and every question is new to both. Questions: the agent questions of bench/agent_questions*.yaml,
then the index's article titles and headings as an agent would type them (lower case), all distinct. Printed per
variant: wall p50/p95 over one client, and the server's CPU per request (which the load does not inflate);
then the ratio replies-on p95 / replies-off p95 (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from _questions import distinct_questions  # noqa: E402
from _server import get_json, search_url, serve, stop  # noqa: E402
from _stats import load_average, percentile, process_cpu_ms  # noqa: E402

VARIANTS = {"replies on": {}, "replies off": {"replies": "0"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    asked = distinct_questions(args.index, args.count)
    servers = {name: serve(args.index, workers=1) for name in VARIANTS}
    try:
        for _, base in servers.values():
            get_json(search_url(base, "warm up", replies="0"))
        wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
        cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
        failures = 0
        load_before = load_average()
        for question in asked:
            for name, params in VARIANTS.items():
                process, base = servers[name]
                cpu_before = process_cpu_ms(process.pid)
                began = time.perf_counter()
                status, _ = get_json(search_url(base, question, k=args.k, **params))
                wall[name].append((time.perf_counter() - began) * 1000)
                cpu[name].append(process_cpu_ms(process.pid) - cpu_before)
                failures += status != 200
        load_after = load_average()
    finally:
        for process, _ in servers.values():
            stop(process)

    summary = {
        "index": str(args.index), "questions": len(asked), "k": args.k, "failures": failures,
        "load": {"before": load_before, "after": load_after},
        "variants": {name: {"p50_ms": round(statistics.median(wall[name]), 1),
                            "p95_ms": round(percentile(wall[name], 0.95), 1),
                            "cpu_p50_ms": round(statistics.median(cpu[name]), 1),
                            "cpu_p95_ms": round(percentile(cpu[name], 0.95), 1)} for name in VARIANTS},
    }
    on, off = summary["variants"]["replies on"], summary["variants"]["replies off"]
    summary["p95_ratio"] = round(on["p95_ms"] / off["p95_ms"], 2)
    summary["cpu_p95_ratio"] = round(on["cpu_p95_ms"] / off["cpu_p95_ms"], 2)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"/api/search through kb serve, {len(asked)} distinct questions, k={args.k}, {failures} failures")
    print(f"  {load_before} before, {load_after} after")
    for name, row in summary["variants"].items():
        print(f"  {name:<12} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms"
              f"   server CPU p50 {row['cpu_p50_ms']:6.1f} ms  p95 {row['cpu_p95_ms']:6.1f} ms")
    print(f"  replies on / off: p95 {summary['p95_ratio']}, server CPU p95 {summary['cpu_p95_ratio']} (target ≤ 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
