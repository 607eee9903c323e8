"""The sample KB's golden questions: each one's answer among the first three results, in both languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.retrieval.evaluation import load_questions
from indexer.retrieval.search import Searcher

GOLDEN = Path(__file__).resolve().parent / "golden_questions.yaml"
CROSS_LANGUAGE = Path(__file__).resolve().parent / "golden_cross_language.yaml"
QUESTIONS = load_questions(GOLDEN)


@pytest.fixture(scope="module")
def searcher(sample_index, embedder):
    return Searcher(sample_index, embedder)


def test_the_golden_file_covers_both_languages():
    langs = [question.lang for question in QUESTIONS]
    assert len(QUESTIONS) >= 20
    assert langs.count("nb") >= 10 and langs.count("en") >= 10


@pytest.mark.parametrize("question", QUESTIONS, ids=[f"{q.lang}-{q.id}" for q in QUESTIONS])
def test_answer_is_in_the_top_three(searcher, question):
    ranked = [result["article_id"] for result in searcher.search(question.question, k=3).results]
    assert set(ranked) & set(question.expected), f"expected one of {list(question.expected)}, got {ranked}"


def test_cross_language_questions_find_their_answer(searcher):
    # An English question whose answer exists only in bokmål (and one the other way round): the model's
    # language-centred vectors and a fusion that does not hold the keywords' blindness against them.
    questions = load_questions(CROSS_LANGUAGE)
    found = [bool({result["article_id"] for result in searcher.search(question.question, k=3).results}
                  & set(question.expected)) for question in questions]
    assert sum(found) / len(found) >= 0.85, [q.question for q, hit in zip(questions, found, strict=True) if not hit]


def test_kb_eval_reports_per_language(sample_index, runner):
    result = runner.invoke(main, ["eval", "--index", str(sample_index.index_dir), "--json",
                                       "--fail-under", "0.95", str(GOLDEN)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["overall"]["questions"] == len(QUESTIONS)
    assert set(report["by_language"]) == {"en", "nb"}
    for scores in report["by_language"].values():
        assert scores["recall@3"] >= 0.95
        assert set(scores) == {"questions", "recall@1", "recall@3", "recall@5", "mrr@10", "ndcg@10"}
    assert all(miss["first"] not in miss["expected"] for miss in report["misses"])
    assert len(report["misses"]) == round((1 - report["overall"]["recall@1"]) * len(QUESTIONS))


def test_kb_eval_text_output_and_failing_threshold(sample_index, tmp_path, runner):
    hard = tmp_path / "hard.yaml"
    hard.write_text("- question: angrerett\n  lang: nb\n  expected: [intern/sosiale-medier]\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", "--index", str(sample_index.index_dir), "--fail-under", "0.9",
                                       str(hard)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("all     1 questions  R@1 0.000  R@3 0.000")
    assert "  [nb] angrerett" in result.output
    assert "expected intern/sosiale-medier (not in the top 10); first: retur/angrerett" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2", "invalid YAML"),
        ("{}", "expected a non-empty list of questions"),
        ("- question: x\n", "question 1 needs 'expected', a list of article ids"),
        ("- expected: [a]\n", "question 1 needs a 'question' text"),
    ],
)
def test_bad_golden_files_are_named(tmp_path, sample_index, content, message, runner):
    path = tmp_path / "golden.yaml"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(main, ["eval", "--index", str(sample_index.index_dir), str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert str(path) in result.output
