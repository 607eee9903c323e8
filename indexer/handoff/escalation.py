"""Escalate a case: pick the department (the agent's choice or the route), write the note, say what to log.

The log keeps only that a case went to a department, with its category, products and any urgent criterion;
the note goes back to the agent and nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..assist.cleaning import clean_message
from ..assist.request import MAX_MESSAGE_CHARS
from ..assist.subjects import Subjects
from ..config import MAX_QUERY_CHARS
from ..errors import NotFound, QueryError
from ..text.language import detect_language
from ..text.privacy import mask
from .note import HandoffNote, check_handoff_text, write_note

# Articles a hand-off names as answered: the ones on the agent's screen, not the whole result list.
MAX_HANDOFF_ARTICLES = 5
SEARCHED_ARTICLES = 3


@dataclass(frozen=True)
class Escalation:
    """A hand-off: the note, the route it follows, and the row the log keeps."""

    note: HandoffNote
    route: dict
    articles: list[dict]
    record: dict


def escalate(searcher, question, department=None, article_ids=None, added=None, pasted: bool = False) -> Escalation:
    """The hand-off of `question` to `department` (by default the route of the first article), answered
    from `article_ids` (by default the question's best results).

    A `pasted` message (a whole e-mail, say) is cleaned first as the assistant cleans it: greeting,
    signature and quoted mail are left out of the note.
    """
    question, added = check_handoff_text(question, added, MAX_MESSAGE_CHARS if pasted else MAX_QUERY_CHARS)
    if pasted:
        question = clean_message(question).text or question
    if department is not None and not isinstance(department, str):
        raise QueryError("department must be text")
    version = searcher.version
    articles = _articles(searcher, question, article_ids)
    router = version.router
    lang = detect_language(question)
    analysis = router.analyse(question)
    if department:
        chosen = router.routes.department(department)
        if chosen is None:
            known = ", ".join(router.routes.departments) or "none are declared"
            raise NotFound(f"no department {department[:100]!r} in the escalation routes; known: {known}")
        route = router.chosen(analysis, chosen, lang)
    else:
        first = articles[0]["metadata"] if articles else {}
        route = router.route(analysis, first, lang)
        if route is None:
            raise QueryError("no route for this case: name the department to escalate to")
    products = [mention.subject for mention in Subjects.of_version(version).mentions(f"{question}\n{added or ''}")]
    note = write_note(question, route, router.routes.department(route["department"]),
                      [{key: a[key] for key in ("article_id", "title", "section")} for a in articles], products,
                      added)
    first = articles[0] if articles else None
    record = {
        "department": route["department"],
        "urgent": route["reason"].get("id") if route.get("urgent") else None,
        "article_id": first["article_id"] if first else None,
        "category": first["metadata"].get("category") if first else None,
        "products": products or (first["metadata"].get("products") or [] if first else []),
    }
    return Escalation(note, route, articles, record)


def _articles(searcher, question: str, article_ids) -> list[dict]:
    """The articles named (each must be in the live index), or the question's best results."""
    if article_ids is None:
        # What the customer was answered comes from articles that may be quoted to customers.
        results = searcher.search(mask(question)[:MAX_QUERY_CHARS], k=SEARCHED_ARTICLES,
                                  filters={"audience": "customer"}, route=False).results
        return [{"article_id": r["article_id"], "title": r["title"], "section": r["section"],
                 "metadata": r["metadata"]} for r in results]
    if not isinstance(article_ids, list) or not all(isinstance(a, str) and a for a in article_ids):
        raise QueryError("articles must be a list of article ids")
    if len(article_ids) > MAX_HANDOFF_ARTICLES:
        raise QueryError(f"name at most {MAX_HANDOFF_ARTICLES} articles")
    articles = []
    for article_id in dict.fromkeys(article_ids):
        row = searcher.version.known_article(article_id)
        articles.append({"article_id": row["id"], "title": row["title"], "section": "", "metadata": {
            "category": row["category"], "owner": row["owner"], "products": json.loads(row["products"]),
            "tags": json.loads(row["tags"])}})
    return articles
