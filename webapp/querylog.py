"""The web app's side of the query log: record searches, ratings and events without ever failing a search."""

from __future__ import annotations

from flask import current_app, request

from indexer.assist import AssistResponse
from indexer.errors import FeedbackOff, KBError
from indexer.retrieval.search import SearchResponse

# A search id as the store makes them (secrets.token_urlsafe(12)); anything else is not looked up.
MAX_SEARCH_ID_CHARS = 32


def store():
    """The app's feedback store, or None when logging is switched off."""
    return current_app.extensions["kb.feedback"]


def required_store():
    """The feedback store, for requests that need one: FeedbackOff (a 503) when logging is switched off."""
    feedback = store()
    if feedback is None:
        raise FeedbackOff("feedback is switched off on this server (KB_FEEDBACK=0)")
    return feedback


def search_logged(search_id: str | None) -> bool:
    """Whether a search id from a client is one this log holds (checked for length before it is looked up)."""
    feedback = store()
    return bool(feedback is not None and search_id and len(search_id) <= MAX_SEARCH_ID_CHARS
                and feedback.search_exists(search_id))


def log_search(response: SearchResponse, mode: str, after: str | None = None) -> str | None:
    """Record a search; its id for later ratings and events, or None when logging is off or failed.

    `after` (a request parameter) names the previous search of the same typing session, which this one
    replaces when it only extends or trims the question.
    """
    feedback = store()
    if feedback is None:
        return None
    after = (after or "")[:MAX_SEARCH_ID_CHARS] or None
    try:
        return feedback.log_search(**response.log_entry(mode), after=after)
    except KBError as exc:
        current_app.logger.warning("search not logged: %s", exc)
        return None


def log_assist(response: AssistResponse) -> tuple[str | None, list[str | None]]:
    """Record an assist request and each of its needs as a search of its own (so gaps are found per need),
    linked to it, in one transaction; the ids, or None where logging is off or failed. Names the message gave
    are masked too."""
    feedback = store()
    if feedback is None:
        return None, [None] * len(response.needs)
    try:
        return feedback.log_assist(**response.log_entries())
    except KBError as exc:
        current_app.logger.warning("assist not logged: %s", exc)
        return None, [None] * len(response.needs)


def client_key() -> str:
    """Who counts as one client for rate limits: the address the request came from (never stored)."""
    return request.remote_addr or "unknown"
