"""The query log in PostgreSQL (psycopg 3 and its pool), for several servers sharing one log and one set
of rate limits. Chosen when KB_FEEDBACK_DB is a postgresql:// URL.

The pool opens lazily in each worker process, after gunicorn forks, once a direct connection has answered.
When the database fails, the pool is dropped and every call fails at once with LogUnavailable for two
seconds; then one direct connection is tried (refused at once while the server is down), so a search that
logs best-effort loses no time.
"""

from __future__ import annotations

import contextlib
import threading
import time

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import KBError, LogUnavailable
from .migrations import MIGRATIONS
from .sql import SQLFeedbackStore

# Connections per worker process: a gthread worker runs 4 request threads.
POOL_MAX_SIZE = 4
# How long a request waits for a connection from the pool, and a new connection for the server.
POOL_WAIT_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 2
# After a failure, calls fail at once for this long before the database is tried again.
RETRY_AFTER_SECONDS = 2.0
APPLICATION = "kb-assistant"
# Any constant key: two servers starting at once must not run the migrations twice.
MIGRATION_LOCK = 7_164_020


def describe(url: str) -> str:
    """The URL as it may be printed: user, host, port and database, never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


class PostgresSession:
    """A transaction on one pooled connection; `?` placeholders become psycopg's `%s`."""

    def __init__(self, connection: psycopg.Connection):
        self.connection = connection

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        return self.connection.execute(sql.replace("?", "%s"), params).fetchall()

    def run(self, sql: str, params: tuple = ()) -> int:
        return self.connection.execute(sql.replace("?", "%s"), params).rowcount


class PostgresFeedbackStore(SQLFeedbackStore):
    """The feedback store in a PostgreSQL database, shared by every worker of every server."""

    def __init__(self, url: str):
        super().__init__()
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            reason = str(exc).strip()
            raise KBError(f"KB_FEEDBACK_DB is not a valid PostgreSQL URL ({describe(url)}): {reason}") from None
        self.url = url
        self.where = describe(url)
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()
        self._failed_at = 0.0
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"PostgresFeedbackStore({self.where!r})"

    def _open_pool(self) -> ConnectionPool:
        """The pool, opened after one direct connection has answered and brought the schema up to date."""
        with self._lock:
            if self._pool is None:
                with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_SECONDS, row_factory=dict_row,
                                     application_name=APPLICATION) as connection:
                    if not self._schema_ready:
                        self.migrate(connection)
                        self._schema_ready = True
                pool = ConnectionPool(
                    self.url, min_size=1, max_size=POOL_MAX_SIZE, timeout=POOL_WAIT_SECONDS, open=False,
                    kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": APPLICATION,
                            "row_factory": dict_row},
                    check=ConnectionPool.check_connection, name="kb-querylog",
                )
                pool.open(wait=False)
                self._pool = pool
            return self._pool

    def _give_up_pool(self) -> None:
        """After a failure: drop the pool (closed in the background), so that until the database answers a
        direct connection again, each try costs one refused connection instead of a wait on the pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            threading.Thread(target=pool.close, daemon=True, name="kb-querylog-close").start()

    @staticmethod
    def migrate(connection: psycopg.Connection) -> None:
        """Apply the migrations the database has not seen yet, in one transaction, one server at a time."""
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = connection.execute("SELECT max(version) AS version FROM schema_version").fetchone()
            version = row["version"] or 0
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in migration.statements("postgresql"):
                    connection.execute(statement)
                connection.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))

    def schema_version(self) -> int:
        """The number of migrations applied to this database."""
        with self._session() as session:
            return session.rows("SELECT max(version) AS version FROM schema_version")[0]["version"]

    @contextlib.contextmanager
    def _session(self, *, write=False, durable=False):
        if time.monotonic() - self._failed_at < RETRY_AFTER_SECONDS:
            raise LogUnavailable(f"the query log at {self.where} is unreachable; retrying in a moment")
        try:
            pool = self._open_pool()
            with pool.connection() as connection, connection.transaction():
                # Ratings wait for the server's WAL to reach its disk; searches do not (a crash of the database
                # server may lose its last searches, never an acknowledged rating).
                connection.execute(f"SET LOCAL synchronous_commit = {'on' if durable else 'off'}")
                yield PostgresSession(connection)
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            self._failed_at = time.monotonic()
            self._give_up_pool()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LogUnavailable(f"the query log at {self.where} is unreachable: {reason}") from None
        except psycopg.Error as exc:
            raise KBError(f"the query log at {self.where} failed: {exc}") from None

    def _lock_client(self, session, key: str) -> None:
        session.run("SELECT pg_advisory_xact_lock(hashtext(?))", (key,))

    def _sweep_expired_hits(self, session, before: float) -> None:
        # Rows another transaction is deleting are skipped, so two sweeps never wait on each other.
        session.run("DELETE FROM rate_hits WHERE ctid IN"
                    " (SELECT ctid FROM rate_hits WHERE at < ? FOR UPDATE SKIP LOCKED)", (before,))

    def close(self) -> None:
        """Close the pool and its connections."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
