"""A small thread-safe LRU of computed answers, with one computation per key at a time.

Identical questions are common on a served library (everyone opens the same paper page, a page
and its "export" link ask the same ranking), and answering one costs tens of milliseconds at
100k papers, a hit a few microseconds. Every :class:`~.generations.Snapshot` has its own memos,
so an answer is never served from another generation and the memos go with their snapshot.
Concurrent askers of a key that is being computed wait for that computation instead of
repeating it (which matters most for themes and the map, which take seconds or minutes).
Errors are not kept: the next asker computes again.

Values are shared between requests and must not be changed by whoever gets them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["Memo"]


class Memo:
    """At most ``size`` values by key, least recently used dropped first.

    Args:
        size: Entries kept; 0 keeps nothing (every call computes).
    """

    def __init__(self, size: int):
        self.size = size
        self.hits = 0
        self.misses = 0
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def _lookup(self, key: Hashable) -> tuple[bool, Any]:
        # Under self._guard.
        if key in self._values:
            self._values.move_to_end(key)
            self.hits += 1
            return True, self._values[key]
        return False, None

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` when ``key`` is kept, else ``(False, None)``; never computes."""
        with self._guard:
            return self._lookup(key)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value kept for ``key``, or ``compute()`` (kept unless it raises)."""
        if self.size <= 0:
            return compute()
        with self._guard:
            found, value = self._lookup(key)
            if found:
                return value
            lock = self._pending.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                found, value = self._lookup(key)
            if found:
                return value
            try:
                value = compute()
            except BaseException:
                with self._guard:
                    if self._pending.get(key) is lock:
                        del self._pending[key]
                raise
            with self._guard:
                # Stored before the pending lock goes: a new asker finds the value, never an empty slot.
                self.misses += 1
                self._values[key] = value
                self._values.move_to_end(key)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
                if self._pending.get(key) is lock:
                    del self._pending[key]
            return value
