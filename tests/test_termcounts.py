"""The keyword index derived from kept term counts scores exactly as bm25s's own index of the same passages,
and a build that adds, changes and removes articles gives the index a full count would."""

from __future__ import annotations

import shutil
from pathlib import Path

import bm25s
import numpy as np

from indexer.config import Settings
from indexer.ingest.builder import build_index
from indexer.store import IndexRoot
from indexer.text.lexical import ANALYZER, KEYWORDS, LexicalIndex
from indexer.text.termcounts import TermCounts

from .conftest import SAMPLE_KB


def _all_terms(version) -> list[list[str]]:
    return version.passage_terms(list(range(version.index.ntotal)))


def _questions(version) -> list[list[str]]:
    """Every article title analysed in its language, and single rare and common terms: many distinct queries."""
    questions = [ANALYZER.query_terms(row["title"], [row["lang"]]) for row in version.articles()]
    vocabulary = sorted(version.lexical.vocabulary)
    return [terms for terms in questions if terms] + [[term] for term in vocabulary[::7] if term]


def _columns(model: bm25s.BM25) -> dict[str, tuple[list[int], list[float]]]:
    """Each term's (passages, scores) column of a bm25s score matrix, by term."""
    scores = model.scores
    columns = {}
    for term, number in model.vocab_dict.items():
        if number + 1 < len(scores["indptr"]):
            start, end = scores["indptr"][number], scores["indptr"][number + 1]
            columns[term] = (scores["indices"][start:end].tolist(), scores["data"][start:end].tolist())
    return columns


def _assert_same_scores(ours: LexicalIndex, reference: bm25s.BM25, questions: list[list[str]]) -> None:
    assert set(ours.vocabulary) == set(reference.vocab_dict)
    assert _columns(ours.model) == _columns(reference)
    for terms in questions:
        known = [term for term in terms if term in reference.vocab_dict]
        if known:
            assert np.array_equal(ours.model.get_scores(known), reference.get_scores(known)), terms


def test_the_index_from_counts_is_bm25s_own_on_the_sample_kb(sample_index):
    version = IndexRoot(sample_index.index_dir).open_current()
    documents = _all_terms(version)
    reference = bm25s.BM25(k1=KEYWORDS.bm25_k1, b=KEYWORDS.bm25_b)
    reference.index([terms or ["\x00"] for terms in documents], show_progress=False)
    ours = LexicalIndex.build(documents)
    _assert_same_scores(ours, reference, _questions(version))
    # The version on disk is the same index, read back with its counts.
    saved = version.lexical
    assert _columns(saved.model) == _columns(ours.model)
    assert version.term_counts().rows == len(documents)


def _counted(counts: TermCounts) -> list[dict[str, int]]:
    return [{counts.vocabulary[t]: int(f) for t, f in zip(counts.terms[a:b], counts.tf[a:b], strict=True)}
            for a, b in zip(counts.indptr[:-1], counts.indptr[1:], strict=True)]


def test_derived_counts_equal_a_fresh_count():
    documents = [["ruter", "wifi", "wifi"], [], ["faktura", "ruter"], ["kode", "e101", "e", "101"]]
    counts = TermCounts.from_documents(documents)
    derived = counts.derive([np.array([0, 2]), [["ny", "ruter"]], np.array([3])])
    fresh = TermCounts.from_documents([documents[0], documents[2], ["ny", "ruter"], documents[3]])
    assert _counted(derived) == _counted(fresh)
    assert sorted(derived.vocabulary) == sorted(fresh.vocabulary)  # "\x00" of the dropped empty passage went


def _edit(kb: Path) -> None:
    """Add an article, change one, remove one."""
    (kb / "ny-artikkel.md").write_text(
        "---\ntitle: Fiberruter blinker rødt\nlang: nb\ntags: [fiber, ruter]\n---\n# Fiberruter blinker rødt\n\n"
        "Når fiberruteren blinker rødt, er signalet brutt. Sjekk at fiberkabelen sitter, og start ruteren på nytt.\n",
        encoding="utf-8")
    changed = sorted(kb.rglob("*.md"))[5]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n## Tillegg\n\nGarantien gjelder i fem år.\n",
                       encoding="utf-8")
    sorted(kb.rglob("*.md"))[12].unlink()


def test_add_change_remove_derives_the_index_a_full_count_gives(tmp_path, embedder, onnx_cache, sample_index):
    kb = tmp_path / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    # The sample index is this KB's first build (same files, same bytes): copied, not built again.
    shutil.copytree(sample_index.index_dir, tmp_path / "derived")
    first = Settings(kb_dir=kb, index_dir=tmp_path / "derived", onnx_cache=onnx_cache)
    shutil.copytree(first.index_dir, tmp_path / "counted")
    counted = Settings(kb_dir=kb, index_dir=tmp_path / "counted", onnx_cache=onnx_cache)
    # Without the kept counts the builder counts every passage again: the full rebuild of the keyword index.
    for path in (IndexRoot(counted.index_dir).open_current().path / "lexical").glob("counts.*"):
        path.unlink()
    _edit(kb)

    derived_log, counted_log = [], []
    derived_report = build_index(first, embedder=embedder, log=derived_log.append)
    counted_report = build_index(counted, embedder=embedder, log=counted_log.append)
    assert (derived_report.added, derived_report.changed, derived_report.removed) == (1, 1, 1)
    assert (counted_report.passages, counted_report.embedded_passages) == \
        (derived_report.passages, derived_report.embedded_passages)
    assert not any("counted in full" in line for line in derived_log)
    assert any("counted in full" in line for line in counted_log)

    derived = IndexRoot(first.index_dir).open_current()
    full = IndexRoot(counted.index_dir).open_current()
    assert _all_terms(derived) == _all_terms(full)
    reference = bm25s.BM25(k1=KEYWORDS.bm25_k1, b=KEYWORDS.bm25_b)
    reference.index([terms or ["\x00"] for terms in _all_terms(full)], show_progress=False)
    questions = _questions(full) + [ANALYZER.query_terms("fiberruter blinker rødt garantien", ["nb"])]
    _assert_same_scores(derived.lexical, reference, questions)
    _assert_same_scores(full.lexical, reference, questions)
    for terms in questions:
        assert derived.lexical.search([(terms, 1.0)], 10) == full.lexical.search([(terms, 1.0)], 10)
    assert _counted(derived.term_counts()) == _counted(full.term_counts())
    hits = derived.lexical.search([(ANALYZER.query_terms("fiberruter blinker rødt", ["nb"]), 1.0)], 1)
    assert derived.passages([hits[0][0]])[hits[0][0]]["path"] == "ny-artikkel.md"
