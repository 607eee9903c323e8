"""Routing measured on written questions: each with the department that should take the case over."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ArticleError


@dataclass(frozen=True)
class RoutingQuestion:
    """One question of a routing golden file."""

    question: str
    lang: str
    department: str
    urgent: bool = False


def load_routing_questions(path: Path) -> list[RoutingQuestion]:
    """The questions of a golden routing file; ArticleError names the entry that is malformed."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ArticleError(str(path), "expected a list of {question, lang, department, urgent}")
    questions = []
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("question", "department")):
            raise ArticleError(str(path), f"entry {number} needs question and department as text")
        questions.append(RoutingQuestion(entry["question"], str(entry.get("lang", "")), entry["department"],
                                         bool(entry.get("urgent", False))))
    return questions


def routed(searcher, question: RoutingQuestion) -> dict:
    """What the search routes the question to: the first result's department and the urgent criteria met."""
    response = searcher.search(question.question, k=1)
    first = response.results[0]["route"] if response.results else None
    return {"department": first["department"] if first else None,
            "urgent": [route["department"] for route in response.urgent or []]}


def routing_accuracy(searcher, questions: list[RoutingQuestion]) -> dict:
    """Share of questions routed to their department, overall, per language and for the urgent ones."""
    rows = []
    for question in questions:
        got = routed(searcher, question)
        right = got["department"] == question.department and (not question.urgent or
                                                              got["urgent"][:1] == [question.department])
        rows.append({"question": question.question, "lang": question.lang, "expected": question.department,
                     "got": got["department"], "urgent": question.urgent, "right": right})

    def share(selected: list[dict]) -> float | None:
        return round(sum(row["right"] for row in selected) / len(selected), 3) if selected else None

    return {"questions": len(rows), "accuracy": share(rows),
            "by_language": {lang: share([r for r in rows if r["lang"] == lang])
                            for lang in sorted({r["lang"] for r in rows})},
            "urgent": share([r for r in rows if r["urgent"]]), "rows": rows}
