"""What the query log holds and how every store is used: the protocol, its limits and value checks.

Everything typed by a person is masked (see privacy) before any store writes it; no client address or
identity is stored (rate limits keep a keyed hash of the address for one minute).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from ..errors import CommentTooLong, QueryError

RATINGS = ("helped", "wrong", "outdated")
EVENTS = ("copy", "open")
# What a customer's own feedback on a contact was, as the agent notes it.
CONTACT_KINDS = ("complaint", "compliment", "suggestion")
MAX_COMMENT_CHARS = 1000
# Results of a search that are logged (for "times shown" per article).
LOGGED_RESULTS = 10
# A search that extends or trims the previous one of the same typing session within this many seconds
# replaces it: "hvor lenge", "hvor lenge er angrer", "hvor lenge er angreretten" are one question.
MERGE_SECONDS = 30
# Every table the log holds, oldest first; each has an `at` column the retention limit applies to.
TABLES = ("searches", "feedback", "events", "escalations", "contact_feedback", "assists")
# KB_FEEDBACK_DB values that name a PostgreSQL database rather than an SQLite file.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: str) -> bool:
    """Whether KB_FEEDBACK_DB names a PostgreSQL database rather than an SQLite file."""
    return str(target).startswith(POSTGRES_SCHEMES)


def check_rating(rating, comment) -> None:
    """QueryError unless `rating` is one of RATINGS and `comment` is absent or text within the limit."""
    if rating not in RATINGS:
        raise QueryError(f"rating must be one of {', '.join(RATINGS)}")
    check_comment(comment)


def check_contact_feedback(kind, comment) -> None:
    """QueryError unless `kind` is one of CONTACT_KINDS and `comment` is absent or text within the limit."""
    if kind not in CONTACT_KINDS:
        raise QueryError(f"kind must be one of {', '.join(CONTACT_KINDS)}")
    check_comment(comment)


def check_comment(comment) -> None:
    """QueryError unless `comment` is absent or text; CommentTooLong (a 413) over MAX_COMMENT_CHARS."""
    if comment is not None and not isinstance(comment, str):
        raise QueryError("comment must be text")
    if comment and len(comment) > MAX_COMMENT_CHARS:
        raise CommentTooLong(f"the comment is {len(comment):,} characters long; the limit is {MAX_COMMENT_CHARS:,}")


def check_event(kind) -> None:
    """QueryError unless `kind` is one of EVENTS."""
    if kind not in EVENTS:
        raise QueryError(f"event must be one of {', '.join(EVENTS)}")


def now() -> dt.datetime:
    """The current time in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC, sortable as text (both stores keep times this way, so reports read the same rows)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Purged:
    """Rows deleted by a retention run."""

    searches: int
    feedback: int
    events: int
    escalations: int = 0
    contact_feedback: int = 0
    assists: int = 0


class FeedbackStore(Protocol):
    """What the app logs and what the reports read; SQLite by default, PostgreSQL across servers."""

    def log_search(self, *, query: str, lang: str | None, mode: str, filters: dict, index_version: str,
                   results: list[dict], signals: dict, after: str | None = None,
                   at: dt.datetime | None = None, assist_id: str | None = None) -> str: ...

    def log_assist(self, *, channel: str, lang: str | None, values: dict, searches: list[dict],
                   at: dt.datetime | None = None) -> tuple[str, list[str]]: ...

    def add_feedback(self, *, search_id: str | None, index_version: str, passage_id: int, article_id: str,
                     rating: str, comment: str | None, at: dt.datetime | None = None) -> int: ...

    def add_event(self, *, search_id: str | None, kind: str, article_id: str, channel: str | None = None,
                  at: dt.datetime | None = None) -> None: ...

    def add_escalation(self, *, search_id: str | None, department: str, urgent: str | None, article_id: str | None,
                       category: str | None, products: list[str], at: dt.datetime | None = None) -> int: ...

    def add_contact_feedback(self, *, search_id: str | None, kind: str, product: str | None, category: str | None,
                             comment: str | None, at: dt.datetime | None = None) -> int: ...

    def search_exists(self, search_id: str) -> bool: ...

    def rows(self, table: str, since: dt.datetime | None = None) -> list[dict]: ...

    def purge(self, before: dt.datetime) -> Purged: ...

    def allow(self, limit: str, client: str, per_minute: int) -> bool: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...
