"""Per-client rate limits: held in the query log's database, so every worker and server counts together.

One SQLite file is shared by the workers of one machine; a PostgreSQL log by every server. Without a log
(KB_FEEDBACK=0), or while its database is unreachable, each worker counts in its own memory instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque

from indexer.errors import KBError

# Clients remembered at once in memory; the least recently seen are forgotten first.
MAX_CLIENTS = 10_000

log = logging.getLogger(__name__)


class RateLimit:
    """At most `per_minute` calls per client in any 60 seconds, counted in this worker's memory."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._calls: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count a call by `client`; False when it is over the limit (the call is then not counted)."""
        moment = time.monotonic()
        with self._lock:
            calls = self._calls.pop(client, None) or deque()
            while calls and moment - calls[0] >= 60:
                calls.popleft()
            allowed = len(calls) < self.per_minute
            if allowed:
                calls.append(moment)
            self._calls[client] = calls
            while len(self._calls) > MAX_CLIENTS:
                self._calls.popitem(last=False)
            return allowed


class SharedRateLimit:
    """The limit `name` counted in the feedback store, which every worker and server shares."""

    def __init__(self, name: str, per_minute: int, store):
        self.name = name
        self.per_minute = per_minute
        self.store = store
        self._fallback = RateLimit(per_minute)

    def allow(self, client: str) -> bool:
        """Count a call by `client` in the store; in this worker's memory while the store is unreachable."""
        try:
            return self.store.allow(self.name, client, self.per_minute)
        except KBError as exc:
            log.warning("rate limit %s counted in memory: %s", self.name, exc)
            return self._fallback.allow(client)


def rate_limits(config: dict, store) -> dict:
    """The app's limits by name, from the app's *_PER_MINUTE settings."""
    per_minute = {"feedback": config["FEEDBACK_PER_MINUTE"], "events": config["EVENTS_PER_MINUTE"],
                  "login": config["LOGINS_PER_MINUTE"], "handoff": config["HANDOFFS_PER_MINUTE"],
                  "contact": config["CONTACT_FEEDBACK_PER_MINUTE"]}
    if store is None:
        return {name: RateLimit(limit) for name, limit in per_minute.items()}
    return {name: SharedRateLimit(name, limit, store) for name, limit in per_minute.items()}
