"""Start and stop `kb serve` / `kb watch` on loopback for the benchmarks that need a real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

KB = Path(sys.executable).with_name("kb")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, timeout: float = 30) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}


def search_url(base: str, question: str, **params) -> str:
    return base + "/api/search?" + urllib.parse.urlencode({"q": question, **params})


def start(args: list[str], env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
    """`kb <args>` as a process; its standard error goes to `log` when given, else nowhere."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    with open(log or os.devnull, "w", encoding="utf-8") as errors:
        return subprocess.Popen([str(KB), *args], stdout=subprocess.DEVNULL, stderr=errors, env=environment)


def serve(index_dir: Path, workers: int = 2, env: dict | None = None,
          log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """A running `kb serve` and its base URL, once it answers; `env` adds KB_* variables, `log` keeps its
    standard error."""
    port = free_port()
    process = start(["serve", "--index", str(index_dir), "--port", str(port), "--workers", str(workers)], env, log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if get_json(base + "/api/health", timeout=2)[0] == 200:
                return process, base
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise RuntimeError("kb serve did not come up")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def post_json(url: str, body: dict, timeout: float = 30) -> tuple[int, dict]:
    """Status and JSON answer of a POST with a JSON body."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
