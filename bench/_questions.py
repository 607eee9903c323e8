"""Distinct questions for the benchmarks that go through `kb serve`: each asked once, so no cache answers."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from indexer.store import IndexRoot

BENCH = Path(__file__).resolve().parent


def distinct_questions(index_dir: Path, count: int | None = None) -> list[str]:
    """Up to `count` (all when None) distinct questions: the written agent questions first, then the index's
    article titles, then its section headings, lower-cased as an agent types them."""
    written = []
    for path in sorted(BENCH.glob("agent_questions*.yaml")):
        written += [item["question"] for item in yaml.safe_load(path.read_text(encoding="utf-8"))]
    version = IndexRoot(index_dir).open_current()
    titles = [row["title"].lower() for row in version.articles()]
    headings = [heading.lower() for row in version.all_passages() for heading in json.loads(row["heading_path"])]
    version.close()
    found = list(dict.fromkeys(question.strip() for question in written + titles + headings if question.strip()))
    return found if count is None else found[:count]
