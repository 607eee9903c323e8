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

    Each language's rows are kept as one block, so a search among one language's passages (the other
    language's, for a question the keywords cannot answer there) reads that block only: a KB of 18,000
    English passages and two bokmål ones scans two rows for an English question, not 18,000.
    """

    def __init__(self, vectors: np.ndarray, langs: list[str]):
        vectors = np.asarray(vectors, dtype=np.float32)
        langs = np.asarray(langs, dtype=object)
        self.dimension = vectors.shape[1] if vectors.ndim == 2 else 0
        self.common = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1:], dtype=np.float32)
        self.means: dict[str, np.ndarray] = {}
        # Per language: the passage ids of its rows, in order, and the centred rows.
        self.blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.languages = sorted(set(langs.tolist()))
        self._language_of = np.zeros(len(langs), dtype=np.int16)
        self._row_of = np.zeros(len(langs), dtype=np.int64)
        for code, lang in enumerate(self.languages):
            ids = np.flatnonzero(langs == lang)
            block = vectors[ids]
            self.means[lang] = block.mean(axis=0)
            block -= self.means[lang]
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            block /= np.where(norms > 0, norms, 1.0)
            self.blocks[lang] = (ids, block)
            self._language_of[ids] = code
            self._row_of[ids] = np.arange(len(ids))

    def query(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        """The question's vector without the mean of its language's passages (the common mean when the KB has
        no passage in that language, or the language is unknown)."""
        centred = np.asarray(vector, dtype=np.float32).reshape(-1) - self.means.get(lang, self.common)
        norm = float(np.linalg.norm(centred))
        return centred / norm if norm > 0 else centred

    def rows(self, ids) -> np.ndarray:
        """The centred vectors of passages `ids`, in that order."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        codes = self._language_of[ids]
        for code, lang in enumerate(self.languages):
            chosen = codes == code
            if chosen.any():
                out[chosen] = self.blocks[lang][1][self._row_of[ids[chosen]]]
        return out

    def search(self, vector: np.ndarray, lang: str | None, count: int, allowed: np.ndarray | None = None,
               among: list[str] | None = None) -> list[tuple[int, float]]:
        """(passage id, centred cosine) pairs, best first, among the passages of the languages `among` (all
        when None) and only `allowed` ones when a mask over every passage id is given."""
        query = self.query(vector, lang)
        found_ids, found_scores = [], []
        for block_lang in self.languages if among is None else [lang for lang in among if lang in self.blocks]:
            ids, block = self.blocks[block_lang]
            scores = block @ query
            if allowed is not None:
                scores = np.where(allowed[ids], scores, -np.inf)
            wanted = min(count, len(scores) if allowed is None else int(np.count_nonzero(allowed[ids])))
            if wanted <= 0:
                continue
            top = np.argpartition(-scores, wanted - 1)[:wanted]
            found_ids.append(ids[top])
            found_scores.append(scores[top])
        if not found_ids:
            return []
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        order = np.argsort(-scores, kind="stable")[:count]
        return [(int(ids[i]), float(scores[i])) for i in order]

    def ranks_among(self, vector: np.ndarray, lang: str | None, ids: list[int], pool: list[int]) -> dict[int, int]:
        """Each of `ids`' rank by centred cosine among `ids` and `pool` together (1 is the closest): where a
        passage in another language would stand among the question's own language's candidates had language
        not mattered."""
        everyone = np.unique(np.asarray([*ids, *pool], dtype=np.int64))
        if not len(everyone):
            return {}
        scores = self.rows(everyone) @ self.query(vector, lang)
        own = scores[np.searchsorted(everyone, np.asarray(ids, dtype=np.int64))]
        # How many of the candidates are closer than each passage, plus one.
        closer = len(scores) - np.searchsorted(np.sort(scores), own, side="right")
        return {int(passage_id): int(rank) + 1 for passage_id, rank in zip(ids, closer, strict=True)}
