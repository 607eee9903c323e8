"""One error shape: a JSON envelope under /api/, a friendly page everywhere else."""

from __future__ import annotations

import sqlite3

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.errors import (
    CommentTooLong,
    FeedbackOff,
    IncompleteReply,
    IndexCorrupt,
    IndexMismatch,
    IndexNotFound,
    KBError,
    LogUnavailable,
    MessageTooLong,
    NotFound,
    NothingToAnswer,
    QueryError,
    ReplyRefused,
    TooMany,
)

# Domain errors and the HTTP status each becomes.
STATUS_FOR = {
    CommentTooLong: 413, MessageTooLong: 413, NothingToAnswer: 422, QueryError: 400,
    NotFound: 404, ReplyRefused: 403, IncompleteReply: 422,
    TooMany: 429, FeedbackOff: 503, LogUnavailable: 503, IndexNotFound: 503, IndexMismatch: 503, IndexCorrupt: 503,
}


def wants_json() -> bool:
    """Whether the request went to the API or to another JSON document (`/reports.json`)."""
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(message: str, status: int, headers: dict | None = None, **details):
    """The JSON envelope or the HTML page, depending on where the request went."""
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status, **details})
        response.status_code = status
    else:
        response = make_response(render_template("error.html", message=message, status=status), status)
    response.headers.update(headers or {})
    return response


def register(app: Flask) -> None:
    """Install the handlers on `app`."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # Allow (on a 405) and the like; the body's own Content-Type is set by the envelope or the page.
        kept = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        return error_response(exc.description or exc.name, exc.code or 500, kept)

    @app.errorhandler(KBError)
    def domain_error(exc: KBError):
        status = next((code for kind, code in STATUS_FOR.items() if isinstance(exc, kind)), 500)
        details = {"missing": exc.missing} if isinstance(exc, IncompleteReply) else {}
        return error_response(str(exc), status, **details)

    @app.errorhandler(sqlite3.DatabaseError)
    def database_error(exc: sqlite3.DatabaseError):
        app.logger.error("a database cannot be used on %s: %s", request.path, exc, exc_info=exc)
        return error_response(f"a database cannot be read or written ({exc}); try again", 503)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        return error_response("internal error; the details are in the server log", 500)
