"""`kb serve` as agents meet it: a real gunicorn server on loopback answering the page and the API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        return response.status, response.read()


@pytest.fixture(scope="module")
def server(sample_index):
    port = free_port()
    kb = Path(sys.executable).with_name("kb")
    process = subprocess.Popen(
        [str(kb), "serve", "--index", str(sample_index.index_dir), "--port", str(port), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            get(base + "/api/health")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode(errors="replace")
                pytest.fail(f"kb serve did not come up:\n{output}")
            time.sleep(0.5)
    yield base
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def test_server_answers_search(server):
    status, body = get(server + "/api/search?q=hvor+lenge+er+angreretten&k=3")
    payload = json.loads(body)
    assert status == 200
    assert payload["ok"] is True
    assert payload["results"][0]["article_id"] == "retur/angrerett"


def test_server_serves_the_page_and_static_files(server):
    status, body = get(server + "/")
    assert status == 200
    assert b'<input id="q"' in body
    status, script = get(server + "/static/app.js")
    assert status == 200
    assert b"/results?" in script


def test_server_errors_are_envelopes(server):
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(server + "/api/search?q=")
    assert caught.value.code == 400
    assert json.loads(caught.value.read()) == {"ok": False, "error": "the question is empty", "status": 400}


def test_serve_refuses_a_missing_index(tmp_path):
    kb = Path(sys.executable).with_name("kb")
    result = subprocess.run([str(kb), "serve", "--index", str(tmp_path / "none")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert f"Error: no index in {tmp_path / 'none'}; build one with: kb index" in result.stderr
