"""The JSON API: one endpoint per CLI command (see :mod:`.openapi` for the description).

Every answer carries the index generation it came from (``generation`` in the JSON and the
``X-Paperlike-Generation`` header). Errors are JSON ``{"error": one line, "type", "status"}``
with a 4xx code, as the CLI prints one ``Error:`` line and exits with 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paperlike.errors import QueryError
from paperlike.format_registry import EXPORT_FORMATS, EXPORT_TYPES
from paperlike.readers.formats import upload_suffixes
from paperlike.storage.stale import private_temp_dir

from . import answers, backend
from .generations import Snapshot
from .marks import apply_marks, list_marks, read_mark_request
from .params import MAX_K, RANK_PARAMS, THEME_SET_PARAMS, Params, SearchOptions, ThemeSetQuery
from .runtime import blocking, config, library, require_csrf
from .security import ServeError

__all__ = ["routes", "EXPORT_TYPES", "json_response", "export_response", "add_upload"]


# Extensions kept from an uploaded file's name (the reader detects the format from them; the
# reader records list them, readers/formats.py); the name itself never reaches the file system.
_UPLOAD_EXTENSIONS = upload_suffixes
MAX_FILES = 10


def json_response(data: Any, generation: str, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"x-paperlike-generation": generation, "cache-control": "no-store"})


def export_response(text: str, fmt: str, generation: str, name: str = "papers") -> Response:
    media, ext = EXPORT_TYPES[fmt]
    return Response(
        text,
        media_type=media,
        headers={
            "content-disposition": f'attachment; filename="paperlike-{name}.{ext}"',
            "x-paperlike-generation": generation,
            "cache-control": "no-store",
        },
    )


async def _ranked(request: Request, snap: Snapshot, answer: dict[str, Any], fmt: str | None) -> Response:
    """The answer as JSON, or its papers as full records in ``fmt`` (from the same generation)."""
    if fmt is None:
        return json_response(answer, snap.generation)
    text = await blocking(request, answers.export_results, snap, answer, fmt)
    return export_response(text, fmt, snap.generation, "similar")


async def _ranking(
    request: Request,
    fn: Callable[..., dict[str, Any]],
    args: tuple[Any, ...],
    opts: SearchOptions,
    sets: ThemeSetQuery,
    fmt: str | None,
) -> Response:
    """``fn(snap, *args, opts, sets)`` in a query thread, for the current generation. A theme set
    that is not computed yet (seconds to minutes) is computed first among the heavy jobs, so it
    never holds up the threads that answer queries."""
    snap = library(request).current()
    if opts.theme is not None:
        await blocking(request, answers.theme_of, snap, str(opts.theme), sets, heavy=True)
    answer = await blocking(request, fn, snap, *args, opts, sets)
    return await _ranked(request, snap, answer, fmt)


async def api_similar(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("q", "not", "kind", *RANK_PARAMS))
    queries, unlike = p.many("q"), p.many("not")
    kind, (opts, sets), fmt = p.kind(), p.search_options(), p.export_format()
    return await _ranking(request, answers.similar, (queries, unlike, kind), opts, sets, fmt)


async def api_text(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("q", *RANK_PARAMS))
    query, (opts, sets), fmt = p.required("q", "few-shot+continual+learning"), p.search_options(), p.export_format()
    return await _ranking(request, answers.text, (query,), opts, sets, fmt)


async def api_like(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("paper", "not", *RANK_PARAMS))
    liked, unlike, (opts, sets), fmt = p.many("paper"), p.many("not"), p.search_options(), p.export_format()
    return await _ranking(request, answers.like, (liked, unlike), opts, sets, fmt)


async def api_paper(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("id",))
    query = p.required("id", "autodistil")
    snap = library(request).current()
    return json_response(await blocking(request, answers.paper, snap, query), snap.generation)


async def api_papers(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("search", "limit", "offset"))
    search, limit, offset = p.one("search"), p.integer("limit", 100, 1, MAX_K), p.integer("offset", 0, 0, 10**9)
    snap = library(request).current()
    return json_response(await blocking(request, answers.papers, snap, search, limit, offset), snap.generation)


async def api_themes(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), THEME_SET_PARAMS)
    sets = p.theme_set()
    snap = library(request).current()
    result = await blocking(request, answers.themes, snap, sets, heavy=True)
    return json_response({**result.to_dict(), "generation": snap.generation}, snap.generation)


async def api_theme(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("name", "k", *THEME_SET_PARAMS))
    name, k, sets = p.required("name", "t1"), p.integer("k", None, 1, 10**9), p.theme_set()
    snap = library(request).current()
    return json_response(await blocking(request, answers.theme, snap, name, k, sets, heavy=True), snap.generation)


async def api_export(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("format", "ids", "theme", *THEME_SET_PARAMS))
    fmt = p.export_format()
    if fmt is None:
        raise QueryError(f"missing parameter 'format'; use one of: {', '.join(EXPORT_FORMATS)}, e.g. ?format=bibtex")
    ids = [i.strip() for group in p.many("ids", limit=1000) for i in group.split(",") if i.strip()]
    theme = p.one("theme") or None
    sets = p.theme_set()
    if theme is None and sets.given:
        raise QueryError("n, seed and theme_set choose the theme set of 'theme'; give theme too, e.g. ?theme=t1&n=5")
    snap = library(request).current()
    text, _ = await blocking(request, answers.export, snap, fmt, ids, theme, sets, heavy=True)
    return export_response(text, fmt, snap.generation)


async def api_map(request: Request) -> Response:
    sets = Params(request.query_params.multi_items(), THEME_SET_PARAMS).theme_set()
    snap = library(request).current()
    return json_response(await blocking(request, answers.map_data, snap, sets, heavy=True), snap.generation)


async def api_info(request: Request) -> Response:
    Params(request.query_params.multi_items(), ())
    snap = library(request).current()
    data = {**answers.info(snap), "allow_edits": config(request).allow_edits, "switching_error": library(request).last_error}
    return json_response(data, snap.generation)


async def api_csrf(request: Request) -> Response:
    """The CSRF token of this session (the response sets the session cookie if it was missing)."""
    return JSONResponse({"csrf_token": request.scope["state"]["csrf"], "header": "X-CSRF-Token"})


async def add_upload(request: Request) -> dict[str, Any]:
    """Read an upload form and add its papers (the same add as ``paperlike add``); shared with the page."""
    if not config(request).allow_edits:
        raise ServeError("this server is read-only; start it with: paperlike serve --allow-edits")
    library(request).current()  # a removed index answers 503: an add would create its folder again
    form = await request.form(max_files=MAX_FILES, max_fields=10)
    require_csrf(request, form.get("csrf_token"))
    uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
    if not uploads:
        raise QueryError("no file uploaded; send the papers as the form field 'file'")
    fmt = str(form.get("format") or "") or None
    strict = str(form.get("strict") or "").lower() in ("1", "true", "on", "yes")
    # Named with this process's pid: a server killed mid-add leaves it, and a later paperlike
    # removes it once that pid is gone (storage/stale.py).
    with private_temp_dir("upload") as tmp:
        files: list[tuple[Path, str]] = []
        for i, upload in enumerate(uploads):
            shown = Path(str(upload.filename or f"upload-{i}")).name[:100] or f"upload-{i}"
            ext = Path(shown).suffix.lower()
            path = Path(tmp) / f"upload-{i}{ext if ext in _UPLOAD_EXTENSIONS() else '.dat'}"
            path.write_bytes(await upload.read())
            files.append((path, shown))
        report = await blocking(request, _add, request, files, fmt, strict, heavy=True)
    return report


def _add(request: Request, files: list[tuple[Path, str]], fmt: str | None, strict: bool) -> dict[str, Any]:
    lib = library(request)
    report = backend.add_files(lib.directory, files, fmt, strict)
    lib.wait_idle(timeout=900)  # answer once the generation that holds the new papers is served
    report["generation"] = lib.current().generation
    return report


async def api_add(request: Request) -> Response:
    report = await add_upload(request)
    return json_response(report, report["generation"])


async def api_mark(request: Request) -> Response:
    """Mark papers liked, not liked or clear their marks (``paperlike mark``); ``--allow-edits`` only."""
    asked = await read_mark_request(request)
    snap = library(request).current()
    changes = await blocking(request, apply_marks, snap, asked.papers, asked.liked)
    return json_response({"changes": changes, "generation": snap.generation}, snap.generation)


async def api_marks(request: Request) -> Response:
    """The marks, oldest first (``paperlike marks --json``)."""
    Params(request.query_params.multi_items(), ())
    snap = library(request).current()
    found = await blocking(request, list_marks, snap)
    return json_response({"marks": found, "generation": snap.generation}, snap.generation)


async def api_openapi(request: Request) -> Response:
    from .openapi import openapi

    return JSONResponse(openapi(request.app))


routes = [
    Route("/api/similar", api_similar),
    Route("/api/text", api_text),
    Route("/api/like", api_like),
    Route("/api/paper", api_paper),
    Route("/api/papers", api_papers),
    Route("/api/themes", api_themes),
    Route("/api/theme", api_theme),
    Route("/api/export", api_export),
    Route("/api/map", api_map),
    Route("/api/info", api_info),
    Route("/api/csrf", api_csrf),
    Route("/api/add", api_add, methods=["POST"]),
    Route("/api/mark", api_mark, methods=["POST"]),
    Route("/api/marks", api_marks),
    Route("/api/openapi.json", api_openapi),
]
