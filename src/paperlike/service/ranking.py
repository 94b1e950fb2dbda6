"""Ranking over one open index: the query vector (a paper's own, Rocchio's mix of several, or
embedded free text), the options record with its theme resolved to index positions, and the
fields of each result a reader scans for.

The :class:`~paperlike.records.search_options.SearchOptions` a caller gives is resolved once
(:func:`resolve_options`) and then handed to the scorer unchanged inside a
:class:`~paperlike.search.ranker.Query`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import QueryError
from ..mode_registry import find_mode
from ..records import Result, Results, Theme
from ..records.search_options import SearchOptions
from ..search.ranker import Query, rank_index
from ..search.scoring import rocchio
from ..text import clean_text
from .open_index import OpenIndex
from .themes import member_positions, named_theme
from .triage import disliked_positions

__all__ = ["theme_positions", "resolve_options", "rank_vector", "papers_results", "text_results"]


def theme_positions(opened: OpenIndex, theme: str | Theme | None) -> frozenset[int] | None:
    """Index positions of a theme's papers (a :class:`Theme`, or its id, seed or label in the
    automatic themes); None for no theme (every paper)."""
    return None if theme is None else member_positions(opened, named_theme(opened, theme))


def resolve_options(opened: OpenIndex, opts: SearchOptions) -> SearchOptions:
    """``opts`` with its theme resolved to index positions (unchanged when already resolved).

    Raises:
        QueryError: No such theme.
    """
    if opts.resolved:
        return opts
    return opts.within_positions(theme_positions(opened, opts.theme) or ())


def rank_vector(
    opened: OpenIndex,
    vector: np.ndarray,
    terms: Any,
    opts: SearchOptions,
    exclude: frozenset[int] = frozenset(),
    why: Callable[[], str] = lambda: "",
    papers: tuple[int, ...] = (),
) -> Results:
    """Rank for a query vector and its terms (term ids, or a function that makes them) as the
    resolved options say; ``exclude``: positions never returned (the query papers)."""
    opts = resolve_options(opened, opts)
    if opened.use_marks:  # papers the reader marked not liked are never offered again
        exclude = exclude | disliked_positions(opened.index)
    query = Query(vector, terms, opts, exclude, why() if opts.why else None, papers)
    hits = rank_index(opened.index, opened.lexical, query, opened.shortlist)
    kept = [h.paper for h in hits if h.paper is not None]
    records = kept if len(kept) == len(hits) else opened.index.papers_at([h.position for h in hits])
    return Results(
        Result.of_paper(rank, paper, h.score, h.cosine, h.why, h.mmr) for rank, (h, paper) in enumerate(zip(hits, records), 1)
    )


def papers_results(opened: OpenIndex, pos: list[int], neg: list[int], opts: SearchOptions) -> Results:
    """Papers like the papers at index positions ``pos`` and unlike those at ``neg`` (none of
    them returned), ranked as ``opts`` says."""
    both = sorted(set(pos) & set(neg))
    if both:
        raise QueryError(f"'{opened.index.ids[both[0]]}' is both wanted and not wanted; drop it from the papers or from --not")
    index = opened.index
    if len(pos) == 1 and not neg:
        vector = index.vector(pos[0])
    else:
        # Rocchio: the mean of the wanted vectors minus half the mean of the unwanted ones.
        vector = rocchio(index.vectors_at(pos), index.vectors_at(neg) if neg else None)
    return rank_vector(
        opened,
        vector,
        lambda: np.concatenate([opened.lexical().paper_terms(p) for p in pos]),
        opts,
        frozenset(pos) | frozenset(neg),
        lambda: " ".join(p.text for p in index.papers_at(pos)),
        tuple(pos),
    )


def text_results(opened: OpenIndex, text: str, opts: SearchOptions) -> Results:
    """Papers like a free text, ranked as ``opts`` says."""
    if not isinstance(text, str):
        raise TypeError(f"the text query is a string, not {type(text).__name__}")
    opts = resolve_options(opened, opts)  # an unknown theme fails before the model loads
    text = clean_text(text)
    embeds = find_mode(opts.mode).dense
    if not embeds and not text:
        raise QueryError("empty text query; give some words to search for")
    vector = opened.embed_query(text) if embeds else np.zeros(opened.index.dim, np.float32)
    return rank_vector(opened, vector, lambda: opened.lexical().term_ids(text), opts, why=lambda: text)
