"""Killing `kb index` with SIGKILL, while it embeds or while it writes, never harms the live index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from indexer.ingest.builder import build_index
from indexer.retrieval.search import Searcher
from indexer.store import IndexRoot

KB = Path(sys.executable).with_name("kb")


def start_build(settings) -> subprocess.Popen:
    return subprocess.Popen(
        [str(KB), "index", "--kb", str(settings.kb_dir), "--index", str(settings.index_dir), "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "KB_ONNX_DIR": str(settings.onnx_dir)},
    )


def kill_when(process: subprocess.Popen, condition, seconds: float = 120) -> bool:
    """SIGKILL the build as soon as `condition()` holds; False if it finished first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.001)
    process.wait()
    return False


def assert_live(settings, embedder, name):
    root = IndexRoot(settings.index_dir)
    assert root.current_version() == name
    assert Searcher(settings, embedder).search("angrerett", k=1).version == name


def test_sigkill_during_a_build_leaves_the_live_index(mini_settings, mini_kb, embedder):
    live = build_index(mini_settings, embedder=embedder).version
    root = IndexRoot(mini_settings.index_dir)
    for n in range(40):
        (mini_kb / f"ny-{n}.md").write_text(f"# Ny {n}\n\n" + "Tekst om levering og retur. " * 40, encoding="utf-8")

    # While it starts up and loads the model.
    early = start_build(mini_settings)
    started = time.monotonic()
    assert kill_when(early, lambda: time.monotonic() - started > 2)
    assert_live(mini_settings, embedder, live)

    # While it writes the new version beside the live one.
    late = start_build(mini_settings)
    killed = kill_when(late, lambda: any(p.name.endswith(".partial") for p in root.versions.iterdir()))
    assert killed, "the build finished before it could be killed while writing"
    assert_live(mini_settings, embedder, live)

    # The next build takes the lock the dead one held, clears its leftovers and goes live.
    report = build_index(mini_settings, embedder=embedder)
    assert report.added == 40
    assert_live(mini_settings, embedder, report.version)
    assert not any(p.name.endswith(".partial") for p in root.versions.iterdir())
