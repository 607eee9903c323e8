"""The onnxruntime backend: the same vectors and token counts as the torch model, and a working index."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from indexer.builder import build_index
from indexer.embedding import get_embedder
from indexer.search import Searcher

from .conftest import SAMPLE_KB

TEXTS = [
    "kunden vil angre kjøpet",
    "The parcel never arrived, what can I do?",
    "Angrerett > Frister\nHva | Frist\nGi beskjed om at kunden angrer | 14 dager",
    "ord " * 600,
]


@pytest.fixture(scope="module")
def onnx_embedder(onnx_cache, embedder):
    return get_embedder(embedder.name, "onnx", onnx_cache)


def test_export_records_the_model(onnx_embedder):
    info = json.loads((onnx_embedder.folder / "export.json").read_text(encoding="utf-8"))
    assert info == {"format": 1, "model": "all-MiniLM-L6-v2", "dimension": 384, "max_seq_length": 256}
    assert (onnx_embedder.folder / "model.onnx").stat().st_size > 1_000_000


def test_same_vectors_and_token_counts_as_torch(onnx_embedder, embedder):
    assert np.abs(onnx_embedder.embed_documents(TEXTS) - embedder.embed_documents(TEXTS)).max() < 1e-5
    assert [onnx_embedder.count_tokens(t) for t in TEXTS] == [embedder.count_tokens(t) for t in TEXTS]
    query = onnx_embedder.embed_query("hvor lenge er angreretten")
    assert query.shape == (1, 384)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5


def test_an_index_built_with_torch_is_reused_and_searched_with_onnx(mini_settings, embedder, onnx_embedder):
    build_index(mini_settings, embedder=embedder)
    onnx_settings = mini_settings.with_overrides(backend="onnx")
    again = build_index(onnx_settings, embedder=onnx_embedder)
    assert (again.unchanged, again.embedded_passages) == (3, 0)
    torch_results = Searcher(mini_settings, embedder).search("TV shows E-101", k=3, mode="dense").results
    onnx_results = Searcher(onnx_settings, onnx_embedder).search("TV shows E-101", k=3, mode="dense").results
    assert [r["article_id"] for r in onnx_results] == [r["article_id"] for r in torch_results]


def test_golden_questions_pass_with_onnx_too(sample_index, onnx_embedder):
    from indexer.evaluation import load_questions, report, run

    # Documents embed the same through both backends (above); the sample index serves ONNX questions as is.
    settings = sample_index.with_overrides(backend="onnx")
    questions = load_questions(SAMPLE_KB.parent / "tests" / "golden_questions.yaml")
    scores = report(run(Searcher(settings, onnx_embedder), questions))["by_language"]
    assert scores["nb"]["recall@3"] >= 0.95 and scores["en"]["recall@3"] >= 0.95


def test_serving_with_onnx_never_imports_torch(tmp_path, onnx_embedder, mini_settings, embedder):
    build_index(mini_settings, embedder=embedder)
    code = (
        "import sys, json\n"
        "from indexer.config import Settings\nfrom indexer.embedding import get_embedder\n"
        "from indexer.search import Searcher\nfrom pathlib import Path\n"
        f"s = Settings(index_dir=Path({str(mini_settings.index_dir)!r}), backend='onnx')\n"
        f"e = get_embedder('all-MiniLM-L6-v2', 'onnx', Path({str(onnx_embedder.folder.parent)!r}))\n"
        "r = Searcher(s, e).search('TV shows E-101', k=1)\n"
        "print(json.dumps([r.results[0]['article_id'], 'torch' in sys.modules]))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(output.strip().splitlines()[-1]) == ["guides/tv-no-signal.en", False]


def test_unknown_backend_is_refused():
    from indexer.errors import KBError

    with pytest.raises(KBError, match="backend must be one of auto, torch, onnx, not 'gpu'"):
        get_embedder("all-MiniLM-L6-v2", "gpu")


def test_auto_backend_is_onnx_for_the_bundled_model_and_torch_for_others():
    from indexer.embedding import resolve_backend

    assert resolve_backend("all-MiniLM-L6-v2", "auto") == "onnx"
    assert resolve_backend("/models/multilingual-e5-small", "auto") == "torch"
    assert resolve_backend("all-MiniLM-L6-v2", "torch") == "torch"


def test_onnx_cache_comes_from_the_environment(tmp_path):
    from indexer.config import Settings

    assert Settings.from_env({"KB_INDEX_DIR": str(tmp_path)}).onnx_dir == tmp_path / "onnx"
    assert Settings.from_env({"KB_ONNX_DIR": "/srv/onnx"}).onnx_dir.as_posix() == "/srv/onnx"
