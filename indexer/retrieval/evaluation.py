"""Measure search quality against questions with known answers: the golden file editors keep, or a benchmark.

Recall@n here is the share of questions with at least one expected article among the first n results
(what an agent feels: is the answer on screen?). MRR@10 is the mean of 1/rank of the first expected
article within the first ten; nDCG@10 uses the given gains (1 for every expected article in a golden file,
the graded judgements of a benchmark's qrels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import KBError

CUTOFFS = (1, 3, 5)
DEPTH = 10


@dataclass
class Question:
    """One question and the articles that answer it, with their gains (all 1 in a golden file)."""

    question: str
    expected: dict[str, float]
    lang: str | None = None
    id: str = ""


@dataclass
class Outcome:
    """What came back for one question."""

    question: Question
    ranked: list[str]

    @property
    def first_hit(self) -> int | None:
        """1-based rank of the first expected article, or None."""
        for rank, article_id in enumerate(self.ranked, start=1):
            if article_id in self.question.expected:
                return rank
        return None


@dataclass
class Scores:
    """Metrics over a set of outcomes."""

    count: int = 0
    recall: dict[int, float] = field(default_factory=dict)
    mrr: float = 0.0
    ndcg: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready, rounded to four places."""
        return {
            "questions": self.count,
            **{f"recall@{n}": round(value, 4) for n, value in self.recall.items()},
            f"mrr@{DEPTH}": round(self.mrr, 4),
            f"ndcg@{DEPTH}": round(self.ndcg, 4),
        }


def load_questions(path: Path) -> list[Question]:
    """Read a golden-question YAML file: a list of {question, expected: [ids], lang?}."""
    path = Path(path)
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KBError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise KBError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(items, list) or not items:
        raise KBError(f"{path}: expected a non-empty list of questions")
    questions = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) or not item["question"].strip():
            raise KBError(f"{path}: question {number} needs a 'question' text")
        expected = item.get("expected")
        if isinstance(expected, str):
            expected = [expected]
        if not isinstance(expected, list) or not expected or not all(isinstance(e, str) for e in expected):
            raise KBError(f"{path}: question {number} needs 'expected', a list of article ids")
        questions.append(Question(item["question"].strip(), dict.fromkeys(expected, 1.0), item.get("lang"),
                                  str(item.get("id", number))))
    return questions


def score(outcomes: list[Outcome], cutoffs=CUTOFFS) -> Scores:
    """Recall@n, MRR@10 and nDCG@10 averaged over `outcomes`."""
    if not outcomes:
        return Scores()
    total = len(outcomes)
    recall = {n: sum(1 for o in outcomes if o.first_hit and o.first_hit <= n) / total for n in cutoffs}
    mrr = sum(1 / o.first_hit for o in outcomes if o.first_hit and o.first_hit <= DEPTH) / total
    ndcg = sum(ndcg_at(o.ranked, o.question.expected, DEPTH) for o in outcomes) / total
    return Scores(total, recall, mrr, ndcg)


def ndcg_at(ranked: list[str], gains: dict[str, float], depth: int = DEPTH) -> float:
    """Normalized discounted cumulative gain of one ranking (the BEIR / trec_eval definition)."""
    dcg = sum(gains.get(doc, 0.0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:depth], start=1))
    ideal = sorted(gains.values(), reverse=True)[:depth]
    idcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], gains: dict[str, float], depth: int) -> float:
    """Share of the relevant documents found in the first `depth` (the BEIR definition)."""
    relevant = {doc for doc, gain in gains.items() if gain > 0}
    return len(relevant & set(ranked[:depth])) / len(relevant) if relevant else 0.0


def run(searcher, questions: list[Question], mode: str = "hybrid", depth: int = DEPTH) -> list[Outcome]:
    """Search every question as an agent would: no filters, the question's language detected."""
    outcomes = []
    for question in questions:
        response = searcher.search(question.question, k=depth, mode=mode)
        outcomes.append(Outcome(question, [result["article_id"] for result in response.results]))
    return outcomes


# What `kb eval --fail-under` holds a KB to: is the answer among the first three results?
GATE_METRIC = "recall@3"


def below(outcome: dict, floor: float) -> bool:
    """Whether a report's Recall@3, overall or in any one language, is under `floor` (a CI gate)."""
    groups = [outcome["overall"], *outcome["by_language"].values()]
    return any(group[GATE_METRIC] < floor for group in groups)


def report(outcomes: list[Outcome]) -> dict:
    """Overall and per-language scores, and every question whose first result was not an expected one."""
    languages = sorted({o.question.lang for o in outcomes if o.question.lang})
    return {
        "overall": score(outcomes).as_dict(),
        "by_language": {
            lang: score([o for o in outcomes if o.question.lang == lang]).as_dict() for lang in languages
        },
        "misses": [
            {
                "question": o.question.question,
                "lang": o.question.lang,
                "expected": list(o.question.expected),
                "first": o.ranked[0] if o.ranked else None,
                "expected_rank": o.first_hit,
            }
            for o in outcomes
            if o.first_hit != 1
        ],
    }
