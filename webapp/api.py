"""JSON API: search and health, in the envelope `kb search --json` also prints."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from indexer.errors import QueryError
from indexer.search import FILTERS

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


@bp.get("/search")
def search():
    """Ranked passages for `q`, at most `k` articles, optionally filtered and in one retrieval mode."""
    response = searcher().search(
        request.args.get("q", ""), int_arg("k", 5), mode=request.args.get("mode", "hybrid"), filters=filter_args()
    )
    return jsonify(response.as_dict())


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
