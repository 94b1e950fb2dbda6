"""How a typed query is read: one paper, free text, or several papers ("like these, not those").

The reading rules live here, not in the CLI: a query naming a paper (id, DOI, arXiv id, URL,
whole title, or the start of one title with at least 3 words: see
:mod:`paperlike.search.lookup`) is a paper; one naming none is free text, with a note that names
the papers whose titles it starts, if any (the other reading); a DOI, arXiv id or URL that is not
in the index is an error, since searching it as text would give noise, unless ``online`` is
given: then the paper's record is fetched (:mod:`paperlike.online`) and its title and abstract
searched (``query_kind`` ``online``). Several queries (or any ``unlike``) must each name a
library paper. :attr:`Answer.query_kind` says which reading was taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import QueryError, UnknownPaperError
from ..records import Answer
from ..records.search_options import SearchOptions
from ..search.identifiers import parse_identifier
from ..search.lookup import MIN_PREFIX_WORDS
from ..text import clean_text, cut_words
from .open_index import OpenIndex
from .ranking import papers_results, text_results

if TYPE_CHECKING:  # pragma: no cover
    from ..online import Online

__all__ = ["answer_one", "answer_many", "FREE_TEXT_NOTE"]

FREE_TEXT_NOTE = "no paper has this id or title, so it was searched as free text"
# Papers named in the note of a free-text query that starts their titles.
_ALTERNATIVES_SHOWN = 3


def answer_one(opened: OpenIndex, query: str, kind: str, opts: SearchOptions, online: "Online | None" = None) -> Answer:
    """Answer one query: a paper when it names one (``kind`` ``auto`` or ``paper``), else free
    text; with ``online``, an arXiv id or DOI the index does not have is fetched."""
    if kind not in ("auto", "paper", "text"):
        raise QueryError(f"unknown query kind '{kind}'; use auto, paper or text")
    if not isinstance(query, str):
        raise TypeError(f"a query is a string (paper id, title, DOI, arXiv id or free text), not {type(query).__name__}")
    if kind != "text":
        try:
            # --paper: only a paper can be meant, so any unique title start names one.
            reading = opened.lookup.read(query, prefix_words=0 if kind == "paper" else MIN_PREFIX_WORDS)
        except UnknownPaperError:
            ident = parse_identifier(clean_text(query))
            if online is not None and ident is not None and ident.kind in ("arxiv", "doi"):
                return _fetched_answer(opened, query, online, opts)
            if kind == "paper" or ident is not None:
                raise
        else:
            pos = reading.position
            results = papers_results(opened, [pos], [], opts)
            ids, titles = opened.index.ids, opened.index.titles
            return Answer(
                query, "paper", results, ids[pos], titles[pos], mode=opts.mode, diverse=opts.diverse, query_kind=reading.how
            )
    alternatives: tuple[tuple[str, str], ...] = ()
    note = None
    if kind != "text":
        starts = opened.lookup.title_starts(query)
        alternatives = tuple((opened.index.ids[p], opened.index.titles[p]) for p in starts)
        note = FREE_TEXT_NOTE + _other_reading(alternatives)
    results = text_results(opened, query, opts)
    return Answer(
        query, "text", results, note=note, mode=opts.mode, diverse=opts.diverse, query_kind="text", alternatives=alternatives
    )


def _fetched_answer(opened: OpenIndex, query: str, online: "Online", opts: SearchOptions) -> Answer:
    """Papers like a paper the index does not have, fetched by its arXiv id or DOI: its title and
    abstract searched as text (or, when the index has a paper of that very title, that paper)."""
    found = online.papers([query])
    name = parse_identifier(clean_text(query))
    described = name.describe() if name is not None else repr(query)
    paper = found.papers.get(query)
    if paper is None:
        raise UnknownPaperError(
            f"no paper with {described} in this index ({len(opened.index.ids)} papers), and "
            f"{found.unknown.get(query, 'it was not found online')}; check it, or search its title as free text",
            query,
            [],
        )
    fetched = f"{described} is not in the library; its record was fetched online ({cut_words(paper.title)})"
    try:  # the library may hold the paper without this identifier: then it is the query
        pos = opened.lookup.read(paper.title, prefix_words=1 << 30, near=False).position
    except QueryError:
        results = text_results(opened, paper.text, opts)
        note = f"{fetched} and its title and abstract searched"
        return Answer(
            query, "text", results, paper_title=paper.title, note=note, mode=opts.mode, diverse=opts.diverse, query_kind="online"
        )
    results = papers_results(opened, [pos], [], opts)
    ids, titles = opened.index.ids, opened.index.titles
    note = f"{fetched}: it has the title of paper {ids[pos]}"
    return Answer(
        query, "paper", results, ids[pos], titles[pos], note=note, mode=opts.mode, diverse=opts.diverse, query_kind="title"
    )


def _other_reading(papers: tuple[tuple[str, str], ...]) -> str:
    """The lookup a free-text query might have meant: the papers whose titles it starts."""
    if not papers:
        return ""
    shown = "; ".join(f"{pid} ({cut_words(title)})" for pid, title in papers[:_ALTERNATIVES_SHOWN])
    more = f"; and {len(papers) - _ALTERNATIVES_SHOWN} more" if len(papers) > _ALTERNATIVES_SHOWN else ""
    which = "the title of" if len(papers) == 1 else f"the titles of {len(papers)} papers:"
    one = "that paper" if len(papers) == 1 else "one of them"
    return (
        f". It also starts {which} {shown}{more}. To look up {one}, give its id or more of its title "
        f"({MIN_PREFIX_WORDS} words or more)"
    )


def answer_many(
    opened: OpenIndex, names: list[str], unwanted: list[str], kind: str, opts: SearchOptions, online: "Online | None" = None
) -> Answer:
    """Answer several queries, or one with ``unwanted`` papers: each must name a library paper
    (``online`` fetches the one query only)."""
    if not names:
        raise QueryError("give at least one query")
    if len(names) == 1 and not unwanted:
        return answer_one(opened, names[0], kind, opts, online)
    if kind == "text":
        raise QueryError(f'free text is one query; quote it: paperlike similar "{" ".join(names)}" --text')
    pos = [_find_one_of(opened, q, names) for q in names]
    neg = [opened.find(u) for u in unwanted]
    results = papers_results(opened, pos, neg, opts)
    ids, titles = opened.index.ids, opened.index.titles
    return Answer(
        " + ".join(names),
        "papers",
        results,
        mode=opts.mode,
        papers=tuple((ids[p], titles[p]) for p in pos),
        unlike=tuple((ids[p], titles[p]) for p in neg),
        diverse=opts.diverse,
        query_kind="papers",
    )


def _find_one_of(opened: OpenIndex, query: str, queries: list[str]) -> int:
    try:
        return opened.find(query)
    except UnknownPaperError as exc:
        if len(queries) < 2:
            raise
        hint = f' (to search free text, quote it: paperlike similar "{" ".join(queries)}")'
        raise UnknownPaperError(" ".join(str(exc).split()) + hint, exc.query, exc.suggestions) from None
