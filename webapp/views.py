"""The agent's pages: search with results as cards, and the whole article."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup

from indexer.assist import AssistRequest, AssistResponse
from indexer.assist.request import MAX_MESSAGE_CHARS
from indexer.errors import KBError, QueryError
from indexer.replies.templates import PLACEHOLDER
from indexer.retrieval.search import FILTERS
from indexer.vocabulary import CHANNELS

from . import querylog
from .highlight import highlight
from .passages import passage_blocks

bp = Blueprint("pages", __name__)

# Articles shown on the page per question: a screen's worth for an agent mid-call.
PAGE_RESULTS = 8
DEFAULT_CHANNEL = "chat"


def searcher():
    """The app's shared searcher."""
    return current_app.extensions["kb.searcher"]


@dataclass
class PageSearch:
    """What the page shows for a question: results or an error, and the ids ratings and events refer to."""

    results: list[dict] = field(default_factory=list)
    error: str | None = None
    search_id: str | None = None
    index_version: str | None = None
    urgent: list[dict] = field(default_factory=list)


def run_search(query: str, filters: dict, channel: str) -> PageSearch:
    """Results with reply suggestions for the page, logged; or an error message to show in their place."""
    if not query.strip():
        return PageSearch()
    try:
        response = searcher().search(query, k=PAGE_RESULTS, filters=filters, replies=(channel,))
    except QueryError as exc:
        return PageSearch(error=str(exc))
    after = request.values.get("after")
    return PageSearch(response.results, None, querylog.log_search(response, "hybrid", after), response.version,
                      response.urgent or [])


@dataclass
class PageAssist:
    """What the page shows for a pasted message: each need with its results, and the one reply."""

    response: AssistResponse | None = None
    needs: list[dict] = field(default_factory=list)
    error: str | None = None
    assist_id: str | None = None
    # The articles the reply is built from, with the search of the need each answers (for the copy event).
    sources: list[dict] = field(default_factory=list)


def run_assist(text: str, channel: str, filters: dict) -> PageAssist:
    """A pasted message answered need by need and logged; or an error message to show instead."""
    wanted = {"text": text, "channel": channel, **{name: value for name, value in filters.items() if value}}
    try:
        response = current_app.extensions["kb.assistant"].assist(AssistRequest.from_json(wanted))
    except QueryError as exc:
        return PageAssist(error=str(exc))
    assist_id, search_ids = querylog.log_assist(response)
    needs = [{"text": need.text, "lang": need.lang, "query": need.query, "subject": need.subject,
              "page": PageSearch(need.search.results, None, search_id, need.search.version,
                                 need.search.urgent or [])}
             for need, search_id in zip(response.needs, search_ids, strict=True)]
    sources = [{"article_id": source["article_id"], "search_id": search_ids[source["need"]]}
               for source in response.reply["sources"]]
    return PageAssist(response, needs, None, assist_id, sources)


def page_channel() -> str:
    """The channel the agent answers in; chat unless the page says otherwise."""
    channel = request.values.get("channel", "")
    return channel if channel in CHANNELS else DEFAULT_CHANNEL


def page_filters() -> dict:
    """The filters chosen on the page (empty values mean 'all')."""
    return {name: request.values.get(name, "") for name in FILTERS}


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


@bp.app_template_filter("passage_blocks")
def passage_blocks_filter(text: str) -> list[dict]:
    """Jinja filter: a passage as paragraphs and tables."""
    return passage_blocks(text)


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
    return render_template("search.html", query=query, page=run_search(query, filters, channel), filters=filters,
                           facets=searcher().version.facets(), channel=channel, channels=CHANNELS,
                           assist=None, message="", max_message=MAX_MESSAGE_CHARS)


@bp.post("/assist")
def assist_page():
    """The page with a pasted message answered: each need with its results, and one reply (works without
    the script)."""
    message, filters, channel = request.form.get("text", ""), page_filters(), page_channel()
    return render_template("search.html", query="", page=PageSearch(), filters=filters,
                           facets=searcher().version.facets(), channel=channel, channels=CHANNELS,
                           assist=run_assist(message, channel, filters), message=message,
                           max_message=MAX_MESSAGE_CHARS)


@bp.post("/assist-results")
def assist_fragment():
    """Only the needs and the reply, for the page's script to swap in."""
    return render_template("_assist.html", assist=run_assist(request.form.get("text", ""), page_channel(),
                                                             page_filters()))


@bp.route("/results", methods=["GET", "POST"])
def results_fragment():
    """Only the result cards, for the page's script to swap in as the agent types (a POSTed form has room
    for a question longer than a request line)."""
    query = request.values.get("q", "")
    return render_template("_results.html", query=query, page=run_search(query, page_filters(), page_channel()))


def record_open(article_id: str, search_id: str) -> None:
    """An article opened from a result counts as that search's answer being used."""
    try:
        if querylog.search_logged(search_id):
            querylog.store().add_event(search_id=search_id, kind="open", article_id=article_id)
    except KBError as exc:
        current_app.logger.warning("article open not logged: %s", exc)


@bp.get("/articles/<path:ref>")
def article_page(ref: str):
    """One article as sanitized HTML, by id or by its path in the KB."""
    row = searcher().version.known_article(ref)
    record_open(row["id"], request.args.get("from", ""))
    return render_template(
        "article.html",
        article=row,
        body=Markup(row["html"]),  # sanitized with nh3 when the index was built
        tags=json.loads(row["tags"]),
        products=json.loads(row["products"]),
    )
