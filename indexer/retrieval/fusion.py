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
    # score its model rank would give it on both sides (see fuse), ranked among all the question's candidates by
    # centred cosine. With K = 10, coverage power 0.25 and 1:1 (bench/tune_fusion.py --grid unseen), 0.7 found 7
    # of the 8 cross-language golden questions in the first three (0.6: 5) with golden Recall@1 / @3 0.842 / 1.0
    # in bokmål and 0.857 / 1.0 in English; 0.8 gave bokmål 0.868 / 1.0 but English 0.786 / 1.0. Ranked only
    # among the other language's passages instead, 0.7 pushed a bokmål golden question out of the first three.
    unseen_factor: float = 0.7
    # How much a keyword hit's vote depends on how much of the question it holds: the vote is multiplied by its
    # coverage (the share of the question's keyword weight among the passage's terms) to this power, when both
    # sides vote. BM25 ranks something first even when it matches one common word of a paraphrased question.
    # Chosen with the bokmål weights below on the 50 bokmål dev questions (bench/agent_questions_dev.yaml),
    # norquad-retrieval dev and the golden questions (bench/tune_fusion.py --grid coverage --sets
    # sample,norquad,agent): with K = 10 and 1:1, powers 0 / 0.25 / 0.5 / 1 gave agent Recall@3 0.64 / 0.68 / 0.68
    # / 0.72 and norquad dev nDCG@10 0.9486 / 0.9549 / 0.9541 / 0.9497; 0.5 and more lost a bokmål golden question
    # (Recall@3 0.974) and a cross-language one (0.750) from the first three, 0.25 none.
    coverage_power: float = 0.25


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
# Measured for multilingual-e5-small, which reads both languages (see README, "Search quality"). In bokmål the
# keywords once got the larger vote, chosen on norquad-retrieval, whose questions share their passages' words (dev
# nDCG@10 0.3:1 0.9525, 0.5:1 0.9536, 0.7:1 0.9545 with K = 10, bench/tune_fusion.py). Agents paraphrase, where the
# model is far stronger: on bench/agent_questions_dev.yaml hybrid Recall@3 was 0.58 against the model's 0.72 at 0.7:1.
# With keyword votes scaled by coverage (FUSION.coverage_power 0.25), 1:1 gave the dev questions Recall@1 / @3 0.48 /
# 0.68 (0.7:1 0.40 / 0.62; 1.5:1 0.50 / 0.70 but norquad dev nDCG@10 0.943) at norquad dev 0.9549 (0.7:1 unscaled:
# 0.9526) and the same golden Recall@3, bench/tune_fusion.py --grid coverage. In English the model's vote is 0.7,
# chosen on SciFact's train split (bench/beir.py --split train --weights en=D:L, hybrid nDCG@10: 1:1 0.7234,
# 0.7:1 0.7309, 0.5:1 0.7289, 1:0.7 0.7112, 1:0.5 0.6995) and bench/agent_questions_dev.yaml over
# ms-officedocs-support (hybrid Recall@3 1:1 0.923, 0.7:1 0.962); the English golden Recall@1 / @3 stay 0.857 / 1.0.
E5_WEIGHTS = {
    "en": FusionWeights(dense=0.7, lexical=1.0),
    "nb": FusionWeights(dense=1.0, lexical=1.0),
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
    coverage: dict[int, float] | None = None, coverage_power: float | None = None,
    across_ranks: dict[int, int] | None = None,
) -> list[tuple[int, float]]:
    """(passage id, score) best first; the score is scaled so a passage first on both sides scores 1 (with
    `coverage`, the best-covered keyword hit first on both sides).

    A side with no vote does not reorder anything: its hits only follow the other side's, so a question
    the voting side cannot answer still gets results. `across` is the model's own ranking of the passages
    the keyword side is blind to (another language than the question's, by language-centred cosine): the
    keywords' silence about them says nothing, so such a passage scores at least what it would if both
    sides ranked it where the model does, times `unseen_factor` (it is still in the other language): at its
    rank in `across_ranks` (among the question's candidates in every language, by centred cosine), or at
    its place in `across` when no ranks are given.
    `coverage` maps keyword hits to the share of the question they hold: when both sides vote, a keyword
    vote counts that share to `coverage_power`, so a passage matching one word of a paraphrase does not
    outvote the model as if it matched them all; an unseen passage is then credited with the coverage of
    the best keyword hit.
    """
    k = FUSION.rrf_k if k is None else k
    unseen_factor = FUSION.unseen_factor if unseen_factor is None else unseen_factor
    coverage_power = FUSION.coverage_power if coverage_power is None else coverage_power
    fused: dict[int, float] = {}
    both_vote = weights.dense > 0 and weights.lexical > 0
    scaled_any = both_vote and coverage is not None and coverage_power > 0
    for hits, weight, side in ((dense, weights.dense, "dense"), (lexical, weights.lexical, "lexical")):
        if weight <= 0:
            continue
        scaled = side == "lexical" and scaled_any
        for rank, (passage_id, _) in enumerate(hits, start=1):
            vote = weight * coverage.get(passage_id, 0.0) ** coverage_power if scaled else weight
            fused[passage_id] = fused.get(passage_id, 0.0) + vote / (k + rank)
    # The most a keyword vote can count for this question: the best hit's share of it.
    held = max(coverage.values(), default=1.0) ** coverage_power if scaled_any else 1.0
    if both_vote and unseen_factor > 0:
        # The keyword side, had it seen them, would have held as much of the question as its best hit does.
        both = weights.dense + weights.lexical * held
        for place, (passage_id, _) in enumerate(across, start=1):
            rank = place if across_ranks is None else across_ranks.get(passage_id, place)
            fused[passage_id] = max(fused.get(passage_id, 0.0), unseen_factor * both / (k + rank))
    best_possible = (max(weights.dense, 0) + max(weights.lexical, 0) * held) / (k + 1)
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
