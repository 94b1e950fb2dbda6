"""Ranking the papers of an index for one query vector and its terms: every paper, HNSW
candidates or a shortlist, fusion of the dense and lexical scores, plain or diverse (MMR) top-k,
and explanations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..mode_registry import find_mode
from ..records import Paper, Why
from ..records.search_options import SearchOptions
from ..storage.index import PaperIndex
from .explain import explain
from .lexical import LexicalIndex
from .neighbours import exact_neighbours, neighbour_bonus
from .scoring import fuse_standardised, mmr_gains, query_kind, score_all, standardise, stats_without, top_k
from .shortlist import SHORTLIST_DENSE, SHORTLIST_LEXICAL, SHORTLIST_MAX_K, DenseShortlist

__all__ = ["Query", "Hit", "rank_index"]


@dataclass(frozen=True)
class Query:
    """What to rank for.

    Attributes:
        vector: The dense query (a unit vector; zeros in lexical mode).
        terms: The lexical query's term ids, or a function that makes them (only called when needed).
        options: The caller's options record, unchanged (k, mode, diverse; its theme already
            resolved to index positions, ``options.within``).
        exclude: Positions never returned (the query papers, papers marked not liked).
        why_text: The query's text, to explain each result; None for no explanations.
        papers: The indexed papers the query is made of (none for free text): hybrid ranking
            compares their TF-IDF vectors with every paper's.
    """

    vector: np.ndarray
    terms: Any
    options: SearchOptions = SearchOptions()
    exclude: frozenset[int] = frozenset()
    why_text: str | None = None
    papers: tuple[int, ...] = ()

    @property
    def k(self) -> int:
        """How many results."""
        return self.options.k

    @property
    def mode(self) -> str:
        """The ranking mode's name (see :mod:`paperlike.mode_registry`)."""
        return self.options.mode

    @property
    def diverse(self) -> bool:
        """Re-rank the top with MMR."""
        return self.options.diverse

    @property
    def within(self) -> frozenset[int] | None:
        """Only these positions (a theme), or None for all."""
        return self.options.within


@dataclass(frozen=True)
class Hit:
    """One ranked paper: its position, score, cosine, (when asked) why, (diverse) its MMR gain,
    and its record when the ranking read it (for the why)."""

    position: int
    score: float
    cosine: float
    why: Why | None = None
    mmr: float | None = None
    paper: Paper | None = None


@dataclass(frozen=True)
class _Scored:
    """Scores of the papers that may be ranked: all papers (``positions`` None: entry i is the
    paper at position i) or a shortlist (entry i is the paper at ``positions[i]``, ascending)."""

    positions: np.ndarray | None
    scores: np.ndarray
    dense: np.ndarray
    mask: np.ndarray

    def position(self, i: int) -> int:
        return i if self.positions is None else int(self.positions[i])


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


def _pool_size(k: int) -> int:
    """How many of the best papers MMR chooses from."""
    return min(max(5 * k, 50), 2000)


def _cosines(index: PaperIndex, positions: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Exact cosines of some papers, as the full product computes them: BLAS computes rows in
    blocks, and a block's rows come out bit-identical to the full product's, while a ragged
    tail of a few rows may differ in the last bit; so the rows are padded to a multiple of 8."""
    if len(positions) == 0:
        return np.zeros(0, dtype=np.float32)
    pad = -len(positions) % 8
    rows = np.concatenate([positions, np.repeat(positions[:1], pad)]) if pad else positions
    return (index.all_vectors()[rows] @ q)[: len(positions)]


def _shortlist_positions(shortlist: DenseShortlist, q: np.ndarray, query: Query, lexical, mask: np.ndarray) -> np.ndarray:
    """The shortlist of a query, ascending: the papers of highest approximate cosine and the
    BM25 best (lexical mode: the BM25 best only, which are exactly its answer)."""
    need = max(query.k, _pool_size(query.k) if query.diverse else 0)
    if not find_mode(query.mode).dense:
        best = top_k(lexical, need, within=mask & (lexical > 0))  # ties resolved as over all papers
        return np.sort(np.asarray(best, dtype=np.int64))
    parts = [shortlist.nearest(q, max(SHORTLIST_DENSE, 10 * need))]
    if lexical is not None:
        many = min(max(SHORTLIST_LEXICAL, 10 * need), len(lexical))
        parts.append(np.argpartition(lexical, len(lexical) - many)[len(lexical) - many :])
    cand = np.unique(np.concatenate(parts))
    return cand[mask[cand]]


def _shortlisted(index: PaperIndex, shortlist: DenseShortlist, q: np.ndarray, query: Query, lexical, mask) -> _Scored:
    """Exact scores of a shortlist, fused with the statistics of all papers (see
    :mod:`paperlike.search.shortlist`)."""
    cand = _shortlist_positions(shortlist, q, query, lexical, mask)
    dense = _cosines(index, cand, q)
    spec = find_mode(query.mode)
    if lexical is None:
        scores = np.asarray(dense, dtype=np.float64)
    elif not spec.dense:
        scores = np.asarray(lexical[cand], dtype=np.float64)
    else:
        left_out = np.flatnonzero(~mask)
        dense_stats = shortlist.cosine_stats(q, _cosines(index, left_out, q))
        scores = fuse_standardised(
            standardise(dense, dense_stats),
            standardise(lexical[cand], stats_without(lexical, left_out)),
            spec.dense_weight(query_kind(query.papers)),
        )
    return _Scored(cand, scores, dense, np.ones(len(cand), dtype=bool))


def _searched_neighbours(
    search: Callable[[np.ndarray, int], tuple], index: PaperIndex
) -> Callable[[np.ndarray, int], np.ndarray]:
    """Nearest papers of some papers: twice as many candidates from a FAISS-style ``search``
    (shortlist codes, HNSW graph), re-scored with the stored vectors as the exact path scores
    them, each paper itself left out; -1 pads a short list."""

    def neighbours(positions: np.ndarray, k: int) -> np.ndarray:
        vectors = index.vectors_at(positions)
        _, found = search(vectors, 2 * k + 1)
        out = np.full((len(positions), k), -1, dtype=np.int64)
        for row, (cands, own, vector) in enumerate(zip(found, positions, vectors)):
            cands = np.unique(cands[(cands >= 0) & (cands != own)])
            best = cands[np.argsort(-(index.vectors_at(cands) @ vector), kind="stable")[:k]]
            out[row, : len(best)] = best
        return out

    return neighbours


def _with_neighbours(index: PaperIndex, scored: _Scored, query: Query, lexical, shortlist) -> _Scored:
    """A paper query's answers re-ranked by neighbour overlap, in a mode that asks for it (see
    search/neighbours.py)."""
    if not find_mode(query.mode).neighbours or lexical is None:
        return scored
    if shortlist is not None:
        neighbours = _searched_neighbours(shortlist.codes.search, index)
    elif index.exact:
        neighbours = lambda positions, k: exact_neighbours(index.all_vectors(), positions, k)  # noqa: E731
    else:
        neighbours = _searched_neighbours(index.search, index)
    scores = neighbour_bonus(scored.scores, scored.mask, scored.positions, query_kind(query.papers), neighbours, index.count)
    return scored if scores is scored.scores else _Scored(scored.positions, scores, scored.dense, scored.mask)


def _score(index: PaperIndex, q: np.ndarray, query: Query, lexical, mask: np.ndarray, shortlist) -> _Scored:
    """Scores of every paper (exact index), of the HNSW candidates, or of a shortlist."""
    if shortlist is not None:
        return _with_neighbours(index, _shortlisted(index, shortlist, q, query, lexical, mask), query, lexical, shortlist)
    if index.exact:
        # Exact scores for every paper, so fusion statistics and ties never depend on k.
        dense = index.all_vectors() @ q
    else:
        dense, mask = _candidate_dense(index, q, query, lexical, mask)
    spec = find_mode(query.mode)
    if not spec.dense and lexical is not None:
        mask &= lexical > 0  # a paper sharing no term with the query is not a lexical match
    scored = _Scored(None, score_all(query.mode, dense, lexical, mask, spec.dense_weight(query_kind(query.papers))), dense, mask)
    return _with_neighbours(index, scored, query, lexical, None)


def _pick(index: PaperIndex, scored: _Scored, k: int, diverse: bool) -> list[tuple[int, float | None]]:
    """The entries of ``scored`` to return, each with its MMR gain (None when not chosen by MMR)."""
    scores, mask = scored.scores, scored.mask
    if not diverse:
        return [(p, None) for p in top_k(scores, k, within=mask)]
    pool = top_k(scores, _pool_size(k), within=mask)
    vectors = index.vectors_at([scored.position(i) for i in pool])
    picked: list[tuple[int, float | None]] = list(mmr_gains(pool, scores[pool], vectors, k))
    if len(picked) < k:  # more asked for than the pool: the rest in plain order
        seen = {p for p, _ in picked}
        picked += [(p, None) for p in top_k(scores, k, within=mask) if p not in seen][: k - len(picked)]
    return picked


def _lexical_scores(lexical_index: Callable[[], LexicalIndex], query: Query) -> np.ndarray | None:
    """The mode's lexical side: the TF-IDF cosine (whole abstracts compared; see search/tfidf.py),
    BM25 (its scores bit for bit bm25s's), or nothing."""
    side = find_mode(query.mode).lexical
    if side is None:
        return None
    terms = query.terms() if callable(query.terms) and not (side == "tfidf" and query.papers) else query.terms
    if side == "bm25":
        return lexical_index().scores_for_terms(terms)
    lex = lexical_index()
    return lex.tfidf_paper_scores(query.papers) if query.papers else lex.tfidf().text_scores(terms)


def rank_index(
    index: PaperIndex, lexical_index: Callable[[], LexicalIndex], query: Query, shortlist: DenseShortlist | None = None
) -> list[Hit]:
    """The best ``query.k`` papers of ``index`` for ``query``, best first.

    Args:
        index: The loaded index.
        lexical_index: Returns the index's BM25 index (only called when the mode or ``why`` needs it).
        query: What to rank for.
        shortlist: Rank a shortlist of an exact index instead of every paper (see
            :mod:`paperlike.search.shortlist`; themes and more than ``SHORTLIST_MAX_K`` results
            are still ranked over every paper).
    """
    if not query.options.resolved:
        raise ValueError("the query's theme is not resolved to index positions (service.ranking.resolve_options)")
    q = np.asarray(query.vector, dtype=np.float32)
    mask = _positions_mask(index.count, query.exclude, False)
    if query.within is not None:
        mask &= _positions_mask(index.count, query.within, True)
    if not (shortlist is not None and query.within is None and query.k <= SHORTLIST_MAX_K and index.exact):
        shortlist = None  # themes and long lists: every paper
    lexical = _lexical_scores(lexical_index, query)
    scored = _score(index, q, query, lexical, mask, shortlist)
    picked = _pick(index, scored, query.k, query.diverse)
    positions = [scored.position(i) for i, _ in picked]
    whys: list[Why | None] = [None] * len(picked)
    papers: list[Paper | None] = [None] * len(picked)
    if query.why_text is not None and picked:
        read = index.papers_at(positions)
        whys = list(explain(lexical_index(), query.why_text, [(pos, p.text) for pos, p in zip(positions, read)]))
        papers = list(read)
    return [
        Hit(pos, float(scored.scores[i]), float(scored.dense[i]), why, gain, paper)
        for pos, (i, gain), why, paper in zip(positions, picked, whys, papers)
    ]
