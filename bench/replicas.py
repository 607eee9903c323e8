"""Replicas behind haproxy with one PostgreSQL query log: throughput, the cost of logging, and three faults.

    python bench/replicas.py                   # sample KB; about six minutes on a 2-core machine
    python bench/replicas.py --seconds 15 --clients 6 --json
    python bench/replicas.py --parts throughput,logging

Loopback only, bounded in clients and time. It starts its own PostgreSQL (Debian's, in a temporary
directory) and haproxy with deploy/haproxy.cfg as shipped, and `kb serve` replicas of one worker each:

1. throughput: requests/s and p95 of /api/search, one replica asked directly against two behind haproxy,
   the same clients and questions, in alternating rounds; the ratio says what a second core (or machine)
   buys;
2. logging: /api/search p95 of three single servers, logging to SQLite, to PostgreSQL and not at all,
   asked the same questions one at a time, interleaved so machine noise hits all alike;
3. faults, each under load through haproxy: PostgreSQL stopped for a third of the run (searches must all
   answer; ratings 201 or 503, and every 201 must be in the database afterwards); one replica killed
   (failed requests, and failed requests once its health checks had it out); ten index swaps published
   into the shared index directory (failed requests, and how long each took to be served by both replicas,
   against the time copying the version to a second directory would add).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import get_json, search_url, serve, stop  # noqa: E402
from _stats import percentile  # noqa: E402
from search_latency import questions  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.ingest.builder import build_index  # noqa: E402
from indexer.store import IndexRoot  # noqa: E402
from tests.services import LoadBalancer, PostgresServer, kill_tree  # noqa: E402

# Health checks 1 s apart and two failures to take a replica out (deploy/haproxy.cfg), plus slack.
HEALTH_CHECK_SECONDS = 2.5
# Ratings are limited to 30 a minute per client, and every load client here is one loopback address.
RATING_INTERVAL_SECONDS = 2.5
# Rounds each configuration's load time is split into, the two taking turns.
THROUGHPUT_ROUNDS = 4
PARTS = ("throughput", "logging", "postgres_stopped", "replica_killed", "index_swaps")


class Load:
    """`clients` threads asking distinct questions through `base` until stopped; every answer recorded."""

    def __init__(self, base: str, clients: int, pool: list[str]):
        self.base, self.pool = base, pool
        self.records: list[tuple[float, float, int]] = []  # (start, seconds, status)
        self.lock = threading.Lock()
        self.running = True
        self.began = time.monotonic()
        self.threads = [threading.Thread(target=self._client, args=(n, clients), daemon=True) for n in range(clients)]
        for thread in self.threads:
            thread.start()

    def _client(self, number: int, clients: int) -> None:
        index = number
        while self.running:
            question = self.pool[index % len(self.pool)]
            index += clients
            start = time.monotonic()
            try:
                status, _ = get_json(search_url(self.base, question, k=3), timeout=30)
            except OSError:
                status = 0
            with self.lock:
                self.records.append((start - self.began, time.monotonic() - start, status))

    def stop(self) -> list[tuple[float, float, int]]:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=60)
        return self.records


def summary(records, seconds: float) -> dict:
    ok = [elapsed for _, elapsed, status in records if status == 200]
    return {"requests": len(records), "failed": len(records) - len(ok), "requests_per_s": round(len(ok) / seconds, 1),
            "p50_ms": round(percentile(ok, 0.5) * 1000, 1), "p95_ms": round(percentile(ok, 0.95) * 1000, 1)}


def timed_load(base: str, clients: int, seconds: float, pool: list[str]) -> dict:
    load = Load(base, clients, pool)
    time.sleep(seconds)
    return summary(load.stop(), seconds)


@contextlib.contextmanager
def replicas(index_dir: Path, count: int, env: dict, work: Path):
    """`count` one-worker replicas and haproxy in front of them (a single replica is asked directly)."""
    started = [serve(index_dir, workers=1, env=env) for _ in range(count)]
    balancer = None
    try:
        if count > 1:
            balancer = LoadBalancer([base for _, base in started], work / "haproxy.log")
            time.sleep(HEALTH_CHECK_SECONDS)
        yield (balancer.base if balancer else started[0][1]), started
    finally:
        if balancer:
            balancer.close()
        for process, _ in started:
            stop(process)


def throughput(index_dir, env, work, clients, seconds, pool) -> dict:
    """The same two replicas asked in alternating rounds: replica 1 directly, then both through haproxy, so a
    change in the machine's other load hits both alike."""
    records = {"1 replica": [], "2 replicas": []}
    with replicas(index_dir, 2, env, work) as (balanced, started):
        timed_load(balanced, clients, 3, pool)  # warm both replicas' caches and connections alike
        for _ in range(THROUGHPUT_ROUNDS):
            for name, base in (("1 replica", started[0][1]), ("2 replicas", balanced)):
                load = Load(base, clients, pool)
                time.sleep(seconds / THROUGHPUT_ROUNDS)
                records[name].extend(load.stop())
    results = {name: summary(found, seconds) for name, found in records.items()}
    one, two = results["1 replica"], results["2 replicas"]
    results["requests_per_s_ratio"] = round(two["requests_per_s"] / one["requests_per_s"], 2)
    return results


def logging_cost(index_dir, targets: dict, count: int) -> dict:
    servers = {name: serve(index_dir, workers=1, env=env) for name, env in targets.items()}
    timings = {name: [] for name in servers}
    try:
        for question in questions(count):
            for name, (_, base) in servers.items():
                start = time.perf_counter()
                status, _ = get_json(search_url(base, question, k=5, replies="0"))
                assert status == 200, (name, status)
                timings[name].append(time.perf_counter() - start)
    finally:
        for process, _ in servers.values():
            stop(process)
    result = {name: {"p50_ms": round(statistics.median(values) * 1000, 1),
                     "p95_ms": round(percentile(values, 0.95) * 1000, 1)} for name, values in timings.items()}
    result["p95_postgresql_minus_sqlite_ms"] = round(result["postgresql"]["p95_ms"] - result["sqlite"]["p95_ms"], 1)
    return result


def post_json(url: str, body: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def postgres_stopped(index_dir, postgres, clients, seconds, pool, work) -> dict:
    import psycopg

    url = postgres.new_database()
    with replicas(index_dir, 2, {"KB_FEEDBACK_DB": url}, work) as (base, _):
        load = Load(base, clients, pool)
        ratings: list[tuple[float, int]] = []
        running = True

        def rate():
            while running:
                moment = time.monotonic() - load.began
                status, body = get_json(search_url(base, "hvor lenge er angreretten", k=1, replies="0"))
                if status == 200 and body.get("results"):
                    result = body["results"][0]
                    status = post_json(base + "/api/feedback", {"index_version": body["index_version"],
                                                                "passage_id": result["passage_id"], "rating": "helped"})
                ratings.append((moment, status))
                time.sleep(RATING_INTERVAL_SECONDS)

        rater = threading.Thread(target=rate, daemon=True)
        rater.start()
        time.sleep(seconds / 3)
        postgres.stop()
        stopped_at = time.monotonic() - load.began
        time.sleep(seconds / 3)
        postgres.start()
        started_at = time.monotonic() - load.began
        time.sleep(seconds / 3)
        running = False
        rater.join(timeout=60)
        records = load.stop()
    with psycopg.connect(url) as connection:
        stored = connection.execute("SELECT count(*) FROM feedback").fetchone()[0]
    statuses = [status for _, status in ratings]
    during = [status for moment, _, status in records if stopped_at <= moment < started_at]
    return {"searches": summary(records, seconds), "searches_while_stopped": len(during),
            "searches_failed_while_stopped": sum(status != 200 for status in during),
            "ratings": {str(code): statuses.count(code) for code in sorted(set(statuses))},
            "ratings_accepted": statuses.count(201), "ratings_in_database": stored}


def replica_killed(index_dir, env, clients, seconds, pool, work) -> dict:
    with replicas(index_dir, 2, env, work) as (base, started):
        load = Load(base, clients, pool)
        time.sleep(seconds / 3)
        kill_tree(started[0][0].pid)
        killed_at = time.monotonic() - load.began
        time.sleep(seconds * 2 / 3)
        records = load.stop()
    after_checks = [status for moment, _, status in records if moment >= killed_at + HEALTH_CHECK_SECONDS]
    around = [status for moment, _, status in records if killed_at <= moment < killed_at + HEALTH_CHECK_SECONDS]
    return {"requests": summary(records, seconds), "failed_before_the_health_checks": sum(s != 200 for s in around),
            "failed_after_the_health_checks": sum(s != 200 for s in after_checks),
            "requests_after_the_health_checks": len(after_checks)}


def index_swaps(settings, env, clients, pool, work, swaps: int) -> dict:
    article = next(settings.kb_dir.rglob("angrerett*.md"))
    original = article.read_text(encoding="utf-8")
    lags, copies = [], []
    root = IndexRoot(settings.index_dir)
    with replicas(settings.index_dir, 2, env, work) as (base, started):
        load = Load(base, clients, pool)
        for number in range(swaps):
            article.write_text(original + f"\n\nEndret for publisering nummer {number + 1}.\n", encoding="utf-8")
            build_index(settings)
            published, version = time.monotonic(), root.current_version()
            waiting = {replica for _, replica in started}
            while waiting and time.monotonic() - published < 60:
                waiting = {replica for replica in waiting
                           if get_json(replica + "/api/health")[1].get("index", {}).get("version") != version}
                time.sleep(0.05)
            lags.append(time.monotonic() - published)
            # What syncing instead of sharing would add before a second machine could switch.
            start = time.monotonic()
            shutil.copytree(root.version_dir(version), work / "synced" / version)
            copies.append(time.monotonic() - start)
        records = load.stop()
    article.write_text(original, encoding="utf-8")
    size = sum(path.stat().st_size for path in root.version_dir(root.current_version()).rglob("*") if path.is_file())
    return {"swaps": swaps, "requests": summary(records, records[-1][0] if records else 1),
            "served_by_both_after_publish_s": {"median": round(statistics.median(lags), 2), "max": round(max(lags), 2)},
            "copy_one_version_s": {"median": round(statistics.median(copies), 3), "max": round(max(copies), 3)},
            "version_mb": round(size / 1e6, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=15, help="Length of each load run (at most 120).")
    parser.add_argument("--questions", type=int, default=150, help="Questions per server for the logging cost.")
    parser.add_argument("--swaps", type=int, default=10)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"Comma-separated, of: {', '.join(PARTS)}.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    parts = [part for part in args.parts.split(",") if part in PARTS]
    clients, seconds = min(args.clients, 32), min(args.seconds, 120)

    work = Path(tempfile.mkdtemp(prefix="kb-replicas-"))
    kb = work / "kb"
    shutil.copytree(args.kb, kb)
    settings = Settings.from_env(kb_dir=kb, index_dir=work / "index")
    build_index(settings)
    pool = questions(400)
    postgres = PostgresServer(durable=True)
    try:
        shared = {"KB_FEEDBACK_DB": postgres.new_database()}
        runs = {
            "throughput": lambda: throughput(settings.index_dir, shared, work, clients, seconds, pool),
            "logging": lambda: logging_cost(settings.index_dir, {
                "sqlite": {"KB_FEEDBACK_DB": str(work / "feedback.sqlite")},
                "postgresql": {"KB_FEEDBACK_DB": postgres.new_database()},
                "not logged": {"KB_FEEDBACK": "0"}}, args.questions),
            "postgres_stopped": lambda: postgres_stopped(settings.index_dir, postgres, clients, 2 * seconds, pool,
                                                         work),
            "replica_killed": lambda: replica_killed(settings.index_dir, shared, clients, seconds, pool, work),
            "index_swaps": lambda: index_swaps(settings, shared, clients, pool, work, args.swaps),
        }
        results = {part: runs[part]() for part in parts}
    finally:
        postgres.close()
    results["machine"] = {"cpus": os.cpu_count(), "clients": clients, "seconds_per_run": seconds}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for part, figures in results.items():
            print(f"{part}: {json.dumps(figures)}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
