"""The second bundled model, all-MiniLM-L6-v2, by name: through torch and through its ONNX export, which give
the same vectors and token counts, and a working index either way."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from indexer.embedding import get_embedder
from indexer.embedding.catalog import resolve_backend
from indexer.ingest.builder import build_index
from indexer.retrieval.search import Searcher

from .conftest import SAMPLE_KB

MINILM = "all-MiniLM-L6-v2"
TEXTS = [
    "kunden vil angre kjøpet",
    "The parcel never arrived, what can I do?",
    "Angrerett > Frister\nHva | Frist\nGi beskjed om at kunden angrer | 14 dager",
    "ord " * 600,
]


@pytest.fixture(scope="module")
def torch_minilm():
    model = get_embedder(MINILM, "torch")
    model.model  # noqa: B018 - load now
    return model


@pytest.fixture(scope="module")
def onnx_minilm(onnx_cache):
    return get_embedder(MINILM, "onnx", onnx_cache)


def test_export_records_the_model(onnx_minilm):
    info = json.loads((onnx_minilm.folder / "export.json").read_text(encoding="utf-8"))
    assert info == {"format": 2, "model": MINILM, "dimension": 384, "max_seq_length": 256,
                    "prefixes": {"query": "", "passage": ""}}
    assert (onnx_minilm.folder / "model.onnx").stat().st_size > 1_000_000
    assert onnx_minilm.token_limit == 254


def test_same_vectors_and_token_counts_as_torch(onnx_minilm, torch_minilm):
    assert np.abs(onnx_minilm.embed_documents(TEXTS) - torch_minilm.embed_documents(TEXTS)).max() < 1e-5
    assert [onnx_minilm.count_tokens(t) for t in TEXTS] == [torch_minilm.count_tokens(t) for t in TEXTS]
    query = onnx_minilm.embed_query("hvor lenge er angreretten")
    assert query.shape == (1, 384)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5


def test_an_index_built_with_torch_is_reused_and_searched_with_onnx(mini_settings, torch_minilm, onnx_minilm):
    settings = mini_settings.with_overrides(model=MINILM, backend="torch")
    build_index(settings, embedder=torch_minilm)
    onnx_settings = settings.with_overrides(backend="onnx")
    again = build_index(onnx_settings, embedder=onnx_minilm)
    assert (again.unchanged, again.embedded_passages) == (3, 0)
    torch_results = Searcher(settings, torch_minilm).search("TV shows E-101", k=3, mode="dense").results
    onnx_results = Searcher(onnx_settings, onnx_minilm).search("TV shows E-101", k=3, mode="dense").results
    assert [r["article_id"] for r in onnx_results] == [r["article_id"] for r in torch_results]


def test_golden_questions_pass_with_minilm(tmp_path, onnx_minilm):
    from indexer.config import Settings
    from indexer.retrieval.evaluation import load_questions, report, run

    settings = Settings(kb_dir=SAMPLE_KB, index_dir=tmp_path / "index", model=MINILM)
    build_index(settings, embedder=onnx_minilm)
    questions = load_questions(SAMPLE_KB.parent / "tests" / "golden_questions.yaml")
    scores = report(run(Searcher(settings, onnx_minilm), questions))["by_language"]
    assert scores["nb"]["recall@3"] >= 0.95 and scores["en"]["recall@3"] >= 0.95


def test_serving_with_onnx_never_imports_torch(mini_settings, onnx_minilm):
    settings = mini_settings.with_overrides(model=MINILM)
    build_index(settings, embedder=onnx_minilm)
    code = (
        "import sys, json\n"
        "from indexer.config import Settings\nfrom indexer.embedding import get_embedder\n"
        "from indexer.retrieval.search import Searcher\nfrom pathlib import Path\n"
        f"s = Settings(index_dir=Path({str(settings.index_dir)!r}), model={MINILM!r}, backend='onnx')\n"
        f"e = get_embedder({MINILM!r}, 'onnx', Path({str(onnx_minilm.folder.parent)!r}))\n"
        "r = Searcher(s, e).search('TV shows E-101', k=1)\n"
        "print(json.dumps([r.results[0]['article_id'], 'torch' in sys.modules]))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(output.strip().splitlines()[-1]) == ["guides/tv-no-signal.en", False]


def test_unknown_backend_is_refused():
    from indexer.errors import KBError

    with pytest.raises(KBError, match="backend must be one of auto, torch, onnx, not 'gpu'"):
        get_embedder(MINILM, "gpu")


def test_auto_backend_is_onnx_for_the_bundled_models_and_torch_for_others():
    assert resolve_backend(MINILM, "auto") == "onnx"
    assert resolve_backend("multilingual-e5-small", "auto") == "onnx"
    assert resolve_backend("/models/multilingual-e5-base", "auto") == "torch"
    assert resolve_backend(MINILM, "torch") == "torch"


def test_onnx_cache_comes_from_the_environment(tmp_path):
    from indexer.config import Settings

    assert Settings.from_env({"KB_INDEX_DIR": str(tmp_path)}).onnx_dir == tmp_path / "onnx"
    assert Settings.from_env({"KB_ONNX_DIR": "/srv/onnx"}).onnx_dir.as_posix() == "/srv/onnx"
