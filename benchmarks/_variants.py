"""Ranking variants measured by the benchmarks but not used by the product.

Reciprocal-rank fusion (RRF) was measured against the product's z-score fusion in
``benchmarks/quality.py`` and lost on PwC-areas, so it lives here, beside the benchmark.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RRF_K", "rrf", "rrf_fuse"]

RRF_K = 60  # RRF's damping constant (its usual value)


def _ranks(scores: np.ndarray) -> np.ndarray:
    # Rank 1 = best; ties by position, like every ordering in paperlike.
    order = np.lexsort((np.arange(len(scores)), -np.asarray(scores, dtype=np.float64)))
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def rrf(*score_lists: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion: ``sum 1 / (k + rank)`` over the given score arrays."""
    return sum(1.0 / (k + _ranks(s)) for s in score_lists)


def rrf_fuse(dense: np.ndarray, lexical: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """RRF of dense and lexical scores; papers outside ``mask`` rank last."""
    if mask is not None:
        dense, lexical = np.where(mask, dense, -np.inf), np.where(mask, lexical, -np.inf)
    return rrf(dense, lexical)
