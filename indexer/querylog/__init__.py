"""The query log and the agents' feedback: what was asked, what was shown, what was used and what helped.

`FeedbackStore` (records) is the one interface the web app and the reports use. `open_store` picks the
backend from KB_FEEDBACK_DB: an SQLite file (sqlite, the embedded default) or a postgresql:// URL (postgres,
for several servers). Both run the same numbered migrations (migrations) and the same SQL (sql).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LogUnavailable
from .records import (
    CONTACT_KINDS,
    EVENTS,
    MAX_COMMENT_CHARS,
    RATINGS,
    FeedbackStore,
    Purged,
    check_contact_feedback,
    check_event,
    check_rating,
    is_postgres_url,
    now,
    timestamp,
)

FEEDBACK_DB = "feedback.sqlite"


def open_store(target: str | Path) -> FeedbackStore:
    """The store KB_FEEDBACK_DB names: PostgreSQL for a postgresql:// URL, else an SQLite file at that path.

    Nothing is connected yet; a malformed URL is a KBError at once, an unreachable database at first use.
    """
    if is_postgres_url(str(target)):
        from .postgres import PostgresFeedbackStore

        return PostgresFeedbackStore(str(target))
    from .sqlite import SQLiteFeedbackStore

    return SQLiteFeedbackStore(Path(target))


def check_store(target: str | Path) -> str | None:
    """Whether the log `target` names can be used before a server starts on it: a KBError for a malformed
    target or an SQLite log that cannot be read; for a PostgreSQL log that does not answer, the warning to
    give (it may be back before the first rating), and None when all is well."""
    store = open_store(target)
    try:
        store.schema_version()
    except LogUnavailable as exc:
        if not is_postgres_url(str(target)):
            raise
        return f"{exc}; searches are served but not logged, and ratings refused, until it answers"
    finally:
        store.close()
    return None


__all__ = ["CONTACT_KINDS", "EVENTS", "FEEDBACK_DB", "MAX_COMMENT_CHARS", "RATINGS", "FeedbackStore", "Purged",
           "check_contact_feedback", "check_event", "check_rating", "check_store", "is_postgres_url", "now",
           "open_store", "timestamp"]
