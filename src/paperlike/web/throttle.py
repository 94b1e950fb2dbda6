"""Failed token attempts are throttled, per client address and in all.

A token is long and random (see :func:`~.security.check_bind`), so guessing it is hopeless at
any rate; the throttle keeps it so even for a weaker token, and keeps a guessing client from
costing the server anything. After :data:`PER_CLIENT` wrong tokens from one address within
:data:`WINDOW` seconds, that address's token checks are refused (429) until the window has
passed; after :data:`GLOBAL` wrong tokens from all addresses together, every new token check is
(many addresses cannot guess faster than one). A browser that already logged in is not
affected: its login cookie is an HMAC with a 256-bit secret, which no one can guess, and it is
checked as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["Throttle", "PER_CLIENT", "GLOBAL", "WINDOW"]

PER_CLIENT = 10
GLOBAL = 100
WINDOW = 60.0
_CLIENTS_KEPT = 10_000  # addresses remembered (oldest forgotten first): memory stays bounded


class Throttle:
    """Counts wrong tokens; says when token checks are refused.

    Args:
        clock: Seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque(maxlen=GLOBAL)
        self._lock = threading.Lock()

    def _wait(self, times: deque[float] | None, limit: int, now: float) -> float:
        if times is None or len(times) < limit:
            return 0.0
        return max(0.0, WINDOW - (now - times[0]))

    def refusal(self, client: str) -> str | None:
        """Why a token from ``client`` is not checked now, or None when it may be."""
        now = self.clock()
        with self._lock:
            mine = self._wait(self._clients.get(client), PER_CLIENT, now)
            everyone = self._wait(self._all, GLOBAL, now)
        if mine:
            return f"too many wrong tokens from your address; try again in {int(mine) + 1} s"
        if everyone:
            return f"too many wrong tokens lately; this server checks no token for {int(everyone) + 1} s"
        return None

    def failed(self, client: str) -> None:
        """Count a wrong token from ``client``."""
        now = self.clock()
        with self._lock:
            times = self._clients.pop(client, None) or deque(maxlen=PER_CLIENT)
            times.append(now)
            self._clients[client] = times
            while len(self._clients) > _CLIENTS_KEPT:
                self._clients.popitem(last=False)
            self._all.append(now)
