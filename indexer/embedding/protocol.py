"""What every embedding backend offers the indexer and the searcher, and how an index records it."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Unit-length vectors for passages and questions, and the model's own token counts.

    `embed_documents` and `embed_query` add the model's passage and query prefixes themselves (e5 reads
    "passage: " and "query: "; MiniLM none), so callers pass the text alone.
    """

    name: str
    dimension: int
    max_seq_length: int
    query_prefix: str
    passage_prefix: str

    @property
    def token_limit(self) -> int:
        """Pieces a passage may have (counted by `count_tokens`) for the model to read all of it."""

    def count_tokens(self, text: str) -> int:
        """Pieces in `text` alone, without prefix and special tokens."""

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """One unit-length float32 row per passage."""

    def embed_query(self, text: str) -> np.ndarray:
        """One unit-length vector for a question, shaped (1, dimension)."""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per question."""


class PrefixedEncoder:
    """The three embedding calls over one `_encode(texts, progress)` that reads texts as given: every backend
    adds the model's prefixes the same way."""

    query_prefix = ""
    passage_prefix = ""

    @property
    def token_limit(self) -> int:
        """Pieces a passage may have for the model to read all of it with its prefix and special tokens."""
        return self.max_seq_length - 2 - (self.count_tokens(self.passage_prefix) if self.passage_prefix else 0)

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors for passages, one row per text."""
        return self._encode([self.passage_prefix + text for text in texts], progress)

    def embed_query(self, text: str) -> np.ndarray:
        """One unit-length vector for a question, shaped (1, dimension)."""
        return self.embed_queries([text])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors for questions (read with the query prefix), one row per text."""
        return self._encode([self.query_prefix + text for text in texts], False)


def describe(embedder: Embedder) -> dict:
    """The model as an index manifest records it: a version built with anything else is refused."""
    return {
        "name": embedder.name, "dimension": int(embedder.dimension), "max_seq_length": int(embedder.max_seq_length),
        "token_limit": int(embedder.token_limit), "query_prefix": embedder.query_prefix,
        "passage_prefix": embedder.passage_prefix, "weights_sha256": getattr(embedder, "source_sha256", None),
    }
