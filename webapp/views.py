"""The agent's pages: search with results as cards, and the whole article."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup

from indexer.errors import QueryError

from .highlight import highlight

bp = Blueprint("pages", __name__)


def searcher():
    """The app's shared searcher."""
    return current_app.extensions["kb.searcher"]


def run_search(query: str) -> tuple[list[dict], str | None]:
    """Results for the page, or an error message to show in place of them."""
    if not query.strip():
        return [], None
    try:
        return searcher().search(query, k=8).results, None
    except QueryError as exc:
        return [], str(exc)


@bp.app_template_filter("highlight")
def highlight_filter(text: str, query: str) -> Markup:
    """Jinja filter: mark the question's words in a passage."""
    return highlight(text, query)


@bp.app_context_processor
def index_footer():
    """The footer's live index version and build time, when an index is there."""
    try:
        manifest = searcher().version.manifest
    except Exception:  # noqa: BLE001 - the footer must never break a page
        return {"index_info": None}
    return {"index_info": {"version": manifest["version"], "built_at": manifest["built_at"]}}


@bp.get("/")
def search_page():
    """The search box, focused, with results when the URL carries a question."""
    query = request.args.get("q", "")
    results, error = run_search(query)
    return render_template("search.html", query=query, results=results, error=error)


@bp.get("/results")
def results_fragment():
    """Only the result cards, for the page's script to swap in as the agent types."""
    query = request.args.get("q", "")
    results, error = run_search(query)
    return render_template("_results.html", query=query, results=results, error=error)


@bp.get("/articles/<path:ref>")
def article_page(ref: str):
    """One article as sanitized HTML, by id or by its path in the KB."""
    row = searcher().version.article(ref)
    if row is None:
        abort(404, description=f"no article {ref!r} in the index")
    return render_template(
        "article.html",
        article=row,
        body=Markup(row["html"]),  # sanitized with nh3 when the index was built
        tags=json.loads(row["tags"]),
        products=json.loads(row["products"]),
    )
