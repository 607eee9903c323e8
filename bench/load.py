"""Load through `kb serve` as shipped: concurrent keep-alive clients asking distinct questions over loopback,
against the bare floor (encoder + FAISS + bm25s in one process, no HTTP) in the same run.

    OMP_NUM_THREADS=1 nice -n 5 python bench/load.py --index /path/to/index [--clients 1,8,16] [--seconds 20]

One `kb serve` (the real CLI, gunicorn, `--workers` workers) answers every level. Per level of concurrent
clients, with replies on (the page's default) and with `replies=0`: each client holds one http.client
keep-alive connection and asks the next question of one shared pool, so no question is asked twice in the
run and no cache answers it (the agent questions of bench/agent_questions*.yaml, then the index's titles
and headings, lower-cased). A level runs for `--seconds` or its share of the pool, whichever ends first.
Printed per level: requests/s, p50/p95/p99, errors, the server's CPU per request (all its processes, from
the scheduler) and the load average after it; the PSS of the master and of each worker after the levels;
then the floor, run after the first level with the server idle, over the questions that level asked with
replies on, one at a time: the question embedded (embed_queries), the index's own FAISS search and bm25s
search for as many candidates as a search asks, p50/p95, and server p95 / floor p95 at one client for both
variants.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from _questions import distinct_questions  # noqa: E402
from _server import serve, stop  # noqa: E402
from _stats import load_average, percentile, process_cpu_ms, process_memory, worker_memory  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.embedding import embedder_for  # noqa: E402
from indexer.retrieval.search import CANDIDATES_PER_RESULT, MIN_CANDIDATES  # noqa: E402
from indexer.store import IndexRoot  # noqa: E402
from indexer.text.lexical import ANALYZER  # noqa: E402
from indexer.vocabulary import LANGUAGES  # noqa: E402

VARIANTS = {"replies on": {}, "replies off": {"replies": "0"}}
WARM_UP_PER_WORKER = 8


class Pool:
    """The run's questions, each handed out once, `quota` at most per level."""

    def __init__(self, questions: list[str]):
        self._questions = iter(questions)
        self._lock = threading.Lock()
        self.left = 0

    def next(self) -> str | None:
        with self._lock:
            if self.left <= 0:
                return None
            self.left -= 1
            return next(self._questions, None)


def level(base: str, clients: int, seconds: float, pool: Pool, params: dict, k: int) -> dict:
    """`clients` threads on keep-alive connections for `seconds` or until the pool's quota is spent."""
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    records: list[tuple[str, float, bool]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while time.monotonic() < deadline:
            question = pool.next()
            if question is None:
                break
            path = "/api/search?" + urllib.parse.urlencode({"q": question, "k": k, **params})
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and json.loads(body).get("ok", False)
            except (OSError, http.client.HTTPException, ValueError):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
            with lock:
                records.append((question, (time.perf_counter() - began) * 1000, ok))
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies = [ms for _, ms, _ in records]
    return {"clients": clients, "requests": len(records), "seconds": round(elapsed, 2),
            "requests_per_s": round(len(records) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else float("nan"),
            "p95_ms": round(percentile(latencies, 0.95), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "errors": sum(not ok for _, _, ok in records), "asked": [question for question, _, _ in records]}


def floor(index_dir: Path, asked: list[str], k: int) -> dict:
    """The bare search in this process: embed the question, FAISS and bm25s over the index's own objects."""
    settings = Settings.from_env(index_dir=index_dir)
    embedder = embedder_for(settings)
    version = IndexRoot(index_dir).open_current()
    wanted = max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT)
    embedder.embed_queries(["warm up"])
    timings = []
    for question in asked:
        began = time.perf_counter()
        vector = embedder.embed_queries([question])[0]
        version.search(vector, wanted)
        version.lexical.search([(ANALYZER.query_terms(question, LANGUAGES), 1.0)], wanted)
        timings.append((time.perf_counter() - began) * 1000)
    version.close()
    return {"questions": len(timings), "candidates": wanted, "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(percentile(timings, 0.95), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--clients", default="1,8,16", help="concurrent clients per level, comma-separated")
    parser.add_argument("--seconds", type=float, default=20, help="at most this long per level and variant")
    parser.add_argument("--count", type=int, default=None,
                        help="at most this many requests per level and variant (default: the pool's share)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="KB_THREADS for kb serve (default: its own)")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    levels = [int(part) for part in args.clients.split(",") if part.strip()]

    questions = distinct_questions(args.index)
    # The last few, asked concurrently before the levels, warm every worker up; they are not asked again.
    warm, questions = questions[-WARM_UP_PER_WORKER * args.workers:], questions[: -WARM_UP_PER_WORKER * args.workers]
    share = len(questions) // (len(levels) * len(VARIANTS))
    quota = min(args.count, share) if args.count else share
    pool = Pool(questions)
    summary: dict = {"index": str(args.index), "k": args.k, "workers": args.workers, "questions": len(questions),
                     "quota_per_level": quota, "load_before": load_average(), "levels": []}
    began = time.perf_counter()
    env = {"KB_THREADS": str(args.threads)} if args.threads else None
    process, base = serve(args.index, workers=args.workers, env=env)
    summary["start_seconds"] = round(time.perf_counter() - began, 2)
    try:
        warming = Pool(warm)
        warming.left = len(warm)
        level(base, args.workers * 2, 60, warming, {}, args.k)
        one_client: dict[str, list[str]] = {}
        for clients in levels:
            for name, params in VARIANTS.items():
                pool.left = quota
                cpu_before = process_cpu_ms(process.pid)
                row = level(base, clients, args.seconds, pool, params, args.k)
                spent = process_cpu_ms(process.pid) - cpu_before
                row["cpu_ms_per_request"] = round(spent / max(1, row["requests"]), 1)
                row["variant"], row["load"] = name, load_average()
                asked = row.pop("asked")
                if clients == levels[0]:
                    one_client.setdefault(name, asked)
                summary["levels"].append(row)
            if "floor" not in summary:
                # Next to the one-client levels, with the server idle, so the ratio compares like moments.
                summary["floor"] = floor(args.index, one_client.get("replies on", []), args.k)
                summary["floor"]["load"] = load_average()
        # After every level, so every worker has loaded the model and answered.
        summary["memory"] = {"master": process_memory(process.pid), "workers": worker_memory(process.pid)}
    finally:
        stop(process)

    first = {row["variant"]: row for row in summary["levels"] if row["clients"] == levels[0]}
    summary["ratio_p95_to_floor"] = {name: round(row["p95_ms"] / summary["floor"]["p95_ms"], 2)
                                     for name, row in first.items()}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    threads = f" --threads {args.threads}" if args.threads else ""
    print(f"kb serve --workers {args.workers}{threads} on {args.index}: {len(questions)} distinct questions, "
          f"at most {quota} per level, k={args.k}, up {summary['start_seconds']} s after start; "
          f"{summary['load_before']} before")
    for row in summary["levels"]:
        print(f"  {row['clients']:>3} clients {row['variant']:<11} {row['requests_per_s']:7.1f} req/s "
              f"({row['requests']} in {row['seconds']} s)  p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  "
              f"p99 {row['p99_ms']:7.1f} ms  errors {row['errors']}  server CPU {row['cpu_ms_per_request']:.1f} "
              f"ms/request  {row['load']}")
    memory = summary["memory"]
    workers = ", ".join(f"{w['pss_mb']:.0f} MB (file-backed {w['pss_file_mb']:.0f}, anonymous {w['pss_anon_mb']:.0f})"
                        for w in memory["workers"])
    print(f"  PSS after the levels: master {memory['master']['pss_mb']:.0f} MB; workers {workers}")
    found = summary["floor"]
    print(f"  floor (embed + FAISS + bm25s, {found['candidates']} candidates, no HTTP) over the {found['questions']} "
          f"questions of {levels[0]} client(s): p50 {found['p50_ms']} ms, p95 {found['p95_ms']} ms  {found['load']}")
    for name, ratio in summary["ratio_p95_to_floor"].items():
        print(f"  server p95 / floor p95 at {levels[0]} client(s), {name}: {ratio} (target ≤ 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
