"""How a typed query is read: one paper, free text, or several papers ("like these, not those").

The reading rules live here, not in the CLI: a query naming a paper (id, DOI, arXiv id, URL,
title) is a paper; one naming none is free text, with a note; a DOI, arXiv id or URL that is not
in the index is an error, since searching it as text would give noise. Several queries (or any
``unlike``) must each name a paper.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import QueryError, UnknownPaperError
from ..records import Answer, Results
from ..search.identifiers import parse_identifier
from ..storage import PaperIndex
from ..text import clean_text
from .options import SearchOptions

__all__ = ["answer_one", "answer_many", "FREE_TEXT_NOTE"]

FREE_TEXT_NOTE = "no paper has this id or title, so it was searched as free text"


class _Searcher(Protocol):
    """What answering needs of a Recommender (a protocol, so this module does not import it)."""

    index: PaperIndex

    def find(self, query: str) -> int: ...

    def _papers_results(self, pos: list[int], neg: list[int], opts: SearchOptions) -> Results: ...

    def _text_results(self, text: str, opts: SearchOptions) -> Results: ...


def answer_one(rec: _Searcher, query: str, kind: str, opts: SearchOptions) -> Answer:
    """Answer one query: a paper when it names one (``kind`` ``auto`` or ``paper``), else free text."""
    if kind not in ("auto", "paper", "text"):
        raise QueryError(f"unknown query kind '{kind}'; use auto, paper or text")
    if not isinstance(query, str):
        raise TypeError(f"a query is a string (paper id, title, DOI, arXiv id or free text), not {type(query).__name__}")
    if kind != "text":
        try:
            pos = rec.find(query)
        except UnknownPaperError:
            if kind == "paper" or parse_identifier(clean_text(query)) is not None:
                raise
        else:
            results = rec._papers_results([pos], [], opts)
            ids, titles = rec.index.ids, rec.index.titles
            return Answer(query, "paper", results, ids[pos], titles[pos], mode=opts.mode, diverse=opts.diverse)
    note = None if kind == "text" else FREE_TEXT_NOTE
    return Answer(query, "text", rec._text_results(query, opts), note=note, mode=opts.mode, diverse=opts.diverse)


def answer_many(rec: _Searcher, names: list[str], unwanted: list[str], kind: str, opts: SearchOptions) -> Answer:
    """Answer several queries, or one with ``unwanted`` papers: each must name a paper."""
    if not names:
        raise QueryError("give at least one query")
    if len(names) == 1 and not unwanted:
        return answer_one(rec, names[0], kind, opts)
    if kind == "text":
        raise QueryError(f'free text is one query; quote it: paperlike similar "{" ".join(names)}" --text')
    pos = [_find_one_of(rec, q, names) for q in names]
    neg = [rec.find(u) for u in unwanted]
    results = rec._papers_results(pos, neg, opts)
    ids, titles = rec.index.ids, rec.index.titles
    return Answer(
        " + ".join(names),
        "papers",
        results,
        mode=opts.mode,
        papers=tuple((ids[p], titles[p]) for p in pos),
        unlike=tuple((ids[p], titles[p]) for p in neg),
        diverse=opts.diverse,
    )


def _find_one_of(rec: _Searcher, query: str, queries: list[str]) -> int:
    try:
        return rec.find(query)
    except UnknownPaperError as exc:
        if len(queries) < 2:
            raise
        hint = f' (to search free text, quote it: paperlike similar "{" ".join(queries)}")'
        raise UnknownPaperError(" ".join(str(exc).split()) + hint, exc.query, exc.suggestions) from None
