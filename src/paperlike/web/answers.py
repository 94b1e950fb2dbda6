"""What the API and the pages answer, computed from one :class:`~.generations.Snapshot`.

Each function mirrors a CLI command (``similar``, ``similar --text``, ``similar A B --not C``,
``themes``, ``theme``, ``papers``, ``export``) and calls the same library methods, so a query
is read the same way on the command line, in the browser and through the API. All of them are
blocking: the app runs them in worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paperlike.errors import QueryError

from . import backend
from .generations import Snapshot
from .params import RankOptions

__all__ = ["resolve", "similar", "text", "like", "paper", "papers", "themes", "theme", "export", "map_data", "info"]


def resolve(snap: Snapshot, query: str) -> str:
    """The query, or the id of the paper whose DOI or arXiv id it is (``doi:10.1/x``,
    ``https://doi.org/...``, ``arXiv:2401.01234v2``) when it is not itself an indexed id."""
    key = backend.normalize_identifier(query)
    if key is None or snap.rec.index.position(query.strip()) is not None:
        return query
    found = snap.cached("identifiers", lambda: backend.identifier_index(snap.rec)).get(key)
    return found if found is not None else query


def _answer(
    query: str,
    kind: str,
    results: Sequence[Any],
    mode: str,
    *,
    paper_id=None,
    paper_title=None,
    note=None,
    unlike: Sequence[str] = (),
    generation: str = "",
) -> dict[str, Any]:
    return {
        "query": query,
        "kind": kind,
        "paper_id": paper_id,
        "paper_title": paper_title,
        "unlike": list(unlike),
        "mode": mode,
        "note": note,
        "generation": generation,
        "results": [r.to_dict() for r in results],
    }


def similar(snap: Snapshot, queries: Sequence[str], unlike: Sequence[str], kind: str, opts: RankOptions) -> dict[str, Any]:
    """``paperlike similar QUERY... [--not P] [--text|--paper]``."""
    if not queries:
        raise QueryError("missing parameter 'q'; give a paper id, a title, or free text, e.g. ?q=autodistil")
    if len(queries) > 1 or unlike:
        if kind == "text":
            raise QueryError("kind=text takes one q; put free text with several words in one q")
        return like(snap, queries, unlike, opts, query=" + ".join(queries))
    rec = snap.rec
    answer = rec.recommend(resolve(snap, queries[0]), opts.k, kind=kind, **opts.kwargs())
    return _answer(
        queries[0],
        answer.kind,
        answer.results,
        opts.mode,
        paper_id=answer.paper_id,
        paper_title=answer.paper_title,
        note=answer.note,
        generation=snap.generation,
    )


def text(snap: Snapshot, query: str, opts: RankOptions) -> dict[str, Any]:
    """``paperlike similar "TEXT" --text``."""
    results = snap.rec.similar_to_text(query, opts.k, **opts.kwargs())
    return _answer(query, "text", results, opts.mode, generation=snap.generation)


def like(
    snap: Snapshot, papers: Sequence[str], unlike: Sequence[str], opts: RankOptions, *, query: str | None = None
) -> dict[str, Any]:
    """``paperlike similar A B --not C``: papers like all of ``papers``, unlike ``unlike``."""
    if not papers:
        raise QueryError("missing parameter 'paper'; give at least one paper to find papers like, e.g. ?paper=autodistil")
    rec = snap.rec
    # Each paper is resolved once, here; like() then gets exact ids.
    liked = [rec.index.ids[rec.find(resolve(snap, p))] for p in papers]
    unliked = [rec.index.ids[rec.find(resolve(snap, p))] for p in unlike]
    results = rec.like(liked, opts.k, unlike=unliked, **opts.kwargs())
    kind = "paper" if len(liked) == 1 and not unliked else "papers"
    title = rec.index.titles[rec.index.position(liked[0])] if kind == "paper" else None
    return _answer(
        query or " + ".join(papers),
        kind,
        results,
        opts.mode,
        paper_id=liked[0] if kind == "paper" else None,
        paper_title=title,
        unlike=unliked,
        generation=snap.generation,
    )


def paper(snap: Snapshot, query: str) -> dict[str, Any]:
    """The full record of the paper a query names (as ``rec.paper``)."""
    record = backend.paper_record(snap.rec, resolve(snap, query))
    return {**record.to_dict(), "generation": snap.generation}


def papers(snap: Snapshot, search: str | None, limit: int, offset: int) -> dict[str, Any]:
    """``paperlike papers [--search TEXT]``, a page at a time."""
    index = snap.rec.index
    if search:
        needle = search.casefold()
        rows = [(i, t) for i, t in zip(index.ids, index.titles) if needle in i.casefold() or needle in t.casefold()]
    else:
        rows = list(zip(index.ids[offset : offset + limit], index.titles[offset : offset + limit]))
        return {
            "total": index.count,
            "offset": offset,
            "papers": [{"id": i, "title": t} for i, t in rows],
            "generation": snap.generation,
        }
    return {
        "total": len(rows),
        "offset": offset,
        "papers": [{"id": i, "title": t} for i, t in rows[offset : offset + limit]],
        "generation": snap.generation,
    }


def themes(snap: Snapshot, n: int | None, seeds: Sequence[str]):
    """``paperlike themes [-n N] [--seed S]...``; without options, the latest themes of the index."""
    if n is None and not seeds:
        return snap.cached("themes:latest", snap.rec.latest_themes)
    key = f"themes:{n}:{list(seeds)!r}"
    result = snap.cached(key, lambda: snap.rec.themes(n, list(seeds)))
    snap.cache["themes:latest"] = result  # as in the CLI: the themes computed last are the latest
    return result


def theme(snap: Snapshot, name: str, k: int | None) -> dict[str, Any]:
    """``paperlike theme NAME [-k K]``."""
    found = themes(snap, None, ()).get(name)
    shown = found.papers if k is None else found.papers[:k]
    return {**found.to_dict(), "papers": [p.to_dict() for p in shown], "generation": snap.generation}


def export(snap: Snapshot, fmt: str, ids: Sequence[str], theme_name: str | None) -> tuple[str, int]:
    """``paperlike export --format F [--ids ...] [--theme T]``: the text and the number of papers."""
    rec = snap.rec
    if ids:
        chosen = backend.papers_by_id(rec, list(dict.fromkeys(ids)))
    elif theme_name is None:
        chosen = backend.all_papers(rec)
    else:
        chosen = None
    if theme_name is not None:
        members = {p.id for p in themes(snap, None, ()).get(theme_name).papers}
        pool = chosen if chosen is not None else backend.papers_by_id(rec, [i for i in rec.index.ids if i in members])
        chosen = [p for p in pool if p.id in members]
    return backend.export_text(chosen, fmt), len(chosen)


def export_results(snap: Snapshot, answer: dict[str, Any], fmt: str) -> str:
    """The papers of an answer as full records (``paperlike similar ... --format F``)."""
    return backend.export_text(backend.papers_by_id(snap.rec, [r["id"] for r in answer["results"]]), fmt)


def map_data(snap: Snapshot) -> dict[str, Any]:
    """The figure of ``paperlike map`` for the latest themes (computed once per generation)."""

    def compute() -> dict[str, Any]:
        return backend.map_figure_dict(snap.rec, themes(snap, None, ()), f"{len(snap.rec)} papers by theme")

    return {**snap.cached("map", compute), "generation": snap.generation}


def info(snap: Snapshot) -> dict[str, Any]:
    """``paperlike info`` for the generation being served."""
    return {**snap.rec.info(), "generation": snap.generation}
