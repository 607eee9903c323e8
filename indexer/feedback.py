"""The query log and the agents' feedback: what was asked, what was shown, what was used and what helped.

`FeedbackStore` is the interface the web app and the reports use; `SQLiteFeedbackStore` keeps it in one
SQLite file beside the index (WAL, one connection per thread), with numbered schema migrations. Another
database fits behind the same methods. Everything typed by a person is masked (see privacy) before it is
written; no client address or identity is stored at all.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import CommentTooLong, KBError, QueryError
from .privacy import mask, mask_value

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
FEEDBACK_DB = "feedback.sqlite"

MIGRATIONS = (
    """
    CREATE TABLE searches (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        query TEXT NOT NULL,
        lang TEXT,
        mode TEXT NOT NULL,
        filters TEXT NOT NULL,
        index_version TEXT NOT NULL,
        keywords REAL,
        meaning REAL,
        results TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX searches_at ON searches(at);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        search_id TEXT,
        index_version TEXT NOT NULL,
        passage_id INTEGER NOT NULL,
        article_id TEXT NOT NULL,
        rating TEXT NOT NULL,
        comment TEXT
    );
    CREATE INDEX feedback_at ON feedback(at);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        search_id TEXT,
        kind TEXT NOT NULL,
        article_id TEXT NOT NULL,
        channel TEXT
    );
    CREATE INDEX events_at ON events(at);
    """,
    # Only that a case went to a department, with what it was about; never the hand-off note itself.
    """
    CREATE TABLE escalations (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        search_id TEXT,
        department TEXT NOT NULL,
        urgent TEXT,
        article_id TEXT,
        category TEXT,
        products TEXT NOT NULL
    );
    CREATE INDEX escalations_at ON escalations(at);
    CREATE TABLE contact_feedback (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        search_id TEXT,
        kind TEXT NOT NULL,
        product TEXT,
        category TEXT,
        comment TEXT
    );
    CREATE INDEX contact_feedback_at ON contact_feedback(at);
    """,
    # A pasted message or conversation answered need by need: each need is a search of its own, linked here.
    """
    CREATE TABLE assists (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        channel TEXT NOT NULL,
        lang TEXT,
        needs INTEGER NOT NULL,
        "values" TEXT NOT NULL
    );
    CREATE INDEX assists_at ON assists(at);
    ALTER TABLE searches ADD COLUMN assist_id TEXT;
    CREATE INDEX searches_assist ON searches(assist_id);
    """,
)
# Every table the log holds, oldest first; each has an `at` column the retention limit applies to.
TABLES = ("searches", "feedback", "events", "escalations", "contact_feedback", "assists")


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
    """ISO 8601 in UTC, sortable as text."""
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
    """What the app logs and what the reports read; SQLite by default, any database behind these methods."""

    def log_search(self, *, query: str, lang: str | None, mode: str, filters: dict, index_version: str,
                   results: list[dict], signals: dict, after: str | None = None,
                   at: dt.datetime | None = None, assist_id: str | None = None) -> str: ...

    def log_assist(self, *, channel: str, lang: str | None, needs: int, values: dict,
                   at: dt.datetime | None = None) -> str: ...

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


class SQLiteFeedbackStore:
    """The feedback store in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._migrated = False
        self._lock = threading.Lock()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection, the schema brought up to date on first use."""
        connection = getattr(self._local, "db", None)
        if connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            except (OSError, sqlite3.Error) as exc:
                raise KBError(f"cannot open the feedback log {self.path}: {exc}") from None
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                if not self._migrated:
                    self.migrate(connection)
                    self._migrated = True
            self._local.db = connection
        return connection

    @staticmethod
    def migrate(connection: sqlite3.Connection) -> None:
        """Apply the migrations this file has not seen yet, in one transaction."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def log_assist(self, *, channel, lang, needs, values, at=None):
        """Record one assist request (its values masked) and return its id; its needs are logged as searches."""
        masked = {kind: [mask(str(item)) for item in value] if isinstance(value, list) else mask_value(kind, value)
                  for kind, value in values.items()}
        assist_id = secrets.token_urlsafe(12)
        self.db.execute('INSERT INTO assists (id, at, channel, lang, needs, "values") VALUES (?, ?, ?, ?, ?, ?)',
                        (assist_id, timestamp(at or now()), channel, lang, int(needs),
                         json.dumps(masked, ensure_ascii=False)))
        return assist_id

    def log_search(self, *, query, lang, mode, filters, index_version, results, signals, after=None, at=None,
                   assist_id=None):
        """Record a search (masked) and return its id; a continuation of search `after` replaces that row.
        `assist_id` links the search of one need to the assist request it came from."""
        moment = at or now()
        shown = json.dumps([{"passage_id": r["passage_id"], "article_id": r["article_id"], "score": r["score"]}
                            for r in results[:LOGGED_RESULTS]])
        masked = mask(query)
        values = (timestamp(moment), masked, lang, mode, json.dumps(filters, ensure_ascii=False),
                  index_version, signals.get("keywords"), signals.get("meaning"), shown)
        if after and not assist_id and self._continues(after, masked, moment):
            self.db.execute(
                "UPDATE searches SET at = ?, query = ?, lang = ?, mode = ?, filters = ?, index_version = ?,"
                " keywords = ?, meaning = ?, results = ? WHERE id = ?", (*values, after))
            return after
        search_id = secrets.token_urlsafe(12)
        self.db.execute(
            "INSERT INTO searches (at, query, lang, mode, filters, index_version, keywords, meaning, results, id,"
            " assist_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*values, search_id, assist_id))
        return search_id

    def _continues(self, search_id: str, masked_query: str, moment: dt.datetime) -> bool:
        row = self.db.execute("SELECT at, query, used FROM searches WHERE id = ?", (search_id,)).fetchone()
        if row is None or row["used"]:
            return False
        age = (moment - dt.datetime.fromisoformat(row["at"].replace("Z", "+00:00"))).total_seconds()
        before, typed = row["query"].casefold(), masked_query.casefold()
        return 0 <= age <= MERGE_SECONDS and (typed.startswith(before) or before.startswith(typed))

    def add_feedback(self, *, search_id, index_version, passage_id, article_id, rating, comment, at=None):
        """Record one rating of a passage; a comment is masked and bounded. Returns the feedback id."""
        check_rating(rating, comment)
        # A rating is written through to the disk before it is acknowledged, even at the cost of an fsync;
        # the many search rows are not (WAL keeps them safe from a crash of the app, not of the machine).
        self.db.execute("PRAGMA synchronous=FULL")
        try:
            cursor = self.db.execute(
                "INSERT INTO feedback (at, search_id, index_version, passage_id, article_id, rating, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (timestamp(at or now()), search_id, index_version, int(passage_id), article_id, rating,
                 mask(comment.strip()) if comment and comment.strip() else None),
            )
        finally:
            self.db.execute("PRAGMA synchronous=NORMAL")
        if rating == "helped" and search_id:
            self.db.execute("UPDATE searches SET used = 1 WHERE id = ?", (search_id,))
        return int(cursor.lastrowid)

    def add_event(self, *, search_id, kind, article_id, channel=None, at=None):
        """Record that an agent copied a reply or opened an article; the search counts as used."""
        check_event(kind)
        self.db.execute("INSERT INTO events (at, search_id, kind, article_id, channel) VALUES (?, ?, ?, ?, ?)",
                        (timestamp(at or now()), search_id, kind, article_id, channel))
        if search_id:
            self.db.execute("UPDATE searches SET used = 1 WHERE id = ?", (search_id,))

    def add_escalation(self, *, search_id, department, urgent, article_id, category, products, at=None):
        """Record that a case went to `department` (and what it was about); the note itself is never stored."""
        cursor = self.db.execute(
            "INSERT INTO escalations (at, search_id, department, urgent, article_id, category, products)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (timestamp(at or now()), search_id, department, urgent, article_id, category,
             json.dumps(list(products), ensure_ascii=False)))
        if search_id:
            self.db.execute("UPDATE searches SET used = 1 WHERE id = ?", (search_id,))
        return int(cursor.lastrowid)

    def add_contact_feedback(self, *, search_id, kind, product, category, comment, at=None):
        """Record a customer's complaint, compliment or suggestion about a product or service, comment masked."""
        check_contact_feedback(kind, comment)
        cursor = self.db.execute(
            "INSERT INTO contact_feedback (at, search_id, kind, product, category, comment) VALUES (?, ?, ?, ?, ?, ?)",
            (timestamp(at or now()), search_id, kind, product, category,
             mask(comment.strip()) if comment and comment.strip() else None))
        return int(cursor.lastrowid)

    def search_exists(self, search_id: str) -> bool:
        """Whether a search id was logged (and not purged)."""
        return self.db.execute("SELECT 1 FROM searches WHERE id = ?", (search_id,)).fetchone() is not None

    def rows(self, table: str, since: dt.datetime | None = None) -> list[dict]:
        """Every row of one of TABLES from `since` on, oldest first, as dicts."""
        if table not in TABLES:
            raise ValueError(table)
        since_text = timestamp(since) if since else ""
        cursor = self.db.execute(f"SELECT * FROM {table} WHERE at >= ? ORDER BY at", (since_text,))  # noqa: S608
        return [dict(row) for row in cursor]

    def purge(self, before: dt.datetime) -> Purged:
        """Delete everything logged before `before` (the retention limit) and give the space back."""
        cutoff = timestamp(before)
        counts = [self.db.execute(f"DELETE FROM {table} WHERE at < ?", (cutoff,)).rowcount  # noqa: S608
                  for table in TABLES]
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")
        return Purged(*counts)

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "db", None)
        if connection is not None:
            connection.close()
            self._local.db = None
