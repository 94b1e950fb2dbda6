"""Connections that cannot hold the server: a time limit on a request's headers, a cap on open
connections, and a bounded log when the process runs out of file descriptors.

uvicorn (0.55) closes idle keep-alive connections (``timeout_keep_alive``) and answers 503 above
``limit_concurrency``, but a client that opens a connection and sends half a request line is
kept forever: ~1,100 of them exhausted the file descriptors. :class:`GuardedH11Protocol` closes
a connection whose request headers are not complete :data:`HEADER_TIMEOUT` seconds after it
opened (or after the first byte of a later request on it), and closes new connections at once
while :data:`MAX_CONNECTIONS` are open. Once out of descriptors anyway (a low ``ulimit -n``),
asyncio's accept loop logs a traceback per retry; :class:`OncePerMinute` keeps one such record
a minute, without its traceback after the first.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GuardedH11Protocol", "OncePerMinute", "quiet_accept_errors", "HEADER_TIMEOUT", "MAX_CONNECTIONS", "LIMITS"]

HEADER_TIMEOUT = 10.0
MAX_CONNECTIONS = 512
# uvicorn's own limits: requests answered at once (beyond: 503), idle keep-alive time.
LIMITS: dict[str, Any] = {"limit_concurrency": 256, "timeout_keep_alive": 30}


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a header time-out and a connection cap."""

    header_timeout = HEADER_TIMEOUT
    max_connections = MAX_CONNECTIONS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()  # connection_lost forgets it
            return
        self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Waiting for a request's headers (IDLE): they must come in time; past them: no limit here.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm()
        else:
            self._disarm()

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class OncePerMinute(logging.Filter):
    """Lets a record with the same message through once per ``interval`` seconds; the repeats
    it lets through carry no traceback.

    Args:
        interval: Seconds between records of one message.
        clock: Seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self.dropped = 0
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg).split("\n", 1)[0][:200]
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self.dropped += 1
                return False
            if len(self._last) > 1000:
                self._last.clear()
            self._last[key] = now
        if last is not None:
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_accept_errors() -> OncePerMinute:
    """Install (once) the filter on the ``asyncio`` logger, where the accept loop reports
    "socket.accept() out of system resource"; returns it."""
    logger = logging.getLogger("asyncio")
    for existing in logger.filters:
        if isinstance(existing, OncePerMinute):
            return existing
    added = OncePerMinute()
    logger.addFilter(added)
    return added
