"""The query log in one SQLite file: the embedded default, shared by the workers of one machine.

WAL lets searches be read while one is written; each thread has its own connection. Write transactions
start IMMEDIATE, so the workers' rate-limit checks and counts are serialized by the file's lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from ..errors import LogUnavailable
from .migrations import MIGRATIONS
from .sql import SQLFeedbackStore

# How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_SECONDS = 10


class SQLiteSession:
    """A transaction on one SQLite connection."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        return [dict(row) for row in self.connection.execute(sql, params)]

    def run(self, sql: str, params: tuple = ()) -> int:
        return self.connection.execute(sql, params).rowcount


class SQLiteFeedbackStore(SQLFeedbackStore):
    """The feedback store in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self._local = threading.local()
        self._migrated = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLiteFeedbackStore({str(self.path)!r})"

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection, the schema brought up to date on first use."""
        connection = getattr(self._local, "db", None)
        if connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                             check_same_thread=False)
                connection.row_factory = sqlite3.Row
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                with self._lock:
                    if not self._migrated:
                        self.migrate(connection)
                        self._migrated = True
            except (OSError, sqlite3.Error) as exc:
                raise LogUnavailable(f"cannot read the query log {self.path}: {exc}") from None
            self._local.db = connection
        return connection

    @staticmethod
    def migrate(connection: sqlite3.Connection) -> None:
        """Apply the migrations this file has not seen yet, in one transaction."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in migration.statements("sqlite"):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        """The number of migrations applied to this file."""
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    @contextlib.contextmanager
    def _session(self, *, write=False, durable=False):
        connection = self.db
        try:
            if durable:
                # Written through to the disk before it is acknowledged, even at the cost of an fsync; the many
                # search rows are not (WAL keeps them safe from a crash of the app, not of the machine).
                connection.execute("PRAGMA synchronous=FULL")
            if write:
                connection.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteSession(connection)
            except BaseException:
                if write:
                    connection.execute("ROLLBACK")
                raise
            if write:
                connection.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LogUnavailable(f"the query log {self.path} failed: {exc}") from None
        finally:
            if durable:
                connection.execute("PRAGMA synchronous=NORMAL")

    def _reclaim_space(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "db", None)
        if connection is not None:
            connection.close()
            self._local.db = None
