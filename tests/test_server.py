"""`kb serve` as agents meet it: a real gunicorn server on loopback answering the page and the API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .conftest import get, running_server


def test_server_answers_search(live_server):
    status, body = get(live_server + "/api/search?q=hvor+lenge+er+angreretten&k=3")
    payload = json.loads(body)
    assert status == 200
    assert payload["ok"] is True
    assert payload["results"][0]["article_id"] == "retur/angrerett"


def test_server_serves_the_page_and_static_files(live_server):
    status, body = get(live_server + "/")
    assert status == 200
    assert b'<input id="q"' in body
    status, script = get(live_server + "/static/app.js")
    assert status == 200
    assert b'fetch("/results", { method: "POST"' in script


def test_server_errors_are_envelopes(live_server):
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(live_server + "/api/search?q=")
    assert caught.value.code == 400
    assert json.loads(caught.value.read()) == {"ok": False, "error": "the question is empty", "status": 400}


def test_serve_refuses_a_missing_index(tmp_path):
    kb = Path(sys.executable).with_name("kb")
    result = subprocess.run([str(kb), "serve", "--index", str(tmp_path / "none")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert f"Error: no index in {tmp_path / 'none'}; build one with: kb index" in result.stderr


PERSONAL = "kari.nordmann@example.no har fnr 01017012345 og tlf 41234567"


def wait_for(log_file: Path, text: str, seconds: float = 10) -> str:
    """The log's content once `text` is in it (gunicorn writes lines as they come)."""
    deadline = time.monotonic() + seconds
    while True:
        content = log_file.read_text(errors="replace")
        if text in content or time.monotonic() > deadline:
            return content
        time.sleep(0.1)


def test_the_request_log_holds_no_question_and_no_address(live_server, server_log):
    query = urllib.parse.urlencode({"q": PERSONAL, "k": 3})
    status, _ = get(live_server + "/api/search?" + query)
    assert status == 200
    with pytest.raises(urllib.error.HTTPError):
        get(live_server + "/api/search?q=&lang=" + urllib.parse.quote(PERSONAL))
    log = wait_for(server_log, '"GET /api/search HTTP/1.1" 400')
    assert '"GET /api/search HTTP/1.1" 200' in log
    assert '"GET /api/search HTTP/1.1" 400' in log
    for secret in ("kari", "01017012345", "41234567", "example.no", "q="):
        assert secret not in log
    requests = [line for line in log.splitlines() if "/api/" in line]
    assert requests and not [line for line in requests if "127.0.0.1" in line]


def test_a_full_request_log_is_masked(sample_index, tmp_path, kb_env):
    log_file = tmp_path / "serve.log"
    with running_server(sample_index.index_dir, log_file, env={**kb_env, "KB_ACCESS_LOG": "full"}) as base:
        request = urllib.request.Request(base + "/api/search?" + urllib.parse.urlencode({"q": PERSONAL}),
                                         headers={"Referer": base + "/?q=" + urllib.parse.quote(PERSONAL),
                                                  "User-Agent": "test-agent/1"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            assert response.status == 200
        log = wait_for(log_file, "test-agent/1")
    line = next(line for line in log.splitlines() if "test-agent/1" in line)
    masked = "[e-mail]+har+fnr+[national-id]+og+tlf+[phone]"
    assert line.startswith("127.0.0.0 [")
    assert f'"GET /api/search?q={masked} HTTP/1.1" 200' in line
    assert line.endswith(f'"/?q={masked}" "test-agent/1"')
    for secret in ("kari", "01017012345", "41234567"):
        assert secret not in log


def test_the_request_log_can_be_switched_off(sample_index, tmp_path, kb_env):
    log_file = tmp_path / "serve.log"
    with running_server(sample_index.index_dir, log_file, "--access-log", "off", env=kb_env) as base:
        assert get(base + "/api/health")[0] == 200
    assert "/api/health" not in log_file.read_text(errors="replace")


def raw_exchange(base: str, request: bytes) -> tuple[int, dict, bytes]:
    """Status, headers and body of one raw HTTP/1.1 exchange: gunicorn's refusals happen before any client
    library would let such a request through."""
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_a_3499_character_question_is_answered(live_server):
    question = ("Hei, jeg kjøpte en vaskemaskin og vil bruke angreretten fordi den ikke passet. " * 50)[:3499]
    request = urllib.request.Request(live_server + "/api/search", method="POST",
                                     data=json.dumps({"q": question, "k": 3}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
        body = json.loads(response.read())
    assert body["ok"] is True and body["query"] == question.strip() and body["results"]
    form = urllib.parse.urlencode({"q": question, "channel": "chat"}).encode()
    with urllib.request.urlopen(urllib.request.Request(live_server + "/results", data=form),  # noqa: S310
                                timeout=60) as response:
        assert response.status == 200
        assert b'class="card' in response.read()


def test_what_gunicorn_refuses_is_an_envelope(live_server):
    long_line = b"GET /api/search?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, headers, body = raw_exchange(live_server, long_line)
    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"ok": False, "status": 414, "error":
                                "the request line is longer than 8,190 bytes; send long questions with POST"}
    big_headers = b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"b" * 9000 + b"\r\n\r\n"
    status, _, body = raw_exchange(live_server, big_headers)
    assert status == 431
    assert json.loads(body) == {"ok": False, "status": 431, "error": "the request headers are too large"}
    status, _, body = raw_exchange(live_server, b"GET /api/health HTTP/9.9\r\n\r\n")
    assert status == 400
    assert json.loads(body) == {"ok": False, "status": 400, "error": "the request is not valid HTTP"}


def test_two_workers_together_allow_the_documented_sign_ins(sample_index, tmp_path, kb_env):
    """Each request is a new connection, so gunicorn hands them to both workers; they count in one log."""
    from .conftest import EDITOR_TOKEN

    statuses = []
    with running_server(sample_index.index_dir, tmp_path / "serve.log", "--workers", "2",
                        env={**kb_env, "KB_FEEDBACK_DB": str(tmp_path / "f.sqlite")}) as base:
        for attempt in range(24):
            if attempt % 2:
                request = urllib.request.Request(f"{base}/reports.json",
                                                 headers={"Authorization": f"Bearer guess-{attempt}"})
            else:
                request = urllib.request.Request(f"{base}/reports/login", method="POST",
                                                 data=f"token=guess-{attempt}".encode())
            try:
                urllib.request.urlopen(request, timeout=30)  # noqa: S310 - loopback only
                statuses.append(200)
            except urllib.error.HTTPError as refused:
                statuses.append(refused.code)
        right = urllib.request.Request(f"{base}/reports.json", headers={"Authorization": f"Bearer {EDITOR_TOKEN}"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(right, timeout=30)  # noqa: S310 - loopback only
    assert statuses == [401] * 10 + [429] * 14
    assert caught.value.code == 429


def worker_pids(master: int, count: int, seconds: float = 60) -> list[int]:
    """The pids of a gunicorn master's `count` workers, once they are all running."""
    deadline = time.monotonic() + seconds
    while True:
        pids = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.2)


def cpu_ticks(pid: int) -> int:
    """User and system time of every thread of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_two_workers_run_the_model_loaded_before_the_fork(sample_index, tmp_path, kb_env):
    """The master loads onnxruntime's session before gunicorn forks; both workers run it, answer right and
    stop cleanly."""
    from concurrent.futures import ThreadPoolExecutor

    started: list = []
    with running_server(sample_index.index_dir, tmp_path / "serve.log", "--workers", "2", "--threads", "2",
                        env={**kb_env, "OMP_NUM_THREADS": "1"}, started=started) as base:
        master = started[0].pid
        assert "onnxruntime" in Path(f"/proc/{master}/maps").read_text()
        workers = worker_pids(master, 2)
        assert len(workers) == 2
        before = {pid: cpu_ticks(pid) for pid in workers}
        # Distinct questions, so each is embedded (no cached query vector) by whichever worker takes it.
        questions = [f"hvor lenge er angreretten {'nå ' * n}" for n in range(40)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(
                lambda question: get(base + "/api/search?" + urllib.parse.urlencode({"q": question, "k": 3})),
                questions))
        spent = {pid: cpu_ticks(pid) - before[pid] for pid in workers}
    assert [status for status, _ in answers] == [200] * len(questions)
    assert {json.loads(body)["results"][0]["article_id"] for _, body in answers} == {"retur/angrerett"}
    assert min(spent.values()) > 0, spent
    # Stopped (SIGTERM) after answering: each worker leaves cleanly, with no abort from onnxruntime's threads.
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert started[0].returncode == 0
    assert "SIGABRT" not in log and "terminate called" not in log, log[-2000:]
    assert all(f"Worker exiting (pid: {pid})" in log for pid in workers), log[-2000:]
