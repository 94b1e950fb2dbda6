"""Ranking the papers of an index for one query vector and its terms: exact or HNSW candidates,
fusion of the dense and lexical scores, plain or diverse (MMR) top-k, and explanations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..records import DEFAULT_MODE, Why
from ..storage.index import PaperIndex
from .explain import explain
from .lexical import LexicalIndex
from .rank import mmr_gains, score_all, top_k

__all__ = ["Query", "Hit", "rank_index"]


@dataclass(frozen=True)
class Query:
    """What to rank for.

    Attributes:
        vector: The dense query (a unit vector; zeros in lexical mode).
        terms: The lexical query's term ids, or a function that makes them (only called when needed).
        k: How many results.
        mode: ``hybrid``, ``dense`` or ``lexical``.
        exclude: Positions never returned (the query papers).
        within: Only these positions (a theme), or None for all.
        diverse: Re-rank the top with MMR.
        why_text: The query's text, to explain each result; None for no explanations.
    """

    vector: np.ndarray
    terms: Any
    k: int
    mode: str = DEFAULT_MODE
    exclude: frozenset[int] = frozenset()
    within: frozenset[int] | None = None
    diverse: bool = False
    why_text: str | None = None


@dataclass(frozen=True)
class Hit:
    """One ranked paper: its position, score, cosine, (when asked) why, and (diverse) its MMR gain."""

    position: int
    score: float
    cosine: float
    why: Why | None = None
    mmr: float | None = None


def _positions_mask(n: int, positions, value: bool) -> np.ndarray:
    mask = np.full(n, not value, dtype=bool)
    mask[list(positions)] = value
    return mask


def _candidate_dense(index: PaperIndex, q: np.ndarray, query: Query, lexical, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense scores over HNSW candidates (the graph neighbours, the BM25 best and a theme's papers),
    computed exactly; the mask narrows to the candidates, so fusion statistics use them only."""
    n = index.count
    wanted = min(n, max(1000, 20 * query.k + len(query.exclude)))
    _, found = index.search(q.reshape(1, -1), wanted)
    candidates = set(int(p) for p in found[0] if p >= 0)
    if query.within is not None:
        candidates |= set(query.within)  # a theme is small: score all its papers exactly
    if lexical is not None:
        candidates |= set(top_k(lexical, wanted, within=mask & (lexical > 0)))
    cand = np.array(sorted(candidates), dtype=np.int64)
    dense = np.zeros(n, dtype=np.float32)
    dense[cand] = index.vectors_at(cand.tolist()) @ q
    return dense, mask & _positions_mask(n, cand, True)


def _pick(index: PaperIndex, scores: np.ndarray, mask: np.ndarray, k: int, diverse: bool) -> list[tuple[int, float | None]]:
    """The positions to return, each with its MMR gain (None when not chosen by MMR)."""
    if not diverse:
        return [(p, None) for p in top_k(scores, k, within=mask)]
    pool = top_k(scores, min(max(5 * k, 50), 2000), within=mask)
    picked: list[tuple[int, float | None]] = list(mmr_gains(pool, scores[pool], index.vectors_at(pool), k))
    if len(picked) < k:  # more asked for than the pool: the rest in plain order
        seen = {p for p, _ in picked}
        picked += [(p, None) for p in top_k(scores, k, within=mask) if p not in seen][: k - len(picked)]
    return picked


def rank_index(index: PaperIndex, lexical_index: Callable[[], LexicalIndex], query: Query) -> list[Hit]:
    """The best ``query.k`` papers of ``index`` for ``query``, best first.

    Args:
        index: The loaded index.
        lexical_index: Returns the index's BM25 index (only called when the mode or ``why`` needs it).
        query: What to rank for.
    """
    q = np.asarray(query.vector, dtype=np.float32)
    mask = _positions_mask(index.count, query.exclude, False)
    if query.within is not None:
        mask &= _positions_mask(index.count, query.within, True)
    lexical = None
    if query.mode != "dense":
        lexical = lexical_index().scores_for_terms(query.terms() if callable(query.terms) else query.terms)
    if index.exact:
        # Exact scores for every paper, so fusion statistics and ties never depend on k.
        dense = index.all_vectors() @ q
    else:
        dense, mask = _candidate_dense(index, q, query, lexical, mask)
    if query.mode == "lexical" and lexical is not None:
        mask &= lexical > 0  # a paper sharing no term with the query is not a lexical match
    scores = score_all(query.mode, dense, lexical, mask)
    picked = _pick(index, scores, mask, query.k, query.diverse)
    positions = [p for p, _ in picked]
    whys: list[Why | None] = [None] * len(picked)
    if query.why_text is not None and picked:
        texts = [p.text for p in index.papers_at(positions)]
        whys = list(explain(lexical_index(), query.why_text, list(zip(positions, texts))))
    return [Hit(pos, float(scores[pos]), float(dense[pos]), why, gain) for (pos, gain), why in zip(picked, whys)]
