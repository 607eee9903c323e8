"""Reply sentences are cut and embedded when an article is indexed, so a search with replies embeds nothing
but the question; unchanged articles keep theirs, and a version from before them is upgraded, not rebuilt."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from indexer.errors import IndexCorrupt, IndexMismatch
from indexer.ingest.builder import build_index
from indexer.replies.sentences import split_sentences
from indexer.retrieval.search import Searcher
from indexer.store import IndexRoot, IndexVersion
from indexer.text.lexical import ANALYZER


class CountingEmbedder:
    """The real model, counting the texts it is asked to embed as passages."""

    def __init__(self, embedder):
        self._embedder = embedder
        self.documents: list[str] = []

    def embed_documents(self, texts, progress=False):
        self.documents.extend(texts)
        return self._embedder.embed_documents(texts, progress=progress)

    def __getattr__(self, name):
        return getattr(self._embedder, name)


def stored_sentences(version: IndexVersion) -> list[tuple]:
    db = sqlite3.connect(version.path / "meta.sqlite")
    try:
        return db.execute("SELECT article_id, ordinal, position, text, vector FROM sentences"
                          " ORDER BY article_id, ordinal, position").fetchall()
    finally:
        db.close()


def test_every_customer_passage_has_its_sentences_stored_with_the_models_vectors(sample_index, embedder):
    version = IndexRoot(sample_index.index_dir).open_current()
    rows = stored_sentences(version)
    assert len(rows) > 100
    by_article = {row[0] for row in rows}
    internal = {row["id"] for row in version.articles() if row["audience"] == "internal"}
    templated = {row["article_id"] for row in version.all_replies()}
    assert internal and templated
    assert not by_article & (internal | templated)
    article_id = "produkter/km-700-feilkoder"
    expected = [(ordinal, position, sentence)
                for ordinal, passage in enumerate(version.article_passages(article_id))
                for position, sentence in enumerate(split_sentences(passage["text"]))]
    assert [(row[1], row[2], row[3]) for row in rows if row[0] == article_id] == expected
    sample = [row for row in rows if row[0] == article_id][:5]
    fresh = embedder.embed_documents([row[3] for row in sample])
    stored = np.stack([np.frombuffer(row[4], "<f2").astype(np.float32) for row in sample])
    assert np.min(np.sum(fresh * stored, axis=1)) > 0.999
    lang = version.article(article_id)["lang"]
    by_text = {text: terms for passage in version.passage_sentences(
        [p["id"] for p in version.article_passages(article_id)]).values() for text, _, terms in passage}
    assert by_text and all(terms == ANALYZER.terms(text, lang) for text, terms in by_text.items())


def test_a_search_with_replies_embeds_and_analyses_no_sentence(sample_index, embedder, monkeypatch):
    counting = CountingEmbedder(embedder)
    searcher = Searcher(sample_index, counting)
    analysed = []
    terms = ANALYZER.terms
    monkeypatch.setattr(ANALYZER, "terms", lambda text, *args, **kwargs: analysed.append(text) or terms(
        text, *args, **kwargs))
    response = searcher.search("oppvaskmaskinen viser feilkode E24", k=5, replies=("chat", "email", "phone"))
    extracts = [reply for result in response.results for reply in result["replies"] if reply["kind"] == "extract"]
    assert extracts
    assert counting.documents == []
    stored = {row[3] for row in stored_sentences(IndexRoot(sample_index.index_dir).open_current())}
    assert not stored & set(analysed)


def test_a_changed_article_embeds_only_its_new_sentences_and_the_rest_keep_theirs(mini_settings, embedder):
    counting = CountingEmbedder(embedder)
    first = build_index(mini_settings, embedder=counting)
    assert first.embedded_sentences > 0
    before = stored_sentences(IndexRoot(mini_settings.index_dir).open_current())
    article = mini_settings.kb_dir / "angrerett.md"
    added = "Kunden kan også angre kjøpet ved å ringe kundeservice på hverdager."
    article.write_text(article.read_text(encoding="utf-8") + f"\n{added}\n", encoding="utf-8")
    counting.documents.clear()
    second = build_index(mini_settings, embedder=counting)
    assert second.changed == 1 and second.unchanged == 2
    assert added in counting.documents
    assert second.embedded_sentences == 1
    after = stored_sentences(IndexRoot(mini_settings.index_dir).open_current())
    assert [row for row in after if row[0] != "angrerett"] == [row for row in before if row[0] != "angrerett"]
    assert added in {row[3] for row in after if row[0] == "angrerett"}


def as_format_3(version_dir) -> None:
    """Turn a version into what format 3 wrote: no sentences table, format 3 in the manifest."""
    db = sqlite3.connect(version_dir / "meta.sqlite")
    db.execute("DROP TABLE sentences")
    db.commit()
    db.close()
    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 3
    del manifest["sentence_rules"]
    (version_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_format_3_version_is_refused_for_serving_and_upgraded_by_embedding_sentences_only(mini_settings, embedder):
    first = build_index(mini_settings, embedder=embedder)
    root = IndexRoot(mini_settings.index_dir)
    full = stored_sentences(root.open_current())
    as_format_3(root.version_dir(first.version))
    with pytest.raises(IndexMismatch, match="format 3"):
        root.open_current()
    counting = CountingEmbedder(embedder)
    upgrade = build_index(mini_settings, embedder=counting)
    assert upgrade.unchanged == 3 and upgrade.embedded_passages == 0
    assert upgrade.embedded_sentences == len({row[3] for row in full})
    version = root.open_current()
    version.verify()
    assert [row[:4] for row in stored_sentences(version)] == [row[:4] for row in full]


def test_sentences_stored_without_terms_still_give_extracts_and_a_build_adds_them_embedding_nothing(
        mini_settings, embedder):
    first = build_index(mini_settings, embedder=embedder)
    root = IndexRoot(mini_settings.index_dir)
    full = stored_sentences(root.open_current())
    db = sqlite3.connect(root.version_dir(first.version) / "meta.sqlite")
    db.execute("ALTER TABLE sentences DROP COLUMN terms")
    db.commit()
    db.close()
    older = root.open_current()
    assert not older.has_sentence_terms
    response = Searcher(mini_settings, embedder).search("angrerett 14 dager", k=3, replies=("chat",))
    assert any(reply["kind"] == "extract" for result in response.results for reply in result["replies"])
    counting = CountingEmbedder(embedder)
    upgrade = build_index(mini_settings, embedder=counting)
    assert upgrade.unchanged == 3 and upgrade.embedded_passages == 0 and upgrade.embedded_sentences == 0
    assert counting.documents == []
    version = root.open_current()
    version.verify()
    assert version.has_sentence_terms
    assert stored_sentences(version) == full


def test_a_damaged_sentence_vector_is_refused_by_verify(mini_settings, embedder):
    report = build_index(mini_settings, embedder=embedder)
    path = IndexRoot(mini_settings.index_dir).version_dir(report.version) / "meta.sqlite"
    db = sqlite3.connect(path)
    db.execute("UPDATE sentences SET vector = x'0000' WHERE position = 0 AND ordinal = 0")
    db.commit()
    db.close()
    with pytest.raises(IndexCorrupt, match="reply sentences"):
        IndexVersion(path.parent).verify(thorough=True)
