"""JSON API: search and health, in the envelope `kb search --json` also prints."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from indexer.errors import QueryError
from indexer.replies import CHANNELS
from indexer.search import FILTERS
from indexer.suggest import render_reply

bp = Blueprint("api", __name__, url_prefix="/api")


def searcher():
    """The app's shared searcher."""
    return current_app.extensions["kb.searcher"]


def int_arg(name: str, default: int) -> int:
    """An integer query parameter, or a 400 naming it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {raw[:40]!r}") from None


def filter_args() -> dict:
    """The filters a request names: lang, category, product, audience."""
    return {name: request.args.get(name) for name in FILTERS if request.args.get(name)}


def reply_channels() -> tuple[str, ...]:
    """The channels to suggest replies in: `channel` (repeatable or comma-separated), all by default;
    `replies=0` asks for none."""
    if request.args.get("replies", "1") in ("0", "false", "no"):
        return ()
    named = [part.strip() for value in request.args.getlist("channel") for part in value.split(",") if part.strip()]
    return tuple(named[:len(CHANNELS)]) or CHANNELS


@bp.get("/search")
def search():
    """Ranked passages for `q`, at most `k` articles, optionally filtered and in one retrieval mode,
    each with suggested customer replies."""
    response = searcher().search(
        request.args.get("q", ""), int_arg("k", 5), mode=request.args.get("mode", "hybrid"), filters=filter_args(),
        replies=reply_channels(),
    )
    return jsonify(response.as_dict())


@bp.post("/reply")
def reply():
    """One article's reply template for a channel, with the agent's values filled in (JSON body)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise QueryError("send a JSON object: {article, channel, lang, values}")
    lang = body.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise QueryError("lang must be text")
    return jsonify(render_reply(searcher().version, body.get("article"), body.get("channel", "chat"),
                                lang or None, body.get("values")))


@bp.get("/health")
def health():
    """The live index version and its counts."""
    version = searcher().version
    manifest = version.manifest
    return jsonify({
        "ok": True,
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
