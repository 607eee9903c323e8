"""Search by meaning with each language's mean vector taken out, so a question finds answers in either language.

A multilingual model places each language's texts in a region of its own: an English question sits closer
to every English passage than to the bokmål one that answers it. Subtracting the mean vector of each
language's passages (and, from the question, the mean of its own language's passages) removes most of that
language identity and keeps the meaning (Libovický, Rosa and Fraser, 2020, "On the language neutrality of
pre-trained multilingual representations"). In a KB of one language it is the common mean that goes, which
also spreads the compressed cosines of e5. The stored vectors stay as they are (a rebuild reuses them); the
centred copy is made when a version is opened.
"""

from __future__ import annotations

import numpy as np

from ..embedding.catalog import MINILM, MULTILINGUAL_E5_SMALL, canonical_name

# Which models search centred vectors. multilingual-e5-small: the 8 cross-language golden questions found
# by meaning alone in the first three rose from 3 to 7, same-language golden Recall@3 from 0.92 to 0.96, and
# norquad-retrieval and SciFact are in the README. all-MiniLM-L6-v2 reads English only, so there is no
# language identity to remove and its measured figures were taken without.
CENTRED_MODELS = {MULTILINGUAL_E5_SMALL: True, MINILM: False}


def centring_for(model: str) -> bool:
    """Whether dense search with `model` uses language-centred vectors (a model we have not measured: no)."""
    return CENTRED_MODELS.get(canonical_name(model), False)


class CentredVectors:
    """Unit vectors with their language's mean passage vector subtracted, searched exactly.

    `vectors` (row i for passage id i) is centred in place, so a large KB is not held twice while it is made.
    """

    def __init__(self, vectors: np.ndarray, langs: list[str]):
        vectors = np.asarray(vectors, dtype=np.float32)
        langs = np.asarray(langs, dtype=object)
        self.means = {lang: vectors[langs == lang].mean(axis=0) for lang in sorted(set(langs.tolist()))}
        self.common = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1:], dtype=np.float32)
        for lang, mean in self.means.items():
            vectors[langs == lang] -= mean
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.where(norms > 0, norms, 1.0)
        self.matrix = vectors

    def query(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        """The question's vector without the mean of its language's passages (the common mean when the KB has
        no passage in that language, or the language is unknown)."""
        centred = np.asarray(vector, dtype=np.float32).reshape(-1) - self.means.get(lang, self.common)
        norm = float(np.linalg.norm(centred))
        return centred / norm if norm > 0 else centred

    def search(self, vector: np.ndarray, lang: str | None, count: int,
               allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, centred cosine) pairs, best first, only among `allowed` passages when a mask is given."""
        if not len(self.matrix):
            return []
        scores = self.matrix @ self.query(vector, lang)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
            count = min(count, int(np.count_nonzero(allowed)))
        count = min(count, len(scores))
        if count <= 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top]

    def ranks_among(self, vector: np.ndarray, lang: str | None, ids: list[int], pool: list[int]) -> dict[int, int]:
        """Each of `ids`' rank by centred cosine among `ids` and `pool` together (1 is the closest): where a
        passage in another language would stand among the question's own language's candidates had language
        not mattered."""
        everyone = np.unique(np.asarray([*ids, *pool], dtype=np.int64))
        if not len(everyone):
            return {}
        scores = self.matrix[everyone] @ self.query(vector, lang)
        own = scores[np.searchsorted(everyone, np.asarray(ids, dtype=np.int64))]
        # How many of the candidates are closer than each passage, plus one.
        closer = len(scores) - np.searchsorted(np.sort(scores), own, side="right")
        return {int(passage_id): int(rank) + 1 for passage_id, rank in zip(ids, closer, strict=True)}
