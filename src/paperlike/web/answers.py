"""What the API and the pages answer, computed from one :class:`~.generations.Snapshot`.

Each function mirrors a CLI command (``similar``, ``similar --text``, ``similar A B --not C``,
``themes``, ``theme``, ``papers``, ``export``) and calls the same library methods
(:meth:`~paperlike.Recommender.ask`, ``paper``, ``records``, ``list_papers``, ``themes``), so a
query is read the same way on the command line, in the browser and through the API: a paper
when it names one (id, title, DOI, arXiv id, URL), else free text with a note.

Answers are kept per generation (:mod:`.memo`): the same question on the same generation is
answered once. Rankings are kept per version of the reader's marks too
(:func:`~.generations.marks_version`): a paper marked not liked leaves them without a new
generation. The dicts returned are shared between requests and must not be changed. All
functions are blocking: the app runs them in worker threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from paperlike.errors import QueryError
from paperlike.export import export_papers
from paperlike.records import Theme, ThemeSet
from paperlike.service.themes import COLLECTION_PREFIX, resolve_theme, theme_set

from . import backend, policy
from .generations import Snapshot, marks_version
from .params import Kind, SearchOptions, ThemeSetQuery
from .security import ServeError

__all__ = [
    "MAX_K_KEPT",
    "MAX_QUERY_CHARS_KEPT",
    "similar",
    "text",
    "like",
    "paper",
    "papers",
    "themes",
    "theme_of",
    "theme",
    "export",
    "export_results",
    "map_data",
    "info",
]

# Answers with more results than this are not kept (each result is about 0.5 KB with its why),
# nor answers to queries longer than this (an abstract pasted as a query is rarely asked twice,
# and 512 kept keys of up to 50 x 20,000 characters would hold half a gigabyte).
MAX_K_KEPT = 100
MAX_QUERY_CHARS_KEPT = 2000
_AUTOMATIC = ThemeSetQuery()


def _ask(
    snap: Snapshot, queries: Sequence[str], unlike: Sequence[str], kind: Kind, opts: SearchOptions, sets: ThemeSetQuery
) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        chosen = opts if opts.theme is None else replace(opts, theme=theme_of(snap, str(opts.theme), sets))
        answer = snap.rec.answer(list(queries), chosen, unlike=list(unlike), kind=kind)
        return {**answer.to_dict(), "note": answer.note, "generation": snap.generation}

    if opts.k > MAX_K_KEPT or sum(map(len, queries)) + sum(map(len, unlike)) > MAX_QUERY_CHARS_KEPT:
        return compute()
    # The marks version is read before computing: a mark (no new generation) changes the key.
    key = ("ask", marks_version(snap), tuple(queries), tuple(unlike), kind, opts, sets.choice)
    return snap.answers.get(key, compute)


def similar(
    snap: Snapshot,
    queries: Sequence[str],
    unlike: Sequence[str],
    kind: Kind,
    opts: SearchOptions,
    sets: ThemeSetQuery = _AUTOMATIC,
) -> dict[str, Any]:
    """``paperlike similar QUERY... [--not P] [--text|--paper] [--theme T [-n N] [--seed S]...]``."""
    if not queries:
        raise QueryError("missing parameter 'q'; give a paper id, a title, or free text, e.g. ?q=autodistil")
    if kind == "text" and (len(queries) > 1 or unlike):
        raise QueryError("kind=text takes one q and no 'not'; put free text with several words in one q")
    return _ask(snap, queries, unlike, kind, opts, sets)


def text(snap: Snapshot, query: str, opts: SearchOptions, sets: ThemeSetQuery = _AUTOMATIC) -> dict[str, Any]:
    """``paperlike similar "TEXT" --text``."""
    return _ask(snap, [query], [], "text", opts, sets)


def like(
    snap: Snapshot, papers: Sequence[str], unlike: Sequence[str], opts: SearchOptions, sets: ThemeSetQuery = _AUTOMATIC
) -> dict[str, Any]:
    """``paperlike similar A B --not C --paper``: papers like all of ``papers``, unlike ``unlike``."""
    if not papers:
        raise QueryError("missing parameter 'paper'; give at least one paper to find papers like, e.g. ?paper=autodistil")
    return _ask(snap, papers, unlike, "paper", opts, sets)


def paper(snap: Snapshot, query: str) -> dict[str, Any]:
    """The full record of the paper a query names (``rec.paper``: id, title, DOI, arXiv id, URL)."""

    def compute() -> dict[str, Any]:
        return {**snap.rec.paper(query).to_dict(), "generation": snap.generation}

    return compute() if len(query) > MAX_QUERY_CHARS_KEPT else snap.answers.get(("paper", query), compute)


def papers(snap: Snapshot, search: str | None, limit: int, offset: int) -> dict[str, Any]:
    """``paperlike papers [--search TEXT]``, a page at a time."""
    if search:
        rows = snap.rec.list_papers(search)
        total, page = len(rows), rows[offset : offset + limit]
    else:
        # A page of the index as it is: no list of every paper is made for it.
        index = snap.rec.index
        total, page = index.count, list(zip(index.ids[offset : offset + limit], index.titles[offset : offset + limit]))
    return {
        "total": total,
        "offset": offset,
        "papers": [{"id": i, "title": t} for i, t in page],
        "generation": snap.generation,
    }


def _derived(snap: Snapshot, key: tuple[Any, ...], what: str, compute: Callable[[], Any]) -> Any:
    """A theme set or map of this generation: kept, or computed when the request's policy allows."""
    if policy.current().compute:
        return snap.derived.get(key, compute)
    found, value = snap.derived.peek(key)
    if not found:
        raise ServeError(policy.CROSS_SITE_REFUSAL.format(what=what), 403)
    return value


def themes(snap: Snapshot, sets: ThemeSetQuery = _AUTOMATIC) -> ThemeSet:
    """``paperlike themes [-n N] [--seed S]... | --theme-set NAME``: the same options always mean
    the same set; none, the automatic themes (computed or loaded once per generation and options;
    saved beside the index only by a server that may write it, see :mod:`.policy`)."""
    save = policy.current().save
    return _derived(snap, ("themes", sets.choice), "themes", lambda: theme_set(snap.rec.opened, sets.choice, save=save))


def theme_of(snap: Snapshot, name: str, sets: ThemeSetQuery = _AUTOMATIC) -> Theme:
    """The theme ``name`` names in a set (or a Zotero collection, ``collection:PATH``), as ``--theme``."""
    if name.startswith(COLLECTION_PREFIX):
        return snap.derived.get(("collection", name), lambda: resolve_theme(snap.rec.opened, name)[0])
    return themes(snap, sets).get(name)


def theme(snap: Snapshot, name: str, k: int | None, sets: ThemeSetQuery = _AUTOMATIC) -> dict[str, Any]:
    """``paperlike theme NAME [-k K] [-n N] [--seed S]... [--theme-set NAME]``."""
    found = theme_of(snap, name, sets)
    shown = found.papers if k is None else found.papers[:k]
    of_set = None if name.startswith(COLLECTION_PREFIX) else themes(snap, sets).set_dict()
    return {**found.to_dict(), "papers": [p.to_dict() for p in shown], "theme_set": of_set, "generation": snap.generation}


def export(
    snap: Snapshot, fmt: str, ids: Sequence[str], theme_name: str | None, sets: ThemeSetQuery = _AUTOMATIC
) -> tuple[str, int]:
    """``paperlike export --format F [--ids ...] [--theme T [-n N] [--seed S]...]``: the text and the number of papers."""
    within = None if theme_name is None else theme_of(snap, theme_name, sets)
    chosen = snap.rec.select_papers(theme=within, ids=ids)
    return export_papers(chosen, fmt), len(chosen)


def export_results(snap: Snapshot, answer: dict[str, Any], fmt: str) -> str:
    """The papers of an answer as full records (``paperlike similar ... --format F``)."""
    return export_papers(snap.rec.records([r["id"] for r in answer["results"]]), fmt)


def map_data(snap: Snapshot, sets: ThemeSetQuery = _AUTOMATIC) -> dict[str, Any]:
    """The figure of ``paperlike map [-n N] [--seed S]...`` (computed once per generation and options)."""

    def compute() -> dict[str, Any]:
        chosen = themes(snap, sets)
        figure = backend.map_figure_dict(snap.rec, chosen, f"{len(snap.rec)} papers by theme")
        return {**figure, "theme_set": chosen.set_dict(), "generation": snap.generation}

    return _derived(snap, ("map", sets.choice), "a map", compute)


def info(snap: Snapshot) -> dict[str, Any]:
    """``paperlike info`` for the generation being served."""
    return {**snap.rec.info(), "generation": snap.generation}
