"""The ASGI app (Starlette) and ``run``, which serves it with uvicorn.

``create_app`` opens the index first, so a missing or damaged index is one error line before
anything listens. Static files come from a fixed list read from this package (and plotly.js
from the plotly package): no part of a request path is ever used as a file name.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paperlike import __version__
from paperlike.errors import (
    AmbiguousQueryError,
    CorpusError,
    PaperlikeError,
    QueryError,
    UnknownPaperError,
)
from paperlike.settings import ENV_SERVE_WORKER
from paperlike.viz.placement import label_script

from . import api, backend, pages
from .connections import LIMITS, GuardedH11Protocol, quiet_accept_errors
from .generations import Library
from .runtime import ServeConfig, Workers
from .security import TOKEN_ENV, Guard, ServeError, check_bind
from .wording import api_wording

__all__ = ["create_app", "run", "status_of"]

log = logging.getLogger("paperlike.web")

_STATIC = {
    "style.css": "text/css; charset=utf-8",
    "map.js": "text/javascript; charset=utf-8",
    "labels.js": "text/javascript; charset=utf-8",
    "plotly.min.js": "text/javascript; charset=utf-8",
}


def status_of(exc: PaperlikeError) -> int:
    """The HTTP status of a library error (the CLI's exit code 2)."""
    if isinstance(exc, ServeError):
        return exc.status
    if isinstance(exc, UnknownPaperError):
        return 404
    if isinstance(exc, AmbiguousQueryError):
        return 409
    if isinstance(exc, CorpusError):
        return 422
    if isinstance(exc, QueryError):
        return 400
    return 409  # the index or the model is not in a state to answer (damaged, other model)


def error_body(exc: PaperlikeError) -> dict[str, Any]:
    message = api_wording(" ".join(str(exc).split()))
    body: dict[str, Any] = {"error": message, "type": type(exc).__name__, "status": status_of(exc)}
    if isinstance(exc, AmbiguousQueryError):
        body["candidates"] = [{"id": i, "title": t} for i, t in exc.candidates[:50]]
    if isinstance(exc, UnknownPaperError):
        body["suggestions"] = exc.suggestions
    return body


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _on_paperlike_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PaperlikeError)
    if _wants_json(request):
        return JSONResponse(error_body(exc), status_code=status_of(exc))
    return pages.error_page(request, status_of(exc), str(exc), exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "no such page", 405: "method not allowed here", 413: "the upload is too large"}.get(
        exc.status_code, str(exc.detail)
    )
    if _wants_json(request):
        return JSONResponse({"error": message, "type": "HTTPError", "status": exc.status_code}, status_code=exc.status_code)
    return pages.error_page(request, exc.status_code, message)


async def _on_bug(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error answering %s", request.url.path)
    message = f"unexpected {type(exc).__name__}; this is a bug in paperlike, please report it (the server log has the details)"
    if _wants_json(request):
        return JSONResponse({"error": message, "type": "InternalError", "status": 500}, status_code=500)
    return pages.error_page(request, 500, message)


def _static_bytes(name: str) -> bytes:
    if name == "plotly.min.js":
        return backend.plotly_js()
    if name == "labels.js":  # the map's label placement, shared with the page `paperlike map` writes
        return label_script().encode("utf-8")
    return (resources.files("paperlike.web") / "static" / name).read_bytes()


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:  # a fixed list: nothing from the request reaches the file system
        raise HTTPException(404)
    cache: dict[str, bytes] = request.app.state.static
    if name not in cache:
        cache[name] = _static_bytes(name)
    return Response(cache[name], media_type=_STATIC[name], headers={"cache-control": "public, max-age=3600"})


def create_app(
    index_dir: str | Path | None = None,
    *,
    allow_edits: bool = False,
    token: str | None = None,
    library: Library | None = None,
    query_threads: int | None = None,
    secret: bytes | None = None,
) -> Starlette:
    """The web app over the index in ``index_dir`` (opened and warmed here).

    Args:
        index_dir: Index directory; None for the default index (built on first use).
        allow_edits: Accept uploads that add papers.
        token: Access token every request must carry (see :mod:`.security`); None: local only.
        library: An already opened :class:`Library` (tests).
        query_threads: Worker threads for queries (default: the number of cores, at least 2).
        secret: Key of the CSRF and login cookies (default: random); worker processes share one.

    Raises:
        PaperlikeError: No index, or a damaged one.
    """
    if library is None:
        library = Library(index_dir, read_only=not allow_edits)
        library.open()
    cfg = ServeConfig(allow_edits=allow_edits, token=token)
    app = Starlette(
        routes=[*api.routes, *pages.routes, Route("/static/{name}", static)],
        middleware=[Middleware(Guard, secret=secret or secrets.token_bytes(32), token=token)],
        exception_handlers={PaperlikeError: _on_paperlike_error, HTTPException: _on_http_error, Exception: _on_bug},
        max_body_size=cfg.max_upload_bytes,
    )
    app.state.config = cfg
    app.state.library = library
    app.state.workers = Workers(query_threads)
    app.state.static = {}
    app.state.version = __version__
    return app


def _require_web_extra() -> None:
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ServeError(f"paperlike serve needs {exc.name}; run: pip install 'paperlike[serve]'", 400) from None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or one error line (port in use, unknown host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ServeError(f"cannot listen on '{host}': unknown host name; give an address such as 127.0.0.1", 400) from None
    family, _, _, _, address = infos[0]
    # proto=IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP; without it every answer waited ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port", 400) from None
    sock.listen(2048)
    return sock


_WORKER_ENV = ENV_SERVE_WORKER
# Idle keep-alive connections live 30 s, not uvicorn's 5: a client pausing between requests
# otherwise races the server closing its connection, and sees a dropped request. Slow and
# excess connections are closed (see .connections).
_UVICORN: dict[str, Any] = {
    "log_level": "warning",
    "access_log": False,
    "server_header": False,
    "lifespan": "off",
    "http": GuardedH11Protocol,
    # On Ctrl-C or SIGTERM, requests still running after this many seconds are cancelled (a
    # heavy job's thread is abandoned: see runtime.blocking), so the server stops promptly.
    "timeout_graceful_shutdown": 10,
    **LIMITS,
}


def app_from_env() -> Starlette:
    """The app of one worker process (``--workers N``), from the settings its parent left in
    the environment: every worker opens the index itself and shares the parent's secret."""
    settings = json.loads(os.environ[_WORKER_ENV])
    backend.limit_blas_threads()
    quiet_accept_errors()
    return create_app(
        settings["index_dir"],
        allow_edits=settings["allow_edits"],
        token=os.environ.get(TOKEN_ENV) or None,
        secret=bytes.fromhex(settings["secret"]),
    )


def _serve_workers(sock: socket.socket, index_dir: Path, allow_edits: bool, token: str | None, workers: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[_WORKER_ENV] = json.dumps(
        {"index_dir": str(index_dir), "allow_edits": allow_edits, "secret": secrets.token_hex(32)}
    )
    if token:
        os.environ[TOKEN_ENV] = token
    config = uvicorn.Config(
        "paperlike.web.app:app_from_env",
        factory=True,
        workers=workers,
        **_UVICORN,
        # A worker busy with a long request on a loaded machine is not hung: with the
        # default 5 s, uvicorn killed such workers and dropped their connections.
        timeout_worker_healthcheck=120,
    )
    Multiprocess(config, sockets=[sock]).run()  # uvicorn 0.54: the signature its own main() uses


def run(
    index_dir: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_edits: bool = False,
    allow_remote: bool = False,
    token: str | None = None,
    workers: int = 1,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the index until interrupted.

    Args:
        workers: Server processes; more than one answers more queries at once on several cores
            (each process holds its own copy of the index in memory).

    Raises:
        ServeError: A non-local host without ``allow_remote`` and a token, a port in use, or the
            web extra not installed.
        PaperlikeError: No index, or a damaged one.
    """
    check_bind(host, allow_remote, token)
    _require_web_extra()
    import uvicorn

    undo = backend.limit_blas_threads()
    quiet_accept_errors()
    sock = bind(host, port)
    try:
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{sock.getsockname()[1]}/"
        mode = f"{'uploads add papers' if allow_edits else 'read-only'}{'; token required' if token else ''}"
        if workers > 1:
            # Checked (and the default index built) once here; each worker opens it itself.
            rec = backend.load_recommender(Path(index_dir) if index_dir is not None else None)
            directory, count = rec.directory, len(rec)
            del rec
            announce(f"paperlike serve: {url}  ({count} papers from {directory}; {mode}; {workers} processes; Ctrl+C stops)")
            _serve_workers(sock, directory, allow_edits, token, workers)
            return
        app = create_app(index_dir, allow_edits=allow_edits, token=token)
        lib: Library = app.state.library
        announce(f"paperlike serve: {url}  ({len(lib.current().rec)} papers from {lib.directory}; {mode}; Ctrl+C stops)")
        config = uvicorn.Config(app, **_UVICORN)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if undo is not None:
            undo()
