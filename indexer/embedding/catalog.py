"""The two models that ship inside PyPI packages, the names they answer to, and how each runs by default."""

from __future__ import annotations

from ..config import DEFAULT_MODEL

MULTILINGUAL_E5_SMALL = "multilingual-e5-small"
MINILM = "all-MiniLM-L6-v2"
_ALIASES = {
    MULTILINGUAL_E5_SMALL: MULTILINGUAL_E5_SMALL, "intfloat/multilingual-e5-small": MULTILINGUAL_E5_SMALL,
    MINILM: MINILM, "sentence-transformers/all-MiniLM-L6-v2": MINILM,
    "default": DEFAULT_MODEL,
}
BACKENDS = ("auto", "torch", "onnx")


def canonical_name(name: str) -> str:
    """A bundled model's own name for any of its aliases; any other name or path as given."""
    return _ALIASES.get(name, name)


def is_bundled(name: str) -> bool:
    """Whether the model's weights come from an installed package rather than a path or the hub cache."""
    return canonical_name(name) in (MULTILINGUAL_E5_SMALL, MINILM)


def resolve_backend(name: str, backend: str) -> str:
    """The backend "auto" stands for: onnx for the bundled models, whose conversion and export are tested
    against their references, torch (sentence-transformers) for any other."""
    if backend != "auto":
        return backend
    return "onnx" if is_bundled(name) else "torch"
