"""What one request may make the server do beyond answering from what it already has.

Theme sets and maps cost seconds to minutes of CPU and megabytes of memory at 100k papers, and
any web page can make a browser send a GET (an ``<img>`` tag is enough). So:

- a request that comes from another site (``Sec-Fetch-Site: cross-site`` or ``same-site``, or an
  ``Origin`` / ``Referer`` that is not this server) gets theme sets and maps only when they
  were already computed for the generation served; otherwise it is refused (403), with a link
  that computes them when followed from this server's own page;
- only a server started with ``--allow-edits`` saves computed theme sets (and a missing BM25
  index) beside the index; a read-only one keeps them in memory, at most
  :data:`~.generations.DERIVED_KEPT` per generation (least recently used dropped first);
- at most :data:`MAX_HEAVY_PENDING` such computations run or wait at once (one runs at a time,
  :class:`~.runtime.Workers`); beyond that a request is answered 503 at once.

The policy of a request is set by :func:`~.runtime.blocking` around the work it runs in a
thread, and read by :mod:`.answers` where a theme set or a map would be computed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Policy", "current", "applied", "MAX_HEAVY_PENDING", "CROSS_SITE_REFUSAL"]

MAX_HEAVY_PENDING = 16
CROSS_SITE_REFUSAL = (
    "refused: another site asked this server to compute {what}, which takes minutes on a large index; "
    "open this page from the server's own pages (or follow the link below) to compute them"
)

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    """What a request may do.

    Attributes:
        save: Write computed theme sets beside the index (``--allow-edits`` servers only).
        compute: Compute theme sets and maps not computed yet (False for cross-site requests).
    """

    save: bool = False
    compute: bool = True


_DEFAULT = Policy()
_policy: ContextVar[Policy | None] = ContextVar("paperlike_web_policy", default=None)


def current() -> Policy:
    """The policy of the request being answered (the default, outside a request: compute, don't save)."""
    return _policy.get() or _DEFAULT


def applied(policy: Policy, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` under ``policy``."""
    token = _policy.set(policy)
    try:
        return fn(*args)
    finally:
        _policy.reset(token)
