"""The agent's pages: search with results as cards, and the whole article."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup

from indexer.errors import QueryError
from indexer.replies import CHANNELS, PLACEHOLDER
from indexer.search import FILTERS

from .highlight import highlight

bp = Blueprint("pages", __name__)

# Articles shown on the page per question: a screen's worth for an agent mid-call.
PAGE_RESULTS = 8
DEFAULT_CHANNEL = "chat"
# Longer than any id or path an article can have.
MAX_ARTICLE_REF = 500


def searcher():
    """The app's shared searcher."""
    return current_app.extensions["kb.searcher"]


def run_search(query: str, filters: dict, channel: str) -> tuple[list[dict], str | None]:
    """Results with reply suggestions for the page, or an error message to show in place of them."""
    if not query.strip():
        return [], None
    try:
        return searcher().search(query, k=PAGE_RESULTS, filters=filters, replies=(channel,)).results, None
    except QueryError as exc:
        return [], str(exc)


def page_channel() -> str:
    """The channel the agent answers in; chat unless the page says otherwise."""
    channel = request.args.get("channel", "")
    return channel if channel in CHANNELS else DEFAULT_CHANNEL


def page_filters() -> dict:
    """The filters chosen on the page (empty values mean 'all')."""
    return {name: request.args.get(name, "") for name in FILTERS}


@bp.app_template_filter("reply_parts")
def reply_parts(text: str) -> list[dict]:
    """Jinja filter: a reply's text cut into plain parts and placeholders, for fields filled in place."""
    parts, position = [], 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > position:
            parts.append({"text": text[position:match.start()]})
        parts.append({"name": match.group(1)})
        position = match.end()
    if position < len(text):
        parts.append({"text": text[position:]})
    return parts


@bp.app_template_filter("highlight")
def highlight_filter(text: str, query: str) -> Markup:
    """Jinja filter: mark the question's words in a passage."""
    return highlight(text, query)


@bp.app_context_processor
def index_footer():
    """The footer's live index version and build time, when an index is there."""
    try:
        manifest = searcher().version.manifest
    except Exception:  # the footer must never break a page, not even an error page
        return {"index_info": None}
    commit = manifest.get("kb", {}).get("git_commit")
    return {"index_info": {"version": manifest["version"], "built_at": manifest["built_at"],
                           "commit": commit[:10] if commit else None}}


@bp.get("/")
def search_page():
    """The search box, focused, with filters, and results when the URL carries a question."""
    query = request.args.get("q", "")
    filters, channel = page_filters(), page_channel()
    results, error = run_search(query, filters, channel)
    return render_template("search.html", query=query, results=results, error=error, filters=filters,
                           facets=searcher().version.facets(), channel=channel, channels=CHANNELS)


@bp.get("/results")
def results_fragment():
    """Only the result cards, for the page's script to swap in as the agent types."""
    query = request.args.get("q", "")
    results, error = run_search(query, page_filters(), page_channel())
    return render_template("_results.html", query=query, results=results, error=error)


@bp.get("/articles/<path:ref>")
def article_page(ref: str):
    """One article as sanitized HTML, by id or by its path in the KB."""
    row = searcher().version.article(ref) if len(ref) <= MAX_ARTICLE_REF else None
    if row is None:
        abort(404, description=f"no article {ref!r} in the index")
    return render_template(
        "article.html",
        article=row,
        body=Markup(row["html"]),  # sanitized with nh3 when the index was built
        tags=json.loads(row["tags"]),
        products=json.loads(row["products"]),
    )
