"""A per-client rate limit held in memory: enough to stop one client flooding the feedback log."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

# Clients remembered at once; the least recently seen are forgotten first.
MAX_CLIENTS = 10_000


class RateLimit:
    """At most `per_minute` calls per client in any 60 seconds (per worker process)."""

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
