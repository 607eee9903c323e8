"""Merge the dense and the lexical ranking, trusting each side as much as it has earned for the language.

Weighted reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): a passage scores
w_dense / (K + dense rank) + w_lexical / (K + lexical rank). Ranks, not raw scores, so cosine
similarities and BM25 scores need no common scale. The weights differ per query language because the
bundled English model is weak in bokmål: there, letting it vote as loudly as BM25 pulls good keyword
hits down. The weights below were chosen with `bench/beir.py` and the sample KB's golden questions.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..embedding.catalog import MINILM, MULTILINGUAL_E5_SMALL, canonical_name
from ..errors import KBError


@dataclass(frozen=True)
class FusionTuning:
    """The rank-fusion constants, each set by the bench its comment names."""

    # How much the first ranks count over the later ones (60 in the original paper). Chosen with e5 on
    # norquad-retrieval's dev split (bench/tune_fusion.py, hybrid nDCG@10, bokmål weights 0.3 / 0.5 / 0.7:1):
    # K = 10: 0.9525 / 0.9536 / 0.9545, 20: 0.9537 / 0.9522 / 0.9503, 40: 0.9511 / 0.9510 / 0.9504,
    # 60: 0.9507 / 0.9518 / 0.9495; the golden questions' Recall@1 and @3 were the same for 10 and 60.
    rrf_k: int = 10
    # How much a passage the keyword side cannot see (another language than the question's) keeps of the
    # score its model rank there would give it on both sides (see fuse). With K = 10, 0.7 found 7 of the 8
    # cross-language golden questions in the first three (without: 4) and is the largest that cost the
    # same-language golden questions nothing (0.8 dropped English Recall@1 from 0.86 to 0.79; 0.9 bokmål
    # Recall@1 from 0.92 to 0.79), bench/tune_fusion.py.
    unseen_factor: float = 0.7


FUSION = FusionTuning()


@dataclass(frozen=True)
class FusionWeights:
    """How loudly each side votes."""

    dense: float
    lexical: float


# Measured for the bundled all-MiniLM-L6-v2 (see README, "Search quality"); None is a question whose
# language could not be told. In bokmål every dense weight lowered nDCG@10 on norquad-retrieval
# (0.3: 0.869, 0.1: 0.905, 0.05: 0.919, 0.02: 0.925, lexical alone 0.927 then), so there the dense side
# gets no vote and only fills the list when the keywords find too little (see `fuse`).
MINILM_WEIGHTS = {
    "en": FusionWeights(dense=1.0, lexical=1.0),
    "nb": FusionWeights(dense=0.0, lexical=1.0),
    None: FusionWeights(dense=0.5, lexical=1.0),
}
# Measured for multilingual-e5-small, which reads both languages (see README, "Search quality"). In bokmål
# the model earns a vote, but a smaller one than the keywords: with K = 10 on norquad-retrieval's dev split,
# hybrid nDCG@10 for dense:lexical 0.3:1 0.9525, 0.5:1 0.9536, 0.7:1 0.9545 (bench/tune_fusion.py), at the
# same golden-question Recall@1 0.92 and @3 1.00 for 0.5 and 0.7 (0.3: Recall@1 0.89). With K = 60 on the
# test split, earlier: 1:0.7 0.935, 1:1 0.941, 0.7:1 0.942, 0.5:1 0.946, 0.3:1 0.945.
E5_WEIGHTS = {
    "en": FusionWeights(dense=1.0, lexical=1.0),
    "nb": FusionWeights(dense=0.7, lexical=1.0),
    None: FusionWeights(dense=1.0, lexical=1.0),
}
MODEL_WEIGHTS = {MINILM: MINILM_WEIGHTS, MULTILINGUAL_E5_SMALL: E5_WEIGHTS}
# A configured model we know nothing about (often a multilingual one) gets an equal vote everywhere.
OTHER_MODEL_WEIGHTS = FusionWeights(dense=1.0, lexical=1.0)


def weights_for(model: str, lang: str | None, overrides: dict | None = None) -> FusionWeights:
    """The weights for a question in `lang` searched with `model`; `overrides` maps languages to weights."""
    if overrides and lang in overrides:
        return overrides[lang]
    table = MODEL_WEIGHTS.get(canonical_name(model))
    if table is None:
        return OTHER_MODEL_WEIGHTS
    return table.get(lang, table[None])


def parse_weights(spec: str) -> dict[str | None, FusionWeights]:
    """`nb=0.3:1,en=1:1,any=0.5:1` (dense:lexical per language) as a weights table."""
    table: dict[str | None, FusionWeights] = {}
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        lang, _, pair = part.partition("=")
        dense, _, lexical = pair.partition(":")
        try:
            weights = FusionWeights(float(dense), float(lexical))
        except ValueError:
            raise KBError(f"fusion weights {part!r}: expected LANG=DENSE:LEXICAL, e.g. nb=0.3:1") from None
        table[None if lang.strip() in ("any", "") else lang.strip()] = weights
    return table


def fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], weights: FusionWeights,
    across: list[tuple[int, float]] = (), k: int | None = None, unseen_factor: float | None = None,
) -> list[tuple[int, float]]:
    """(passage id, score) best first; the score is scaled so a passage first on both sides scores 1.

    A side with no vote does not reorder anything: its hits only follow the other side's, so a question
    the voting side cannot answer still gets results. `across` is the model's own ranking of the passages
    the keyword side is blind to (another language than the question's, by language-centred cosine): the
    keywords' silence about them says nothing, so such a passage scores at least what it would if both
    sides ranked it where the model does there, times `unseen_factor` (it is still in the other language).
    """
    k = FUSION.rrf_k if k is None else k
    unseen_factor = FUSION.unseen_factor if unseen_factor is None else unseen_factor
    fused: dict[int, float] = {}
    for hits, weight in ((dense, weights.dense), (lexical, weights.lexical)):
        if weight <= 0:
            continue
        for rank, (passage_id, _) in enumerate(hits, start=1):
            fused[passage_id] = fused.get(passage_id, 0.0) + weight / (k + rank)
    if weights.dense > 0 and weights.lexical > 0 and unseen_factor > 0:
        both = weights.dense + weights.lexical
        for rank, (passage_id, _) in enumerate(across, start=1):
            fused[passage_id] = max(fused.get(passage_id, 0.0), unseen_factor * both / (k + rank))
    best_possible = (max(weights.dense, 0) + max(weights.lexical, 0)) / (k + 1)
    ranked = [(passage_id, score / best_possible)
              for passage_id, score in sorted(fused.items(), key=lambda item: item[1], reverse=True)]
    for hits, weight in ((dense, weights.dense), (lexical, weights.lexical)):
        if weight <= 0:
            ranked.extend(_fill(hits, ranked))
    return ranked


def _fill(hits: list[tuple[int, float]], ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The silent side's hits that are not ranked yet, scored below everything ranked, in their order."""
    floor = ranked[-1][1] if ranked else 1.0
    seen = {passage_id for passage_id, _ in ranked}
    extra = [passage_id for passage_id, _ in hits if passage_id not in seen]
    return [(passage_id, floor * (len(extra) - i) / (len(extra) + 1)) for i, passage_id in enumerate(extra)]


def dense_needed(weights: FusionWeights, lexical_hits: int, wanted: int) -> bool:
    """Whether to run the model: the dense side votes, or the keywords found fewer hits than wanted."""
    return weights.dense > 0 or lexical_hits < wanted
