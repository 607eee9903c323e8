"""Two real `kb serve` replicas behind deploy/haproxy.cfg, sharing one PostgreSQL query log."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
import urllib.request

import pytest

from .conftest import EDITOR_TOKEN, get, running_server
from .services import LoadBalancer, kill_tree

QUESTIONS = ["hvor lenge er angreretten", "faktura purregebyr", "kunden vil kansellere bestillingen",
             "how do I return an item", "endre leveringsadresse", "can I change my delivery address",
             "hva koster frakt", "betaling med vipps"]
# Health checks 1 s apart, two to change a replica's state (deploy/haproxy.cfg).
HEALTH_CHECK_SECONDS = 2.5


def search(base: str, question: str) -> int:
    status, _ = get(base + "/api/search?" + urllib.parse.urlencode({"q": question, "k": 3}))
    return status


def searches_served(log_files, total: int) -> list[int]:
    """Searches each replica's request log shows, once they add up to `total` (a log line follows its answer)."""
    deadline = time.monotonic() + 10
    while True:
        counts = [log.read_text(errors="replace").count('"GET /api/search HTTP/1.1" 200') for log in log_files]
        if sum(counts) >= total or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def test_searches_sent_to_both_replicas_appear_in_one_report(sample_index, postgres, tmp_path, kb_env):
    url = postgres.new_database()
    logs = [tmp_path / "replica1.log", tmp_path / "replica2.log"]
    started: list = []
    with contextlib.ExitStack() as stack:
        env = {**kb_env, "KB_FEEDBACK_DB": url}
        replicas = [stack.enter_context(running_server(sample_index.index_dir, log, env=env, started=started))
                    for log in logs]
        balancer = LoadBalancer(replicas, tmp_path / "haproxy.log")
        stack.callback(balancer.close)
        time.sleep(HEALTH_CHECK_SECONDS)  # both replicas pass their first checks
        statuses = [search(balancer.base, question) for question in QUESTIONS]
        assert statuses == [200] * len(QUESTIONS)
        # One request at a time goes to the replica with fewer connections, by turns when they are equal.
        assert searches_served(logs, len(QUESTIONS)) == [4, 4]
        request = urllib.request.Request(balancer.base + "/reports.json?days=1",
                                         headers={"Authorization": f"Bearer {EDITOR_TOKEN}"})
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback only
            report = json.loads(response.read())
        assert report["period"]["searches"] == len(QUESTIONS)

        kill_tree(started[0].pid)
        after_kill = [search(balancer.base, question) for question in QUESTIONS]
        assert after_kill == [200] * len(QUESTIONS)
        assert searches_served(logs, 2 * len(QUESTIONS)) == [4, 4 + len(QUESTIONS)]
        with pytest.raises(OSError):
            get(replicas[0] + "/api/health")
