"""Shared fixtures: the real bundled model, loaded once, and real indexes built on disk."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.config import Settings
from indexer.embedding import embedder_for
from indexer.ingest.builder import build_index

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_KB = ROOT / "kb"
MINI_KB = Path(__file__).resolve().parent / "data" / "mini-kb"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory) -> Path:
    """One converted model per run, shared by every app, CLI call and server the tests start: their settings
    name it, and the CLI and `kb serve` get it as KB_ONNX_DIR (see kb_env); nothing writes os.environ."""
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="session")
def kb_env(onnx_cache) -> dict:
    """The environment a `kb` command runs in during the tests, on top of the inherited one."""
    return {"KB_ONNX_DIR": str(onnx_cache)}


@pytest.fixture
def runner(kb_env) -> CliRunner:
    """Click's runner for the `kb` commands, in the tests' environment."""
    return CliRunner(env=kb_env)


@pytest.fixture(scope="session")
def embedder(onnx_cache):
    """The product's default model and backend (multilingual-e5-small through onnxruntime), loaded once."""
    model = embedder_for(Settings(onnx_cache=onnx_cache))
    model.model  # noqa: B018 - load now, outside any test's own timing
    return model


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embedder, onnx_cache) -> Settings:
    """The sample KB, indexed once into a temporary index directory."""
    settings = Settings(kb_dir=SAMPLE_KB, index_dir=tmp_path_factory.mktemp("sample") / "index", onnx_cache=onnx_cache)
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture
def mini_kb(tmp_path) -> Path:
    """A writable copy of the three-article test KB."""
    target = tmp_path / "kb"
    shutil.copytree(MINI_KB, target)
    return target


@pytest.fixture
def mini_settings(mini_kb, tmp_path, onnx_cache) -> Settings:
    """Settings for the mini KB with an index directory of its own."""
    return Settings(kb_dir=mini_kb, index_dir=tmp_path / "index", onnx_cache=onnx_cache)


@pytest.fixture(scope="session")
def app(sample_index):
    """The real Flask app over the sample index."""
    from webapp import create_app

    return create_app(sample_index, {"TESTING": True})


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the whole run; each test that needs it gets a database of its own."""
    from .services import PostgresServer

    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path) -> str:
    """KB_FEEDBACK_DB for a new, empty query log in each store: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "f.sqlite")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def feedback_store(store_target):
    """An empty query log in each store, closed after the test."""
    from indexer.querylog import open_store

    store = open_store(store_target)
    yield store
    store.close()


@pytest.fixture
def client(app):
    """Flask's test client for the app."""
    return app.test_client()


STARTUP_SECONDS = 120
# The editors' token the live server is started with.
EDITOR_TOKEN = "editor-token-for-tests"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET on loopback."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        return response.status, response.read()


@contextlib.contextmanager
def running_server(index_dir, log_file: Path, *options: str, env: dict | None = None, started: list | None = None):
    """A real `kb serve` (gunicorn, one worker) on a free loopback port, its output in `log_file`; its
    process is appended to `started` for tests that stop it themselves."""
    port = free_port()
    kb = Path(sys.executable).with_name("kb")
    with open(log_file, "wb") as output:
        process = subprocess.Popen(
            [str(kb), "serve", "--index", str(index_dir), "--port", str(port), "--workers", "1", *options],
            stdout=output, stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "KB_EDITOR_TOKEN": EDITOR_TOKEN, **(env or {})},
        )
    if started is not None:
        started.append(process)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            try:
                get(base + "/api/health")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"kb serve did not come up:\n{log_file.read_text(errors='replace')}")
                time.sleep(0.5)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def server_log(tmp_path_factory) -> Path:
    """Where the shared live server writes its standard output and error."""
    return tmp_path_factory.mktemp("serve") / "output.log"


@pytest.fixture(scope="session")
def live_server(sample_index, server_log, kb_env):
    """A real `kb serve` over the sample index, shared by the tests that only talk to it."""
    with running_server(sample_index.index_dir, server_log, env=kb_env) as base:
        yield base
