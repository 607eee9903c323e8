"""The query log's logic once, in the SQL both stores speak; each backend gives it connections."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import random
import secrets
import time
from typing import Protocol

from ..text.privacy import mask, mask_value
from .records import (
    LOGGED_RESULTS,
    MERGE_SECONDS,
    TABLES,
    Purged,
    check_contact_feedback,
    check_event,
    check_rating,
    now,
    timestamp,
)


def _search_row(moment: dt.datetime, *, query, lang, mode, filters, index_version, results, signals) -> tuple:
    """A search's columns as the log keeps them: the question masked, the top results by id and score."""
    shown = json.dumps([{"passage_id": r["passage_id"], "article_id": r["article_id"], "score": r["score"]}
                        for r in results[:LOGGED_RESULTS]])
    return (timestamp(moment), mask(query), lang, mode, json.dumps(filters, ensure_ascii=False), index_version,
            signals.get("keywords"), signals.get("meaning"), shown)


# A rate limit counts calls in any 60 seconds; older hits are deleted.
RATE_WINDOW_SECONDS = 60
# The share of limit checks that also delete every other client's expired hits, so that hashed addresses
# of clients who never come back are gone within minutes, not at the next purge.
SWEEP_SHARE = 0.02


class Session(Protocol):
    """One transaction on one connection, with `?` placeholders."""

    def rows(self, sql: str, params: tuple = ()) -> list[dict]: ...

    def run(self, sql: str, params: tuple = ()) -> int: ...


class SQLFeedbackStore:
    """Searches, ratings, events and rate limits over any backend that opens `Session`s."""

    def __init__(self) -> None:
        self._rate_key: bytes | None = None

    # What a backend provides.

    def _session(self, *, write: bool = False, durable: bool = False) -> contextlib.AbstractContextManager[Session]:
        """A transaction; `write` ones are serialized where the database needs it, `durable` ones are on
        disk before the block ends."""
        raise NotImplementedError

    def _lock_client(self, session: Session, key: str) -> None:
        """Serialize limit checks of one client (SQLite's write transactions already are)."""

    def _sweep_expired_hits(self, session: Session, before: float) -> None:
        session.run("DELETE FROM rate_hits WHERE at < ?", (before,))

    def _reclaim_space(self) -> None:
        """Give the space of purged rows back, where the database does not do it by itself."""

    # The log.

    def log_assist(self, *, channel, lang, values, searches, at=None):
        """Record one assist request (its values masked) and each of its needs as a search of its own, linked
        to it (`searches`: the keyword arguments of `log_search` per need), in one transaction; the assist's
        id and the searches' ids."""
        moment = at or now()
        masked = {kind: [mask(str(item)) for item in value] if isinstance(value, list) else mask_value(kind, value)
                  for kind, value in values.items()}
        assist_id = secrets.token_urlsafe(12)
        with self._session(write=True) as session:
            session.run('INSERT INTO assists (id, at, channel, lang, needs, "values") VALUES (?, ?, ?, ?, ?, ?)',
                        (assist_id, timestamp(moment), channel, lang, len(searches),
                         json.dumps(masked, ensure_ascii=False)))
            search_ids = [self._insert_search(session, _search_row(moment, **search), assist_id)
                          for search in searches]
        return assist_id, search_ids

    def log_search(self, *, query, lang, mode, filters, index_version, results, signals, after=None, at=None,
                   assist_id=None):
        """Record a search (masked) and return its id; a continuation of search `after` replaces that row.
        `assist_id` links the search of one need to the assist request it came from."""
        moment = at or now()
        values = _search_row(moment, query=query, lang=lang, mode=mode, filters=filters,
                             index_version=index_version, results=results, signals=signals)
        with self._session(write=True) as session:
            if after and not assist_id and self._continues(session, after, values[1], moment):
                session.run(
                    "UPDATE searches SET at = ?, query = ?, lang = ?, mode = ?, filters = ?, index_version = ?,"
                    " keywords = ?, meaning = ?, results = ? WHERE id = ?", (*values, after))
                return after
            return self._insert_search(session, values, assist_id)

    @staticmethod
    def _insert_search(session: Session, values: tuple, assist_id: str | None) -> str:
        search_id = secrets.token_urlsafe(12)
        session.run(
            "INSERT INTO searches (at, query, lang, mode, filters, index_version, keywords, meaning, results, id,"
            " assist_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*values, search_id, assist_id))
        return search_id

    @staticmethod
    def _continues(session: Session, search_id: str, masked_query: str, moment: dt.datetime) -> bool:
        found = session.rows("SELECT at, query, used FROM searches WHERE id = ?", (search_id,))
        if not found or found[0]["used"]:
            return False
        row = found[0]
        age = (moment - dt.datetime.fromisoformat(row["at"].replace("Z", "+00:00"))).total_seconds()
        before, typed = row["query"].casefold(), masked_query.casefold()
        return 0 <= age <= MERGE_SECONDS and (typed.startswith(before) or before.startswith(typed))

    def add_feedback(self, *, search_id, index_version, passage_id, article_id, rating, comment, at=None):
        """Record one rating of a passage; a comment is masked and bounded. Returns the feedback id.

        The rating is committed durably (on disk, not only in the database's memory) before this returns,
        and the API acknowledges it only after that: an accepted rating survives a crash of the app, the
        database server or the machine. When the database is unreachable this raises and nothing is accepted.
        """
        check_rating(rating, comment)
        with self._session(write=True, durable=True) as session:
            (row,) = session.rows(
                "INSERT INTO feedback (at, search_id, index_version, passage_id, article_id, rating, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (timestamp(at or now()), search_id, index_version, int(passage_id), article_id, rating,
                 mask(comment.strip()) if comment and comment.strip() else None),
            )
            if rating == "helped" and search_id:
                session.run("UPDATE searches SET used = 1 WHERE id = ?", (search_id,))
        return int(row["id"])

    def add_event(self, *, search_id, kind, article_id, channel=None, at=None):
        """Record that an agent copied a reply or opened an article; the search counts as used."""
        check_event(kind)
        with self._session(write=True) as session:
            session.run("INSERT INTO events (at, search_id, kind, article_id, channel) VALUES (?, ?, ?, ?, ?)",
                        (timestamp(at or now()), search_id, kind, article_id, channel))
            if search_id:
                session.run("UPDATE searches SET used = 1 WHERE id = ?", (search_id,))

    def add_escalation(self, *, search_id, department, urgent, article_id, category, products, at=None):
        """Record that a case went to `department` (and what it was about); the note itself is never stored."""
        with self._session(write=True) as session:
            (row,) = session.rows(
                "INSERT INTO escalations (at, search_id, department, urgent, article_id, category, products)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (timestamp(at or now()), search_id, department, urgent, article_id, category,
                 json.dumps(list(products), ensure_ascii=False)))
            if search_id:
                session.run("UPDATE searches SET used = 1 WHERE id = ?", (search_id,))
        return int(row["id"])

    def add_contact_feedback(self, *, search_id, kind, product, category, comment, at=None):
        """Record a customer's complaint, compliment or suggestion about a product or service, comment masked."""
        check_contact_feedback(kind, comment)
        with self._session(write=True) as session:
            (row,) = session.rows(
                "INSERT INTO contact_feedback (at, search_id, kind, product, category, comment)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (timestamp(at or now()), search_id, kind, product, category,
                 mask(comment.strip()) if comment and comment.strip() else None))
        return int(row["id"])

    def search_exists(self, search_id: str) -> bool:
        """Whether a search id was logged (and not purged)."""
        with self._session() as session:
            return bool(session.rows("SELECT 1 AS found FROM searches WHERE id = ?", (search_id,)))

    def rows(self, table: str, since: dt.datetime | None = None) -> list[dict]:
        """Every row of one of TABLES from `since` on, oldest first, as dicts."""
        if table not in TABLES:
            raise ValueError(table)
        since_text = timestamp(since) if since else ""
        with self._session() as session:
            return session.rows(f"SELECT * FROM {table} WHERE at >= ? ORDER BY at, id", (since_text,))  # noqa: S608

    def purge(self, before: dt.datetime) -> Purged:
        """Delete everything logged before `before` (the retention limit) and give the space back."""
        cutoff = timestamp(before)
        with self._session(write=True) as session:
            counts = [session.run(f"DELETE FROM {table} WHERE at < ?", (cutoff,))  # noqa: S608
                      for table in TABLES]
            self._sweep_expired_hits(session, time.time() - RATE_WINDOW_SECONDS)
        self._reclaim_space()
        return Purged(*counts)

    # Rate limits, shared by every process that opens the same store.

    def allow(self, limit: str, client: str, per_minute: int) -> bool:
        """Count a call of `limit` by `client`; False when it is over `per_minute` in the last 60 seconds
        (the call is then not counted). The client is kept only as a keyed hash, for the window's length."""
        moment = time.time()
        expired = moment - RATE_WINDOW_SECONDS
        with self._session(write=True) as session:
            key = self._client_hash(session, client)
            self._lock_client(session, f"{limit}:{key}")
            session.run("DELETE FROM rate_hits WHERE limit_name = ? AND client = ? AND at < ?", (limit, key, expired))
            if random.random() < SWEEP_SHARE:  # noqa: S311 - a sampling rate, not a secret
                self._sweep_expired_hits(session, expired)
            (counted,) = session.rows("SELECT COUNT(*) AS calls FROM rate_hits WHERE limit_name = ? AND client = ?",
                                      (limit, key))
            if counted["calls"] >= per_minute:
                return False
            session.run("INSERT INTO rate_hits (limit_name, client, at) VALUES (?, ?, ?)", (limit, key, moment))
        return True

    def _client_hash(self, session: Session, client: str) -> str:
        """The client's address under a key only this store holds: a client is recognized, never named."""
        if self._rate_key is None:
            session.run("INSERT INTO store_keys (name, value) VALUES ('rate_limit', ?) ON CONFLICT (name) DO NOTHING",
                        (secrets.token_hex(32),))
            (row,) = session.rows("SELECT value FROM store_keys WHERE name = 'rate_limit'")
            self._rate_key = bytes.fromhex(row["value"])
        return hmac.new(self._rate_key, client.encode(), hashlib.sha256).hexdigest()[:32]

