"""Per-app state shared by the API and the pages: the settings, the served library, and the
worker threads that blocking work (ranking, themes, adds) runs in."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from . import policy
from .generations import Library
from .security import ServeError, csrf_matches

__all__ = ["ServeConfig", "config", "library", "blocking", "require_csrf", "Workers"]


@dataclass(frozen=True)
class ServeConfig:
    """How the server was started.

    Attributes:
        allow_edits: Uploads may add papers (``--allow-edits``).
        token: Access token, or None (local only).
        max_upload_bytes: Largest request body accepted.
    """

    allow_edits: bool = False
    token: str | None = None
    max_upload_bytes: int = 100 * 1024 * 1024


class Workers:
    """Thread pools for blocking work: queries get as many threads as there are cores (more
    would only queue inside the GIL and BLAS), heavy jobs (themes, map, export, add) one, so a
    minute of theme computation never holds up the queries."""

    def __init__(self, query_threads: int | None = None):
        import anyio

        self.query = anyio.CapacityLimiter(query_threads or max(2, os.cpu_count() or 2))
        self.heavy = anyio.CapacityLimiter(1)
        self.heavy_pending = 0  # heavy jobs running or waiting (bounded by policy.MAX_HEAVY_PENDING)


def config(request: Request) -> ServeConfig:
    return request.app.state.config


def library(request: Request) -> Library:
    return request.app.state.library


async def blocking(request: Request, fn: Callable[..., Any], *args: Any, heavy: bool = False) -> Any:
    """``fn(*args)`` in a worker thread (the event loop keeps serving meanwhile)."""
    import anyio

    workers: Workers = request.app.state.workers
    state = request.scope.get("state", {})
    rules = policy.Policy(save=config(request).allow_edits, compute=not state.get("cross_site", False))
    if not heavy:
        return await anyio.to_thread.run_sync(lambda: policy.applied(rules, fn, *args), limiter=workers.query)
    # Counted in the event loop's thread: no lock needed.
    if workers.heavy_pending >= policy.MAX_HEAVY_PENDING:
        raise ServeError(
            f"the server is busy with {workers.heavy_pending} theme and map computations; try again in a minute", 503
        )
    workers.heavy_pending += 1
    try:
        async with workers.heavy:
            return await _in_daemon_thread(lambda: policy.applied(rules, fn, *args))
    finally:
        workers.heavy_pending -= 1


async def _in_daemon_thread(fn: Callable[[], Any]) -> Any:
    """``fn()`` in a daemon thread of its own. A heavy job (an add of many papers, themes of a
    big index) may run for minutes; when the server is stopped, uvicorn cancels the request after
    its graceful-shutdown time, and the process must then exit, not wait for the job in a thread
    that Python joins at exit. Abandoning a job is safe: every index write is atomic, under the
    writer lock, and its temp files are removed by a later run (storage/stale.py)."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.cancelled() or done.done():
            return  # the request was cancelled (the server is stopping)
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def work() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the request's task, raised there
            try:
                loop.call_soon_threadsafe(settle, None, exc)
            except RuntimeError:  # the loop is closed: the server has stopped
                pass
            return
        try:
            loop.call_soon_threadsafe(settle, result, None)
        except RuntimeError:
            pass

    threading.Thread(target=work, name="paperlike heavy job", daemon=True).start()
    return await done


def require_csrf(request: Request, given: Any) -> None:
    """Refuse a state-changing request without this session's CSRF token (or the bearer token).

    Raises:
        ServeError: Missing or wrong token.
    """
    if request.scope.get("state", {}).get("bearer"):
        return
    token = given if isinstance(given, str) else request.headers.get("x-csrf-token")
    if not csrf_matches(request.scope, token):
        raise ServeError(
            "cross-site request refused: the form's CSRF token is missing or stale; reload the page and try again "
            "(API clients: GET /api/csrf, then send its token as X-CSRF-Token with the session cookie)"
        )
