"""A damaged index: refused before it goes live, never swapped in under a running server, and one `Error:`
line from every command instead of a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.errors import BuildFailed, IndexCorrupt
from indexer.ingest.builder import build_index
from indexer.retrieval.search import Searcher
from indexer.store import IndexRoot, IndexVersion, VersionWriter
from webapp import create_app


@pytest.fixture
def built(mini_settings, embedder):
    build_index(mini_settings, embedder=embedder)
    return mini_settings


def live_dir(settings) -> Path:
    root = IndexRoot(settings.index_dir)
    return root.version_dir(root.current_version())


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damage(version: Path, part: str, how: str) -> None:
    target = version / part
    if how == "missing":
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    elif target.is_dir():
        truncate(target / "vocab.index.json")
    else:
        truncate(target)


DAMAGE = [("index.faiss", "truncated"), ("index.faiss", "missing"), ("meta.sqlite", "truncated"),
          ("meta.sqlite", "missing"), ("manifest.json", "truncated"), ("manifest.json", "missing"),
          ("lexical", "truncated"), ("lexical", "missing")]


def test_a_swap_checks_the_sizes_the_build_recorded(built):
    version = live_dir(built)
    recorded = json.loads((version / "manifest.json").read_text())["files"]
    assert recorded["meta.sqlite"] == (version / "meta.sqlite").stat().st_size
    assert any(path.startswith("lexical/") for path in recorded)
    IndexVersion(version).verify()
    with open(version / "meta.sqlite", "ab") as handle:
        handle.write(bytes(4096))
    with pytest.raises(IndexCorrupt, match=r"meta\.sqlite is missing or damaged \(meta\.sqlite is [\d,]+ bytes, "
                                           r"the build wrote [\d,]+\); rebuild it with: kb index"):
        IndexVersion(version).verify()


@pytest.mark.parametrize(("part", "how"), DAMAGE)
def test_every_command_prints_one_error_line(built, part, how, runner):
    damage(live_dir(built), part, how)
    runner = runner
    for command in (["search", "--index", str(built.index_dir), "angrerett"],
                    ["report", "--index", str(built.index_dir)]):
        result = runner.invoke(main, command)
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        (line,) = [line for line in result.output.splitlines() if line]
        assert line.startswith("Error: index version ") and f"{part} is missing or damaged" in line
        assert line.endswith("rebuild it with: kb index")


def test_serve_refuses_a_damaged_index(built):
    damage(live_dir(built), "index.faiss", "truncated")
    kb = Path(sys.executable).with_name("kb")
    result = subprocess.run([str(kb), "serve", "--index", str(built.index_dir)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: index version ") and "index.faiss is missing or damaged" in line


def test_a_damaged_query_log_is_one_error_line(built, runner):
    (built.index_dir / "feedback.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x01" * 200)
    result = runner.invoke(main, ["report", "--index", str(built.index_dir)])
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line]
    assert line.startswith(f"Error: cannot read the query log {built.index_dir / 'feedback.sqlite'}: ")


def test_health_says_what_is_wrong(built):
    damage(live_dir(built), "index.faiss", "truncated")
    client = create_app(built, {"TESTING": True}).test_client()
    response = client.get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 503
    assert "index.faiss is missing or damaged" in body["error"]
    assert client.get("/?q=angrerett").status_code == 503


def test_a_running_server_keeps_its_version_when_a_damaged_one_is_published(built, embedder):
    app = create_app(built, {"TESTING": True, "RELOAD_SECONDS": 0})
    client = app.test_client()
    good = client.get("/api/health").get_json()["index"]["version"]
    root = IndexRoot(built.index_dir)
    damaged = "20990101T000000Z-abcdef"
    shutil.copytree(root.version_dir(good), root.version_dir(damaged))
    manifest = root.version_dir(damaged) / "manifest.json"
    manifest.write_text(manifest.read_text().replace(good, damaged))
    truncate(root.version_dir(damaged) / "index.faiss")
    root.switch_to(damaged)
    search = client.get("/api/search?q=angrerett")
    assert search.status_code == 200 and search.get_json()["index_version"] == good
    health = client.get("/api/health").get_json()
    assert health["index"]["version"] == good
    assert health["refused"]["version"] == damaged
    assert "index.faiss is missing or damaged" in health["refused"]["error"]


def test_a_new_version_that_cannot_be_opened_never_goes_live(built, embedder, monkeypatch):
    before = IndexRoot(built.index_dir).current_version()
    commit = VersionWriter.commit

    def commit_then_lose_half(self, *args, **kwargs):
        final = commit(self, *args, **kwargs)
        truncate(final / "index.faiss")
        return final

    monkeypatch.setattr(VersionWriter, "commit", commit_then_lose_half)
    (Path(built.kb_dir) / "ny.md").write_text("---\ntitle: Ny\n---\nNy artikkel om retur.\n")
    with pytest.raises(BuildFailed, match=r"^the new version cannot be opened, so it was not switched in: index "
                                          r"version \S+ cannot be opened: index\.faiss is missing or damaged"):
        build_index(built, embedder=embedder)
    assert IndexRoot(built.index_dir).current_version() == before
    assert Searcher(built, embedder).search("angrerett").version == before
    assert [entry.name for entry in IndexRoot(built.index_dir).versions.iterdir()] == [before]
