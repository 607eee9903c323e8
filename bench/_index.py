"""The index a benchmark runs on: the one named with --index, or one built from a KB in a temporary folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

from indexer.config import Settings
from indexer.ingest.builder import build_index


def given_or_built(index_dir: Path | None, kb_dir: Path, prefix: str) -> Path:
    """`index_dir` when given, else a new index of `kb_dir` under a temporary folder named with `prefix`."""
    if index_dir is not None:
        return index_dir
    built = Path(tempfile.mkdtemp(prefix=prefix)) / "index"
    build_index(Settings.from_env(kb_dir=kb_dir, index_dir=built))
    return built
