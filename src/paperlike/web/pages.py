"""The HTML pages: search, paper (with like / not-like refinement), themes, a theme, the map,
upload, login and the API overview.

Templates are Jinja2 with autoescaping on for every template, so paper text is always shown as
text. Refinement state lives in the URL (``/paper?id=A&like=B&not=C``): pages are links and
GET forms, need no script, and can be bookmarked; the only POSTs are upload, login and the reader's
marks (the "like" / "not liked" buttons of a server started with ``--allow-edits``: a form that
posts to ``/mark`` and comes back to the page, see :mod:`.marks`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from paperlike import __version__
from paperlike.errors import AmbiguousQueryError, UnknownPaperError
from paperlike.readers.formats import FORMATS as CORPUS_FORMATS
from paperlike.readers.formats import find_reader
from paperlike.records import DEFAULT_MODE, MODES, Result

from . import answers
from .generations import Snapshot
from .marks import apply_marks, local_path, marks_of, read_mark_request
from .params import KINDS, MAX_K, THEME_SET_PARAMS, Kind, Params, SearchOptions
from .runtime import blocking, config, library, require_csrf
from .security import AUTH_COOKIE, ServeError

__all__ = ["routes", "error_page", "safe_link"]

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("paperlike.web", "templates"),
    autoescape=True,  # every template, whatever its extension
)


def url(path: str, **params: Any) -> str:
    """``path?query`` with list values repeated and empty values dropped."""
    items = [
        (k, v) for k, vs in params.items() for v in (vs if isinstance(vs, (list, tuple)) else [vs]) if v is not None and v != ""
    ]
    return f"{path}?{urlencode(items)}" if items else path


def safe_link(value: str | None) -> str | None:
    """An http(s) URL from a paper record, or None: a ``javascript:`` URL never becomes a link."""
    if not value:
        return None
    text = value.strip()
    return text if text.lower().startswith(("http://", "https://")) and " " not in text else None


def byline(result: dict[str, Any]) -> str:
    """First author(s), year and venue of a result (as the CLI shows them)."""
    authors = tuple(a for a in result.get("authors") or () if isinstance(a, str))
    year, venue = result.get("year"), result.get("venue")
    return Result(0, "", "", 0.0, year=year if isinstance(year, int) else None, authors=authors, venue=venue).byline()


_env.globals.update(
    url=url,
    safe_link=safe_link,
    byline=byline,
    version=__version__,
    modes=MODES,
    upload_formats=lambda: [name for name in CORPUS_FORMATS if find_reader(name).uploadable],
)
templates = Jinja2Templates(env=_env)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    cfg = config(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    base = {
        "csrf": request.scope["state"]["csrf"],
        "allow_edits": cfg.allow_edits,
        "token": cfg.token is not None,
        "here": here,  # where a mark button comes back to
        "marks": {},
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def error_page(request: Request, status: int, message: str, exc: Exception | None = None) -> Response:
    candidates = [{"id": i, "title": t} for i, t in exc.candidates[:20]] if isinstance(exc, AmbiguousQueryError) else []
    suggestions = exc.suggestions if isinstance(exc, UnknownPaperError) else []
    # A cross-site request refused (policy): the same page, followed from here, is same-origin.
    retry = None
    if status == 403 and request.scope["state"].get("cross_site") and request.method == "GET":
        query = request.url.query
        retry = "/" + request.url.path.lstrip("/") + (f"?{query}" if query else "")
    return _render(
        request,
        "error.html",
        {
            "status": status,
            "message": " ".join(message.split()),
            "candidates": candidates,
            "suggestions": suggestions,
            # Nothing of the index before logging in (a public page's error, e.g. /login's 429).
            "snap": library(request).served() if request.scope["state"].get("authenticated", True) else None,
            "retry": retry,
        },
        status,
    )


def _page_options(p: Params) -> SearchOptions:
    """k and mode of a page's list; the why is always shown."""
    return SearchOptions(k=p.integer("k", 10, 1, MAX_K), mode=p.choice("mode", MODES, DEFAULT_MODE), why=True)


async def home(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("q", "kind", "mode", "k"))
    query = (p.one("q") or "").strip()
    kind, opts = p.kind(), _page_options(p)
    snap = library(request).current()
    context: dict[str, Any] = {"snap": snap, "query": query, "kind": kind, "kinds": KINDS, "opts": opts, "answer": None}
    if query:
        context["answer"], context["marks"] = await blocking(request, _search_view, snap, query, kind, opts)
    return _render(request, "search.html", context)


def _search_view(snap: Snapshot, query: str, kind: Kind, opts: SearchOptions) -> tuple[dict[str, Any], dict[str, bool]]:
    answer = answers.similar(snap, [query], [], kind, opts)
    return answer, marks_of(snap, [r["id"] for r in answer["results"]])


def _paper_view(snap: Snapshot, query: str, likes: Sequence[str], nots: Sequence[str], opts: SearchOptions) -> dict[str, Any]:
    record = answers.paper(snap, query)
    pid = record["id"]
    likes = [x for x in dict.fromkeys(likes) if x != pid]
    nots = [x for x in dict.fromkeys(nots) if x != pid and x not in likes]
    answer = answers.like(snap, [pid, *likes], nots, opts)
    # The titles of the liked and not-liked papers, as the answer resolved them (for the chips).
    titles = dict(zip(likes, [p["title"] for p in answer["papers"][1:]]))
    titles.update(zip(nots, [u["title"] for u in answer["unlike"]]))
    marks = marks_of(snap, [pid, *(r["id"] for r in answer["results"])])
    return {"paper": record, "likes": likes, "nots": nots, "answer": answer, "titles": titles, "marks": marks}


async def paper_page(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("id", "like", "not", "mode", "k"))
    query = p.required("id", "autodistil")
    opts = _page_options(p)
    snap = library(request).current()
    view = await blocking(request, _paper_view, snap, query, p.many("like"), p.many("not"), opts)
    return _render(request, "paper.html", {"snap": snap, "opts": opts, **view})


async def themes_page(request: Request) -> Response:
    sets = Params(request.query_params.multi_items(), THEME_SET_PARAMS).theme_set()
    snap = library(request).current()
    result = await blocking(request, answers.themes, snap, sets, heavy=True)
    return _render(request, "themes.html", {"snap": snap, "themes": result, "sets": sets})


async def theme_page(request: Request) -> Response:
    p = Params(request.query_params.multi_items(), ("name", *THEME_SET_PARAMS))
    name, sets = p.required("name", "t1"), p.theme_set()
    snap = library(request).current()
    found = await blocking(request, answers.theme, snap, name, None, sets, heavy=True)
    return _render(request, "theme.html", {"snap": snap, "theme": found, "sets": sets})


async def map_page(request: Request) -> Response:
    sets = Params(request.query_params.multi_items(), THEME_SET_PARAMS).theme_set()
    return _render(request, "map.html", {"snap": library(request).current(), "sets": sets})


async def add_page(request: Request) -> Response:
    snap = library(request).current()
    if not config(request).allow_edits:
        raise ServeError("this server is read-only; start it with: paperlike serve --allow-edits")
    if request.method == "POST":
        from .api import add_upload

        report = await add_upload(request)
        return _render(request, "add.html", {"snap": library(request).current(), "report": report})
    return _render(request, "add.html", {"snap": snap, "report": None})


async def mark_page(request: Request) -> Response:
    """The pages' like / not-liked buttons: mark the paper, then back to the page (``next``)."""
    asked = await read_mark_request(request, extra=("next",))
    back = local_path(asked.params.one("next"))
    await blocking(request, apply_marks, library(request).current(), asked.papers, asked.liked)
    return RedirectResponse(back, status_code=303)


async def login_page(request: Request) -> Response:
    guard = request.scope["state"]["guard"]
    if config(request).token is None:
        return RedirectResponse("/", status_code=303)
    # No snapshot: nothing of the index (paper count, generation) is shown before logging in.
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=5)
        require_csrf(request, form.get("csrf_token"))
        refused = guard.throttle.refusal(_client(request))
        if refused is not None:
            raise ServeError(refused, 429)
        if not guard.token_matches(str(form.get("token") or "")):
            guard.throttle.failed(_client(request))
            await asyncio.sleep(1.0)  # slows down one browser's guessing; the throttle bounds the rest
            return _render(request, "login.html", {"snap": None, "failed": True}, 401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(AUTH_COOKIE, guard.login_cookie(), httponly=True, samesite="strict", path="/")
        return response
    return _render(request, "login.html", {"snap": None, "failed": False})


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


async def api_page(request: Request) -> Response:
    from .openapi import openapi

    spec = openapi(request.app)
    return _render(request, "api.html", {"snap": library(request).current(), "spec": spec})


routes = [
    Route("/", home),
    Route("/paper", paper_page),
    Route("/themes", themes_page),
    Route("/theme", theme_page),
    Route("/map", map_page),
    Route("/add", add_page, methods=["GET", "POST"]),
    Route("/mark", mark_page, methods=["POST"]),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/api", api_page),
]
