"""Editor sign-ins that were signed out: a sign-in cookie is signed and carries its expiry, so without this
list a copied cookie would keep working until it expires even after the editor signed out."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from indexer.errors import KBError

SCHEMA = "CREATE TABLE IF NOT EXISTS signed_out (session TEXT PRIMARY KEY, expires INTEGER NOT NULL)"


class SignedOutSessions:
    """Session ids signed out before their cookie expired, in a small SQLite file every worker shares."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise KBError(f"cannot use the sign-out list {self.path}: {exc}") from None
        return connection

    def sign_out(self, session: str, expires: int) -> None:
        """Refuse `session` from now until it would have expired anyway; forget the ones past their expiry."""
        with contextlib.closing(self._connect()) as connection:
            connection.execute("DELETE FROM signed_out WHERE expires < ?", (int(time.time()),))
            connection.execute("INSERT OR REPLACE INTO signed_out (session, expires) VALUES (?, ?)",
                               (session, expires))

    def is_signed_out(self, session: str) -> bool:
        """Whether `session` was signed out."""
        if not self.path.exists():
            return False
        with contextlib.closing(self._connect()) as connection:
            return connection.execute("SELECT 1 FROM signed_out WHERE session = ?", (session,)).fetchone() is not None
