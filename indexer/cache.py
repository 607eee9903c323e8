"""A small least-recently-used cache that threads share: question and sentence vectors live in one."""

from __future__ import annotations

import threading
from collections import OrderedDict


class LRUCache:
    """At most `size` entries; the least recently used go first."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The value for `key`, or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        """Remember `value` for `key`, forgetting the oldest entries beyond the size."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
