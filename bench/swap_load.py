"""Load on a real `kb serve` while new index versions are published: failures and latency, in one run.

    python bench/swap_load.py                        # sample KB, 20 clients, 60 s, 10 swaps
    python bench/swap_load.py --clients 20 --seconds 60 --swaps 10 --workers 2

Loopback only, bounded in clients and time. The first part of the run has no swaps (steady state);
then an article is changed and the index rebuilt `--swaps` times while the clients keep asking.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import get_json, search_url, serve, stop  # noqa: E402
from _stats import percentile  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.ingest.builder import build_index  # noqa: E402
from indexer.retrieval.evaluation import load_questions  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--swaps", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-replies", action="store_true", help="Ask without reply suggestions (replies=0).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    extra = {"replies": "0"} if args.no_replies else {}
    clients = min(args.clients, 64)
    seconds = min(args.seconds, 600)

    work = Path(tempfile.mkdtemp(prefix="kb-swap-"))
    kb = work / "kb"
    shutil.copytree(args.kb, kb)
    settings = Settings.from_env(kb_dir=kb, index_dir=work / "index")
    build_index(settings)
    questions = [q.question for q in load_questions(ROOT / "tests" / "golden_questions.yaml")]
    server, base = serve(settings.index_dir, args.workers)

    records: list[tuple[float, float, int, str]] = []
    lock = threading.Lock()
    began = time.monotonic()
    deadline = began + seconds

    def client(number: int) -> None:
        n = number
        while time.monotonic() < deadline:
            question = questions[n % len(questions)]
            n += clients
            start = time.monotonic()
            try:
                status, payload = get_json(search_url(base, question, k=5, **extra))
            except OSError:
                status, payload = 0, {}
            with lock:
                records.append((start - began, (time.monotonic() - start) * 1000, status,
                                payload.get("index_version", "")))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    steady_until = seconds / 3
    time.sleep(steady_until)
    swap_times = []
    target = sorted(kb.rglob("*.md"))[0]
    original = target.read_text(encoding="utf-8")
    gap = (seconds - steady_until - 5) / max(1, args.swaps)
    for n in range(args.swaps):
        target.write_text(original + f"\n\nOppdatering nummer {n}.\n", encoding="utf-8")
        swap_times.append(time.monotonic() - began)
        build_index(settings)
        time.sleep(max(0.0, gap - (time.monotonic() - began - swap_times[-1])))
    for thread in threads:
        thread.join()
    stop(server)

    steady = [ms for at, ms, status, _ in records if at < steady_until and status == 200]
    swapping = [ms for at, ms, status, _ in records if at >= steady_until and status == 200]
    failures = [status for _, _, status, _ in records if status != 200]
    summary = {
        "clients": clients, "seconds": seconds, "workers": args.workers, "swaps": args.swaps,
        "requests": len(records), "failed": len(failures), "versions_seen": len({v for *_, v in records if v}),
        "requests_per_second": round(len(records) / seconds, 1),
        "steady": {"p50_ms": round(statistics.median(steady), 1), "p95_ms": round(percentile(steady, 0.95), 1)},
        "during_swaps": {"p50_ms": round(statistics.median(swapping), 1),
                         "p95_ms": round(percentile(swapping, 0.95), 1)},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['requests']:,} requests from {clients} clients in {seconds:.0f} s "
              f"({summary['requests_per_second']}/s), {args.swaps} swaps, {len(failures)} failed, "
              f"{summary['versions_seen']} index versions served")
        print(f"  steady:       p50 {summary['steady']['p50_ms']} ms, p95 {summary['steady']['p95_ms']} ms")
        print(f"  during swaps: p50 {summary['during_swaps']['p50_ms']} ms, "
              f"p95 {summary['during_swaps']['p95_ms']} ms")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
