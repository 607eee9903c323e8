"""Keyword analysis per language, BM25 over passages, fusion, synonyms and language detection."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.errors import ArticleError, KBError
from indexer.kb.synonyms import Synonyms
from indexer.retrieval.centring import CentredVectors
from indexer.retrieval.fusion import FUSION, FusionWeights, fuse, parse_weights, weights_for
from indexer.text.language import detect_language
from indexer.text.lexical import Analyzer, LexicalIndex, fold


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


def test_fold_keeps_norwegian_letters():
    assert fold("Café ÅPENT Kjøp ÆØÅ naïve") == "cafe åpent kjøp æøå naive"


@pytest.mark.parametrize(
    ("inflected", "base"),
    [("robotstøvsugeren", "robotstøvsuger"), ("firmaet", "firma"), ("fakturaen", "faktura"),
     ("returnerte varene", "returnere varen")],
)
def test_bokmål_stemming_joins_inflections(analyzer, inflected, base):
    assert analyzer.terms(inflected, "nb") == analyzer.terms(base, "nb")


def test_english_stemming_and_stopwords(analyzer):
    assert analyzer.terms("the parcels were delivered", "en") == ["parcel", "deliv"]


def test_codes_are_indexed_in_parts_and_joined(analyzer):
    assert analyzer.terms("feilkode E-101 på AU55-Q4", "nb") == ["feilkod", "e", "101", "e101", "au55", "q4", "au55q4"]


def test_query_syntax_characters_are_just_text(analyzer):
    terms = analyzer.query_terms('"angrerett" OR NEAR(x*) : -- ; DROP TABLE', ["nb", "en"])
    assert terms == ["angrerett", "near", "x", "drop", "tabl"]


def test_bm25_ranks_and_masks():
    analyzer = Analyzer()
    docs = [analyzer.terms(text, "nb") for text in (
        "Angrerett i 14 dager for netthandel", "Reklamasjon i to år", "Levering av pakker", "")]
    index = LexicalIndex.build(docs)
    hits = index.search([(analyzer.terms("angreretten", "nb"), 1.0)], 10)
    assert [passage for passage, _ in hits] == [0]
    assert index.search([(["ukjentord"], 1.0)], 10) == []
    mask = np.array([False, True, True, True])
    assert index.search([(analyzer.terms("angrerett reklamasjon", "nb"), 1.0)], 10, mask)[0][0] == 1


def test_lexical_index_round_trip(tmp_path):
    index = LexicalIndex.build([["a", "b"], ["b", "c"]])
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.search([(["c"], 1.0)], 5) == index.search([(["c"], 1.0)], 5)
    assert [passage for passage, _ in loaded.search([(["c"], 1.0)], 5)] == [1]
    assert not any(path.suffix == ".pkl" for path in tmp_path.iterdir())
    # The score arrays are read from the files' mapping (which the workers of a server share), not copied.
    for name in ("data", "indices", "indptr"):
        array = loaded.model.scores[name]
        assert not array.flags.owndata and isinstance(array.base, np.memmap)


def test_fusion_rewards_agreement_and_scales_to_one():
    fused = fuse([(1, 0.9), (2, 0.8)], [(1, 12.0), (3, 5.0)], FusionWeights(1.0, 1.0))
    assert [passage for passage, _ in fused] == [1, 2, 3]
    assert fused[0][1] == pytest.approx(1.0)


def test_a_small_dense_weight_only_fills_in_below_keyword_hits():
    lexical = [(passage, 10.0 - passage) for passage in range(50)]
    dense = [(99, 0.9)] + lexical[::-1]
    fused = fuse(dense, lexical, FusionWeights(0.01, 1.0))
    assert [passage for passage, _ in fused][:50] == list(range(50))
    assert fused[-1][0] == 99


def test_a_side_without_a_vote_only_fills_in():
    lexical = [(1, 9.0), (2, 8.0)]
    dense = [(3, 0.9), (2, 0.8), (4, 0.7)]
    fused = fuse(dense, lexical, FusionWeights(0.0, 1.0))
    assert [passage for passage, _ in fused] == [1, 2, 3, 4]
    scores = [score for _, score in fused]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_a_passage_the_keywords_cannot_see_is_not_punished_for_their_silence():
    # Passage 7 is in the other language: the model ranks it second, the keywords never see it.
    dense = [(4, 0.9), (7, 0.8)]
    lexical = [(1, 9.0), (4, 8.0)]
    assert [passage for passage, _ in fuse(dense, lexical, FusionWeights(1.0, 1.0), k=60)] == [4, 1, 7]
    # Among the passages in the other language, the model ranks 7 first by centred cosine.
    fused = fuse(dense, lexical, FusionWeights(1.0, 1.0), across=[(7, 0.4)], k=60)
    # Agreement of both sides still comes first; the unseen passage no longer trails a keyword-only hit.
    assert [passage for passage, _ in fused] == [4, 7, 1]
    assert dict(fused)[7] == pytest.approx(FUSION.unseen_factor)
    # Without a keyword vote there is nothing to make up for.
    assert [p for p, _ in fuse(dense, lexical, FusionWeights(0.0, 1.0), across=[(7, 0.4)])] == [1, 4, 7]


def test_an_unseen_passage_is_credited_with_its_rank_among_every_candidate():
    # First among the other language's passages, but third by centred cosine among all the candidates: it is
    # credited as third, and a passage both sides agree on keeps its lead.
    dense = [(4, 0.9), (1, 0.85), (7, 0.8)]
    lexical = [(4, 9.0), (1, 8.0)]
    fused = dict(fuse(dense, lexical, FusionWeights(1.0, 1.0), across=[(7, 0.4)], k=10, across_ranks={7: 3}))
    assert fused[7] == pytest.approx(FUSION.unseen_factor * 11 / 13)
    assert fused[4] > fused[1] > fused[7]


def test_ranks_among_counts_the_closer_candidates_in_every_language():
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    centred = CentredVectors(vectors.copy(), ["nb", "nb", "en", "en"])
    # Centred, the question points along passage 0; passage 3 (0.6) is next, then 2 (-0.6), then 1 (-1).
    ranks = centred.ranks_among(np.array([1.0, 0.0], dtype=np.float32), "nb", [2, 3], [0, 1])
    assert ranks == {3: 2, 2: 3}
    assert centred.ranks_among(np.array([1.0, 0.0], dtype=np.float32), "nb", [2, 3], []) == {3: 1, 2: 2}
    # A search among one language's passages reads its block only, and the mask still applies.
    query = np.array([1.0, 0.0], dtype=np.float32)
    assert [passage for passage, _ in centred.search(query, "nb", 5)] == [0, 3, 2, 1]
    assert [passage for passage, _ in centred.search(query, "nb", 5, among=["en"])] == [3, 2]
    allowed = np.array([True, True, True, False])
    assert [passage for passage, _ in centred.search(query, "nb", 5, allowed, among=["en"])] == [2]


def test_coverage_is_the_share_of_the_question_a_passage_holds():
    analyzer = Analyzer()
    docs = [analyzer.terms(text, "nb") for text in (
        "Outlook på telefonen", "Sett opp e-post i Outlook på telefonen", "Levering av pakker")]
    index = LexicalIndex.build(docs)
    question = {term: index.idf(term) for term in analyzer.query_terms("sett opp jobbmailen i Outlook", ["nb"])}
    held = index.coverage(question, sum(question.values()))
    # "jobbmail" is in no passage, so even the best passage holds less than the whole question.
    assert held[1] > held[0] > held[2] == 0.0
    assert held[1] < 1.0
    # A synonym standing in for the unknown word counts what it is given, and the share stops at 1.
    assert index.coverage({**question, "post": 100.0}, sum(question.values()))[1] == 1.0
    # Asked for some passages only, it gives theirs, in the order asked.
    assert index.coverage(question, sum(question.values()), np.array([2, 1])).tolist() == [held[2], held[1]]


def test_keyword_hits_rank_best_first_with_ties_in_passage_order_and_masks_applied():
    analyzer = Analyzer()
    docs = [analyzer.terms(text, "nb") for text in ("levering av pakke", "pakke", "levering", "pakke",
                                                      "ingenting her")]
    index = LexicalIndex.build(docs)
    terms = analyzer.query_terms("pakke", ["nb"])
    hits = index.search([(terms, 1.0)], 10)
    assert [passage for passage, _ in hits] == [1, 3, 0]
    assert hits[0][1] == hits[1][1] > hits[2][1] > 0
    allowed = np.array([True, False, True, True, True])
    assert [passage for passage, _ in index.search([(terms, 1.0)], 10, allowed=allowed)] == [3, 0]
    # The prior scales each score; one scaled to nothing is no hit at all.
    prior = np.array([1.0, 0.0, 1.0, 0.5, 1.0], dtype=np.float32)
    score = dict(hits)
    expected = sorted([(3, score[3] * 0.5), (0, score[0])], key=lambda hit: -hit[1])
    found = index.search([(terms, 1.0)], 10, prior=prior)
    assert [passage for passage, _ in found] == [passage for passage, _ in expected]
    assert [value for _, value in found] == pytest.approx([value for _, value in expected])
    assert index.search([(terms, 1.0)], 1) == hits[:1]
    # Equal scores straddling the last place taken (copies of one text): the first passages of them are taken.
    texts = ("pakke pakke", "pakke levert", "pakke levert i dag")
    layout = np.random.default_rng(0).choice(len(texts), size=40)
    copies = LexicalIndex.build([analyzer.terms(texts[kind], "nb") for kind in layout])
    everything = copies.search([(terms, 1.0)], len(layout))
    assert len({score for _, score in everything}) == len(texts)
    count = int(np.count_nonzero(layout == 0)) + 3
    assert copies.search([(terms, 1.0)], count) == everything[:count]


def test_a_keyword_hit_holding_little_of_the_question_votes_less():
    # The keywords' only hit matches one common word of the question; the model prefers passage 2.
    dense = [(2, 0.9), (3, 0.8)]
    lexical = [(1, 9.0)]
    assert [p for p, _ in fuse(dense, lexical, FusionWeights(0.3, 1.0))][0] == 1
    scaled = fuse(dense, lexical, FusionWeights(0.3, 1.0), coverage={1: 0.1}, coverage_power=1.0)
    assert [p for p, _ in scaled][0] == 2
    # First on both sides with the best-covered keyword hit still scores 1.
    both = fuse([(2, 0.9)], [(2, 8.0), (1, 9.0)], FusionWeights(1.0, 1.0), coverage={1: 0.1, 2: 0.5})
    assert both[0] == (2, pytest.approx(1.0))
    # Without a dense vote the keywords keep their own order.
    alone = fuse(dense, lexical, FusionWeights(0.0, 1.0), coverage={1: 0.1}, coverage_power=1.0)
    assert [p for p, _ in alone] == [1, 2, 3]


def test_weights_per_language_and_model():
    assert weights_for("all-MiniLM-L6-v2", "nb").dense < weights_for("all-MiniLM-L6-v2", "en").dense
    assert weights_for("intfloat/multilingual-e5-small", "nb") == FusionWeights(1.0, 1.0)
    assert weights_for("multilingual-e5-small", "en") == FusionWeights(0.7, 1.0)
    assert weights_for("/models/multilingual-e5-base", "nb") == FusionWeights(1.0, 1.0)
    overrides = parse_weights("nb=0.5:1,any=1:0.5")
    assert weights_for("all-MiniLM-L6-v2", "nb", overrides) == FusionWeights(0.5, 1.0)
    assert weights_for("all-MiniLM-L6-v2", None, overrides) == FusionWeights(1.0, 0.5)
    with pytest.raises(KBError, match="expected LANG=DENSE:LEXICAL"):
        parse_weights("nb=high")


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("kunden vil angre kjøpet", "nb"),
        ("pakken min har ikke kommet", "nb"),
        ("customer wants a refund for the parcel", "en"),
        ("how do I reset the password", "en"),
        ("E-101", None),
        ("AU55-Q4", None),
    ],
)
def test_detect_language(question, lang):
    assert detect_language(question) == lang


def test_synonyms_expand_questions():
    synonyms = Synonyms.from_mapping({"angrerett": ["angrefrist", "right of withdrawal"], "bedrift": ["firma"]})
    assert synonyms.expand("Hvor lang er angrefristen?") == ["angrerett", "right of withdrawal"]
    assert synonyms.expand("customer wants to use the right of withdrawal") == ["angrerett", "angrefrist"]
    assert synonyms.expand("firmaet vil handle") == ["bedrift"]
    assert synonyms.expand("levering") == []


def test_synonyms_file_errors_name_the_line(tmp_path):
    (tmp_path / "_synonyms.yaml").write_text("angrerett: [a, b\nx: y\n", encoding="utf-8")
    with pytest.raises(ArticleError) as caught:
        Synonyms.load(tmp_path)
    assert str(caught.value) == "_synonyms.yaml:2: invalid YAML: did not find expected ',' or ']'"
    assert Synonyms.load(tmp_path / "none").groups == []
