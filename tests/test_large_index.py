"""Large indexes: above a size the vector index is IVF, built with a measured nprobe, memory-mapped, searched
like the exact one; filters, damage checks and versions in the exact format still work.

The size is set low (100 passages) so the sample KB (346 passages) takes the approximate path.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer.config import Settings
from indexer.errors import IndexCorrupt
from indexer.ingest.builder import build_index
from indexer.retrieval.evaluation import load_questions
from indexer.retrieval.search import Searcher
from indexer.store import IndexRoot, IndexVersion
from indexer.store import vectors as vectors_module
from indexer.store.vectors import VECTORS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_KB = ROOT / "kb"
QUESTIONS = [q.question for q in load_questions(ROOT / "tests" / "golden_questions.yaml")]


@pytest.fixture(scope="module")
def ivf_index(tmp_path_factory, embedder, onnx_cache):
    """The sample KB indexed with the approximate threshold at 100 passages, and its build report."""
    settings = Settings(kb_dir=SAMPLE_KB, index_dir=tmp_path_factory.mktemp("ivf") / "index", onnx_cache=onnx_cache,
                        approximate_above=100)
    return settings, build_index(settings, embedder=embedder)


def live(settings) -> IndexVersion:
    return IndexRoot(settings.index_dir).open_current()


def mapped_files() -> set[str]:
    """Files this process has memory-mapped."""
    lines = Path("/proc/self/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


def test_the_ivf_path_is_built_and_recorded(ivf_index):
    settings, report = ivf_index
    manifest = json.loads((IndexRoot(settings.index_dir).version_dir(report.version) / "manifest.json").read_text())
    info = manifest["vectors"]
    assert info["kind"] == "ivf" and info["approximate_above"] == 100
    assert info["nlist"] == 8  # 346 passages: at least 39 training points per list
    assert 1 <= info["nprobe"] <= info["nlist"]
    assert info["recall_at_10"] >= VECTORS.target_recall
    assert info["recall_sample"] == "questions" and info["recall_questions"] == 45  # the 45 article titles
    assert report.vectors == info
    assert (f"approximate vectors (IVF, 8 lists, nprobe {info['nprobe']}): recall@10 {info['recall_at_10']:.3f} "
            "against exact on 45 questions") in report.summary()
    version = live(settings)
    assert version.index.kind == "ivf" and version.index.nprobe == info["nprobe"]
    assert version.index.ntotal == report.passages == 346


def test_below_the_size_the_index_stays_exact(sample_index):
    version = live(sample_index)
    assert version.manifest["vectors"] == {"kind": "exact", "storage": "float16",
                                           "approximate_above": VECTORS.approximate_above}
    assert version.index.kind == "exact"


def test_vectors_are_kept_in_half_precision_and_stay_faithful(ivf_index, sample_index, tmp_path):
    """Half the bytes of float32 (see vectors), each vector read back as float16 rounds it, both kinds."""
    for settings in (sample_index, ivf_index[0]):
        version = live(settings)
        assert version.manifest["vectors"]["storage"] == "float16"
        assert (version.path / "index.faiss").stat().st_size < version.index.ntotal * version.dimension * 2.2
    vectors = live(sample_index).vectors()
    vectors += np.random.default_rng(3).normal(0, 1e-3, vectors.shape).astype(np.float32)
    for limit in (1000, 100):
        folder = tmp_path / str(limit)
        folder.mkdir()
        info = vectors_module.write_vectors(folder, vectors, vectors.shape[1], approximate_above=limit)
        stored = vectors_module.VectorIndex(folder / "index.faiss", info)
        assert stored.kind == ("exact" if limit == 1000 else "ivf")
        read_back = stored.reconstruct_batch(np.arange(len(vectors)))
        # Within float16's rounding of each value: half a unit in the last place, 2**-11 of its size (FAISS
        # converts with its own code, which may round the other way at a tie).
        assert np.all(np.abs(read_back - vectors) <= np.abs(vectors) * 2.0 ** -11 + 1e-7)
        found = stored.search(vectors[7], 1)
        assert found[0][0] == 7 and abs(found[0][1] - float(vectors[7] @ vectors[7])) < 2e-3


def test_kb_index_prints_the_recall(tmp_path, runner):
    result = runner.invoke(
        __import__("indexer.cli", fromlist=["main"]).main,
        ["index", "--kb", str(SAMPLE_KB), "--index", str(tmp_path / "index"), "-q"],
        env={**runner.env, "KB_APPROXIMATE_ABOVE": "100"},
    )
    assert result.exit_code == 0, result.output
    assert "approximate vectors (IVF, 8 lists, nprobe " in result.output
    assert "recall@10 " in result.output and " against exact on 45 questions" in result.output


def test_vectors_of_both_kinds_and_keywords_are_memory_mapped(ivf_index, sample_index):
    for settings in (ivf_index[0], sample_index):
        version = live(settings)
        version.search(np.ones(version.dimension, np.float32) / np.sqrt(version.dimension), 5)
        assert version.lexical.size == version.index.ntotal
        mapped = mapped_files()
        assert str((version.path / "index.faiss").resolve()) in mapped
        assert str((version.path / "lexical" / "data.csc.index.npy").resolve()) in mapped


def test_the_same_top_results_as_exact_for_real_questions(ivf_index, sample_index, embedder):
    approximate, exact = Searcher(ivf_index[0], embedder), Searcher(sample_index, embedder)
    overlaps = []
    for question in QUESTIONS:
        assert approximate.search(question).results[0]["article_id"] == exact.search(question).results[0]["article_id"]
        vector = exact.query_vector(question)
        found = {i for i, _ in approximate.version.search(vector, 10)}
        overlaps.append(len(found & {i for i, _ in exact.version.search(vector, 10)}) / 10)
    assert np.mean(overlaps) >= 0.95


@pytest.mark.parametrize("ratio", [0.0, 1e9])
def test_filters_narrow_the_approximate_search(ivf_index, sample_index, embedder, monkeypatch, ratio):
    """A filter's passages are searched exactly over them (reading them made free) or through the IVF lists
    with more of them probed (reading made dear). Either way only allowed passages come back, as exact
    search finds them."""
    monkeypatch.setattr(vectors_module, "VECTORS", dataclasses.replace(VECTORS, subset_cost_ratio=ratio))
    approximate, exact = Searcher(ivf_index[0], embedder), Searcher(sample_index, embedder)
    for filters in ({"lang": "en"}, {"audience": "internal"}, {"lang": "nb", "category": "retur"}):
        allowed = approximate.version.allowed(filters)
        assert allowed.sum() < len(allowed)
        overlaps = []
        for question in QUESTIONS[:20]:
            vector = exact.query_vector(question)
            found = approximate.version.search(vector, 10, allowed)
            truth = exact.version.search(vector, 10, exact.version.allowed(filters))
            assert found and all(allowed[i] for i, _ in found)
            overlaps.append(len({i for i, _ in found} & {i for i, _ in truth}) / len(truth))
        if ratio == 0.0:
            assert overlaps == [1.0] * len(overlaps)
        assert np.mean(overlaps) >= 0.9
        results = approximate.search(QUESTIONS[0], filters=filters).results
        assert results and all(r["lang"] == filters.get("lang", r["lang"]) for r in results)


def copy_live(settings, target: Path) -> Path:
    version = live(settings)
    shutil.copytree(version.path, target)
    return target


def test_a_truncated_ivf_index_is_refused(ivf_index, tmp_path):
    copy = copy_live(ivf_index[0], tmp_path / "copy")
    data = (copy / "index.faiss").read_bytes()
    (copy / "index.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt, match=r"index\.faiss is missing or damaged .*rebuild it with: kb index$"):
        IndexVersion(copy)


def test_an_ivf_index_of_another_size_is_refused_by_verify(ivf_index, sample_index, tmp_path):
    """The parts must agree: an index.faiss from another build (here with 345 of the 346 vectors) is refused."""
    copy = copy_live(ivf_index[0], tmp_path / "copy")
    vectors = IndexVersion(copy).vectors()
    info = vectors_module.write_vectors(tmp_path, vectors[:-1], vectors.shape[1], approximate_above=100)
    assert info["kind"] == "ivf"
    shutil.copyfile(tmp_path / "index.faiss", copy / "index.faiss")
    with pytest.raises(IndexCorrupt, match=r"hold different numbers of passages \(index\.faiss 345, meta\.sqlite 346"):
        IndexVersion(copy).verify()


def test_an_ivf_index_without_its_id_map_is_refused(ivf_index, tmp_path):
    copy = copy_live(ivf_index[0], tmp_path / "copy")
    index = faiss.read_index(str(copy / "index.faiss"))
    index.set_direct_map_type(faiss.DirectMap.NoMap)
    faiss.write_index(index, str(copy / "index.faiss"))
    with pytest.raises(IndexCorrupt, match=r"index\.faiss is missing or damaged \(the IVF index has no map"):
        IndexVersion(copy)


def test_a_version_in_the_exact_format_of_earlier_builds_still_loads(sample_index, embedder, tmp_path):
    """Versions built before the vector index could be approximate have no `vectors` in their manifest, and
    their vectors in float32."""
    root = IndexRoot(tmp_path / "index")
    name = live(sample_index).name
    copy = copy_live(sample_index, root.versions / name)
    vectors = IndexVersion(copy).vectors()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss.write_index(flat, str(copy / "index.faiss"))
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["vectors"]
    manifest.pop("files", None)  # sizes recorded for the float16 file; checked thoroughly instead
    (copy / "manifest.json").write_text(json.dumps(manifest))
    root.switch_to(name)
    version = IndexVersion(copy)
    version.verify()
    assert version.index.kind == "exact"
    settings = dataclasses.replace(sample_index, index_dir=root.path)
    assert Searcher(settings, embedder).search(QUESTIONS[0]).results == Searcher(sample_index, embedder).search(
        QUESTIONS[0]).results


def test_a_rebuild_keeps_the_centroids_and_measures_again(tmp_path, embedder, onnx_cache):
    kb = tmp_path / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    settings = Settings(kb_dir=kb, index_dir=tmp_path / "index", onnx_cache=onnx_cache, approximate_above=100)
    first = build_index(settings, embedder=embedder)
    (kb / "ny.md").write_text("---\ntitle: Gavekort til bedrifter\n---\nBedrifter kan kjøpe gavekort i bulk.\n",
                              encoding="utf-8")
    second = build_index(settings, embedder=embedder)
    assert second.embedded_passages == 1
    assert second.vectors["centroids"] == f"kept from {first.version}"
    assert second.vectors["recall_at_10"] >= VECTORS.target_recall and second.vectors["recall_questions"] == 46
    first_version = IndexVersion(IndexRoot(settings.index_dir).version_dir(first.version))
    second_version = live(settings)
    assert np.array_equal(first_version.index.centroids(), second_version.index.centroids())
    assert Searcher(settings, embedder).search("gavekort bedrift bulk").results[0]["article_id"] == "ny"


def test_the_threshold_comes_from_the_environment():
    assert Settings.from_env({"KB_APPROXIMATE_ABOVE": "5000"}).approximate_above == 5000
    assert Settings.from_env({}).approximate_above is None
