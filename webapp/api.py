"""JSON API: search and health, in the envelope `kb search --json` also prints."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from indexer.assist import AssistRequest
from indexer.config import DEFAULT_RESULTS
from indexer.errors import NotFound, QueryError, TooMany
from indexer.handoff.escalation import escalate
from indexer.querylog import check_contact_feedback, check_event, check_rating
from indexer.replies.suggest import render_reply
from indexer.retrieval.search import FILTERS
from indexer.vocabulary import CHANNELS

from . import querylog
from .jsonbody import UnsafeJSON
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")

# The parameters /api/search reads; anything else is a mistake worth a 400 (a misspelt filter would
# otherwise silently search everything).
SEARCH_PARAMETERS = ("q", "k", "mode", *FILTERS, "channel", "replies", "route", "after")
# Whole numbers as a client writes them: ASCII digits only (int() also takes '1_0' and '٣').
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def searcher():
    """The app's shared searcher."""
    return current_app.extensions["kb.searcher"]


def int_arg(params: MultiDict, name: str, default: int) -> int:
    """An integer parameter, or a 400 naming it."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not WHOLE_NUMBER.fullmatch(raw):
        raise QueryError(f"{name} must be a whole number, not {raw[:40]!r}")
    return int(raw)


def filter_args(params: MultiDict) -> dict:
    """The filters a request names: lang, category, product, audience."""
    return {name: params.get(name) for name in FILTERS if params.get(name)}


def reply_channels(params: MultiDict) -> tuple[str, ...]:
    """The channels to suggest replies in: `channel` (repeatable or comma-separated), all by default;
    `replies=0` asks for none."""
    if params.get("replies", "1") in ("0", "false", "no"):
        return ()
    named = [part.strip() for value in params.getlist("channel") for part in value.split(",") if part.strip()]
    return tuple(named[:len(CHANNELS)]) or CHANNELS


def search_params() -> MultiDict:
    """The search's parameters: the query string of a GET; the JSON object or form of a POST, which has room
    for questions longer than a request line."""
    if request.method == "GET":
        params = request.args
    elif request.is_json:
        params = MultiDict()
        for name, value in json_body("{q, k, mode, lang, category, product, audience, channel, replies}").items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool) or not isinstance(item, str | int):
                    raise QueryError(f"{name} must be text or a whole number")
                params.add(name, str(item))
    else:
        params = request.form
    unknown = sorted(set(params) - set(SEARCH_PARAMETERS))
    if unknown:
        raise QueryError(f"unknown parameter {unknown[0][:40]!r}; use {', '.join(SEARCH_PARAMETERS)}")
    return params


@bp.route("/search", methods=["GET", "POST"])
def search():
    """Ranked passages for `q`, at most `k` articles, optionally filtered and in one retrieval mode,
    each with suggested customer replies and the escalation route (`route=0` leaves routes out)."""
    params = search_params()
    mode = params.get("mode", "hybrid")
    response = searcher().search(
        params.get("q", ""), int_arg(params, "k", DEFAULT_RESULTS), mode=mode, filters=filter_args(params),
        replies=reply_channels(params), route=params.get("route", "1") not in ("0", "false", "no"),
    )
    search_id = querylog.log_search(response, mode, params.get("after"))
    return jsonify({"ok": True, **response.as_dict(), "search_id": search_id})


@bp.post("/reply")
def reply():
    """One article's reply template for a channel, with the agent's values filled in (JSON body)."""
    body = json_body("{article, channel, lang, values}")
    reply = render_reply(searcher().version, body.get("article"), body.get("channel", "chat"), body.get("lang"),
                         body.get("values"))
    return jsonify({"ok": True, **reply})


@bp.post("/assist")
def assist():
    """A pasted customer message (`text`) or a conversation (`turns`): every need with its own results, the
    values the message gave, and one reply for the channel (JSON body)."""
    assist_request = AssistRequest.from_json(json_body("{text} or {turns: [{role, text}]}, channel, lang, filters"))
    response = current_app.extensions["kb.assistant"].assist(assist_request)
    assist_id, search_ids = querylog.log_assist(response)
    body = response.as_dict()
    for need, search_id in zip(body["needs"], search_ids, strict=True):
        need["search_id"] = search_id
    return jsonify({"ok": True, **body, "assist_id": assist_id})


@bp.get("/health")
def health():
    """The live index version and its counts."""
    version = searcher().version
    manifest = version.manifest
    return jsonify({
        "ok": True,
        # A newer version that was published but could not be opened; the server keeps the one above.
        "refused": searcher().refused,
        "index": {
            "version": manifest["version"],
            "built_at": manifest["built_at"],
            "model": manifest["model"]["name"],
            "dimension": manifest["model"]["dimension"],
            "articles": manifest["counts"]["articles"],
            "passages": manifest["counts"]["passages"],
            "skipped": manifest["counts"].get("skipped", 0),
            "kb_commit": manifest.get("kb", {}).get("git_commit"),
        },
        "facets": version.facets(),
    })


def json_body(shape: str = "") -> dict:
    """The request's JSON object, or a 400 saying what to send (`shape` names its fields)."""
    try:
        body = current_app.json.loads(request.get_data(cache=True)) if request.is_json else None
    except UnsafeJSON as exc:
        raise QueryError(str(exc)) from None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise QueryError("send a JSON object" + (f": {shape}" if shape else ""))
    return body


def optional_text(body: dict, name: str, limit: int) -> str | None:
    """A short text field of a JSON body, or None; a 400 for anything else."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise QueryError(f"{name} must be text of at most {limit} characters")
    return value


def logged_search(body: dict) -> str | None:
    """The search a rating or event belongs to: optional, but when given it must have been logged."""
    search_id = optional_text(body, "search_id", querylog.MAX_SEARCH_ID_CHARS)
    if search_id and not querylog.search_logged(search_id):
        raise NotFound(f"no logged search {search_id!r}")
    return search_id


def feedback_request(kind: str):
    """The store and JSON body of a rating or event: 503 when logging is off, 429 over the client's limit."""
    store = querylog.required_store()
    limited(kind)
    return store, json_body()


@bp.post("/feedback")
def feedback():
    """An agent's rating of one passage (helped, wrong, outdated), with an optional comment."""
    store, body = feedback_request("feedback")
    passage_id, rating, comment = body.get("passage_id"), body.get("rating"), body.get("comment")
    check_rating(rating, comment)
    index_version = body.get("index_version")
    article_id = searcher().root.passage_article(index_version, passage_id)
    feedback_id = store.add_feedback(search_id=logged_search(body), index_version=index_version,
                                     passage_id=passage_id, article_id=article_id, rating=rating, comment=comment)
    return jsonify({"ok": True, "id": feedback_id, "article_id": article_id}), 201


@bp.post("/event")
def event():
    """Something an agent did with a result: copied a reply (`copy`) or opened the article (`open`)."""
    store, body = feedback_request("events")
    kind = body.get("kind")
    check_event(kind)
    article_id = body.get("article_id")
    searcher().version.known_article(article_id)
    channel = body.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise QueryError(f"channel must be one of {', '.join(CHANNELS)}")
    store.add_event(search_id=logged_search(body), kind=kind, article_id=article_id, channel=channel)
    return jsonify({"ok": True}), 201


def limited(kind: str) -> None:
    """A 429 when this client is over its limit for `kind` in the last minute."""
    if not current_app.extensions["kb.limits"][kind].allow(querylog.client_key()):
        raise TooMany(f"too many {kind} requests from this client; try again in a minute")


@bp.post("/handoff")
def handoff():
    """A hand-off note for the department that takes the case over, from the question or a pasted `message`.

    Only that a case went to the department is logged (when the log is on); the note is not stored.
    """
    limited("handoff")
    body = json_body("{question or message, department, articles, note, search_id}")
    pasted = body.get("message") is not None
    escalation = escalate(searcher(), body.get("message") if pasted else body.get("question"),
                          body.get("department"), body.get("articles"), body.get("note"), pasted=pasted)
    store = querylog.store()
    if store is not None:
        store.add_escalation(search_id=logged_search(body), **escalation.record)
    return jsonify({"ok": True, **escalation.note.as_dict(), "route": escalation.route,
                    "articles": [a["article_id"] for a in escalation.articles]})


@bp.post("/contact-feedback")
def contact_feedback():
    """What the customer said about a product or service: a complaint, a compliment or a suggestion."""
    store, body = feedback_request("contact")
    kind, comment = body.get("kind"), body.get("comment")
    check_contact_feedback(kind, comment)
    facets = searcher().version.facets()
    product = known_value(body, "product", facets["product"])
    category = known_value(body, "category", facets["category"])
    feedback_id = store.add_contact_feedback(search_id=logged_search(body), kind=kind, product=product,
                                             category=category, comment=comment)
    return jsonify({"ok": True, "id": feedback_id}), 201


def known_value(body: dict, name: str, known: list[str]) -> str | None:
    """A product or category the index knows (its spelling), or None; a 400 for one it does not."""
    value = optional_text(body, name, 100)
    if value is None:
        return None
    match = next((item for item in known if item.casefold() == value.strip().casefold()), None)
    if match is None:
        raise QueryError(f"unknown {name} {value[:100]!r}; use one the index has")
    return match


@bp.get("/openapi.json")
def openapi():
    """An OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
