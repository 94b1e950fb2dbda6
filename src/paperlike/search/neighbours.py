"""Neighbour overlap: re-rank the best answers to a paper query by how many of each one's own
nearest papers are among the query's best answers.

A paper that shares many neighbours with the query is about the same thing even when its own
words and vector are a little off (a clustered field, an abstract written another way). Only
queries made of indexed papers ("paper", "papers") are re-ranked: on free-text queries it did
not help (benchmarks/ranking.py, ``+nbr`` rows).

The re-rank touches the fused top NEIGHBOUR_POOL only; each of those papers gets a bonus
``weight * std(pool scores) * (z(count) - min z(count))``, so the pool's order is that of
``z(score) + weight * z(count)`` and every pool paper stays above every paper outside it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .scoring import top_k

__all__ = ["NEIGHBOUR_POOL", "NEIGHBOUR_RERANK", "PAPERS_PER_NEIGHBOUR", "neighbour_bonus", "exact_neighbours"]

# How many of the best answers are re-ranked.
NEIGHBOUR_POOL = 200
# By query kind: (neighbours per paper, weight). Chosen on the dev half of the PwC-areas paper
# and papers queries of benchmarks/ranking.py (``+nbr-pool`` rows); text queries are not re-ranked.
NEIGHBOUR_RERANK: dict[str, tuple[int, float]] = {"paper": (80, 1.6), "papers": (40, 0.8)}

# The neighbour lists must be a small share of the corpus to say anything (at 75 papers, 80
# neighbours are every paper and every count is equal): re-rank only with at least this many
# papers per neighbour. Measured at 5,250 (PwC) and 15,000 (ACM-CR-15k) papers only.
PAPERS_PER_NEIGHBOUR = 10

# Rows of the pool compared with every paper at once (bounds memory: rows x papers floats).
_ROWS_AT_ONCE = 32


def exact_neighbours(vectors: np.ndarray, positions: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` papers of highest cosine with each paper at ``positions`` (itself left out),
    by brute force over ``vectors``; ``(len(positions), min(k, n - 1))`` positions."""
    n = len(vectors)
    k = min(k, n - 1)
    out = np.empty((len(positions), max(k, 0)), dtype=np.int64)
    if k <= 0:
        return out
    for start in range(0, len(positions), _ROWS_AT_ONCE):
        rows = positions[start : start + _ROWS_AT_ONCE]
        sims = vectors[rows] @ vectors.T
        sims[np.arange(len(rows)), rows] = -np.inf
        out[start : start + len(rows)] = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return out


def neighbour_bonus(
    scores: np.ndarray,
    mask: np.ndarray,
    positions: np.ndarray | None,
    kind: str,
    neighbours: Callable[[np.ndarray, int], np.ndarray],
    papers: int,
) -> np.ndarray:
    """``scores`` with the neighbour-overlap bonus added to the best NEIGHBOUR_POOL entries.

    Args:
        scores: Fused scores of the entries that may be ranked.
        mask: Which entries may be ranked.
        positions: The index position of each entry (None: entry i is position i).
        kind: The query's kind (see :func:`paperlike.search.scoring.query_kind`).
        neighbours: ``(positions, k) -> (len(positions), k)`` nearest index positions of each.
        papers: How many papers the index holds.
    """
    if kind not in NEIGHBOUR_RERANK:
        return scores
    k, weight = NEIGHBOUR_RERANK[kind]
    if papers < PAPERS_PER_NEIGHBOUR * k:
        return scores
    pool = np.asarray(top_k(scores, NEIGHBOUR_POOL, within=mask), dtype=np.int64)
    if len(pool) < 3:
        return scores
    at = (lambda entries: entries) if positions is None else (lambda entries: positions[entries])
    best = at(np.asarray(top_k(scores, k, within=mask), dtype=np.int64))
    near = neighbours(at(pool), k)
    counts = np.isin(near, best).sum(axis=1).astype(np.float64)
    spread, base = float(counts.std()), np.asarray(scores[pool], dtype=np.float64)
    if spread == 0.0 or float(base.std()) == 0.0:
        return scores
    z = (counts - counts.mean()) / spread
    out = np.array(scores, dtype=np.float64)
    out[pool] = base + weight * float(base.std()) * (z - z.min())
    return out
