"""The reader's marks in the web app: ``POST /api/mark`` and the pages' like / not-liked buttons
(``POST /mark``), and ``GET /api/marks``.

A mark is the same as ``paperlike mark`` makes (:mod:`paperlike.service.triage`): it changes what
``similar`` answers (papers marked not liked are left out) without a new index generation. The
memo of ranking answers (:mod:`.answers`) is per generation, so each key also holds the marks
version (:func:`~.generations.marks_version`, the marks file's stamp, read before the answer is
computed): an answer computed before a mark is never served after it, whether this server,
another server process or ``paperlike mark`` made the mark.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.requests import Request

from paperlike.errors import QueryError
from paperlike.service.triage import mark_papers, marked_set, marks

from .generations import Snapshot, marks_version
from .params import Params
from .runtime import config, library, require_csrf
from .security import ServeError

__all__ = [
    "MARK_CHOICES",
    "MAX_MARK_BODY",
    "MAX_PAPERS",
    "MarkRequest",
    "read_mark_request",
    "apply_marks",
    "list_marks",
    "marks_of",
    "local_path",
]

MARK_CHOICES = ("like", "dislike", "clear")
# A mark request is a few ids: a bigger body is refused (413), before it is read when it says its length.
MAX_MARK_BODY = 256 * 1024
MAX_PAPERS = 50
_EXAMPLE = 'e.g. paper=autodistil&mark=like, or JSON {"paper": ["autodistil"], "mark": "dislike"}'


@dataclass(frozen=True)
class MarkRequest:
    """A checked mark request: the papers as named, the mark (True liked, False not liked, None
    clear), and the other fields a page route accepts (``next``)."""

    papers: list[str]
    liked: bool | None
    params: Params


def _too_large() -> ServeError:
    return ServeError(f"the request is too large; a mark request takes at most {MAX_MARK_BODY // 1024} KB (a few paper ids)", 413)


async def _body(request: Request) -> bytes:
    """The body, refused (one JSON line, 413) once it passes :data:`MAX_MARK_BODY`."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_MARK_BODY:
            raise _too_large()
    return bytes(body)


def _json_items(body: bytes) -> list[tuple[str, str]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise QueryError(f"the body is not valid JSON; {_EXAMPLE}") from None
    if not isinstance(data, dict):
        raise QueryError(f"the JSON body must be an object; {_EXAMPLE}")
    items = []
    for name, value in data.items():
        for one in value if isinstance(value, list) else [value]:
            if not isinstance(one, str):
                raise QueryError(f"field '{str(name)[:40]}' must be a string or a list of strings; {_EXAMPLE}")
            items.append((str(name), one))
    return items


async def _items(request: Request) -> list[tuple[str, str]]:
    """The request's fields as ``(name, value)`` pairs, from a form or a JSON object."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > MAX_MARK_BODY:
        raise _too_large()  # before reading any of it
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return _json_items(await _body(request))
    if kind == "application/x-www-form-urlencoded":
        try:
            return parse_qsl((await _body(request)).decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_PAPERS + 5)
        except (ValueError, UnicodeDecodeError):
            raise QueryError(f"the form has more than {MAX_PAPERS + 5} fields or is not UTF-8; {_EXAMPLE}") from None
    if kind == "multipart/form-data":
        # Parts are capped by the form parser (1 MB each), the fields by max_fields.
        form = await request.form(max_files=0, max_fields=MAX_PAPERS + 5)
        items = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):  # only reached when a part names a file
                raise QueryError(f"field '{name[:40]}' is a file; send the paper ids as text")
            items.append((name, value))
        return items
    raise QueryError(f"send the fields as a form or as JSON (Content-Type: application/json); {_EXAMPLE}")


async def read_mark_request(request: Request, extra: Sequence[str] = ()) -> MarkRequest:
    """The fields of a mark request (``paper``, repeatable; ``mark``; ``csrf_token``; ``extra``),
    checked in the order the add endpoint checks its upload.

    Raises:
        ServeError: A read-only server (403), a missing or stale CSRF token (403).
        QueryError: No paper, no or another mark, an unknown field, a body that is neither a form
            nor a JSON object.
    """
    if not config(request).allow_edits:
        raise ServeError("this server is read-only; start it with: paperlike serve --allow-edits")
    library(request).current()  # a removed index answers 503: a mark would create its folder again
    items = await _items(request)
    csrf = [v for k, v in items if k == "csrf_token"]
    require_csrf(request, csrf[0] if len(csrf) == 1 else None)
    p = Params(items, ("paper", "mark", "csrf_token", *extra))
    papers = [q.strip() for q in p.many("paper", limit=MAX_PAPERS)]
    if not papers:
        raise QueryError(f"missing field 'paper'; name the paper to mark (an id, DOI, arXiv id or title), {_EXAMPLE}")
    choice = p.choice("mark", MARK_CHOICES, None)
    if choice is None:
        raise QueryError(f"missing field 'mark'; give mark=like, mark=dislike or mark=clear, {_EXAMPLE}")
    return MarkRequest(papers, None if choice == "clear" else choice == "like", p)


def apply_marks(snap: Snapshot, papers: Sequence[str], liked: bool | None) -> list[dict[str, Any]]:
    """Mark ``papers`` as ``paperlike mark`` does (all or none: an unknown paper marks nothing);
    blocking."""
    try:
        changes = mark_papers(snap.rec.opened, list(papers), liked)  # a write moves the marks version on
    except OSError as exc:
        raise ServeError(
            f"cannot save the marks in {snap.rec.directory} ({exc.strerror or exc}); check the folder's "
            "permissions and free space",
            409,
        ) from None
    return [{"id": c.paper.id, "title": c.paper.title, "mark": c.change, "in_library": c.in_library} for c in changes]


def list_marks(snap: Snapshot) -> list[dict[str, Any]]:
    """Every mark, oldest first, with the paper's record (``paperlike marks --json``); blocking."""
    return [m.to_dict() for m in marks(snap.rec.opened)]


def marks_of(snap: Snapshot, ids: Sequence[str]) -> dict[str, bool]:
    """The marks of the library papers ``ids`` (True liked, False not liked; unmarked ones left
    out), matched by identity as ``rank`` matches them; blocking. A damaged marks file counts as no
    marks (logged), so pages still show."""
    marked = snap.answers.get(("marks", marks_version(snap)), lambda: marked_set(snap.rec.opened))
    if not len(marked):
        return {}
    index = snap.rec.index
    positions = [p for p in (index.position(i) for i in dict.fromkeys(ids)) if p is not None]
    out = {}
    for paper in index.papers_at(positions):
        state = marked.mark_of(paper)
        if state is not None:
            out[paper.id] = state
    return out


def local_path(value: str | None) -> str:
    """``value`` when it is a path on this server (``/...``), else ``/``: a form's ``next`` never
    sends the browser to another site."""
    text = (value or "").strip()
    if not text.startswith("/") or text.startswith("//") or "\\" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "/"
    return text[:4000]
