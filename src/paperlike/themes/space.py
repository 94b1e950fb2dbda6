"""The space discovered themes are clustered in: each paper's vector from the model beside a
reduced TF-IDF vector of its words, then averaged with its nearest papers.

The model alone blurs the rare technical words that tell fields apart, and one paper's vector
alone is noisy; the words bring the vocabulary of a field, the neighbours its consensus.
Measured on PwC-areas (``benchmarks/themes_quality.py``: 5,250 papers, 16 themes, the weight and
the number of neighbours chosen on a dev half of the papers): V-measure against the 16 areas
0.314 -> 0.348 over all papers (test half 0.320 -> 0.361), labels naming their papers' majority
task or area 70.8% -> 87.5% of the themes.

Only which papers go together is decided here. Centroids, membership scores and labels stay
in the model's space, which seeded themes, the matching of earlier themes and the map use.
Used from :data:`MIN_PAPERS` (30 neighbours must be a small share of the corpus; at 75 papers
they would be 40% of it) to :data:`MAX_PAPERS` (the neighbours are found exactly, all pairs:
a few seconds at 20,000 papers); outside that range the model's vectors alone, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["cluster_space", "MIX_WEIGHT", "SVD_DIMS", "SMOOTH_NEIGHBOURS", "MIN_PAPERS", "MAX_PAPERS"]

MIX_WEIGHT = 0.3  # the model's share beside the words (chosen on the dev half; 0.2-1.0 were tried)
SVD_DIMS = 100  # the TF-IDF side, reduced (200 did no better on dev)
SMOOTH_NEIGHBOURS = 30  # each paper averaged with this many nearest, itself included (10 and 30 tried)
MIN_PAPERS = 10 * SMOOTH_NEIGHBOURS
MAX_PAPERS = 20_000

_ROWS_AT_ONCE = 1024  # rows compared with every paper at once (bounds memory: rows x papers floats)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _reduced_words(words: Any, papers: int) -> np.ndarray | None:
    """Unit rows of a truncated SVD (fixed random state) of the TF-IDF rows, or None when there
    are too few words to reduce."""
    from sklearn.decomposition import TruncatedSVD

    if words is None or words.shape[0] != papers or words.shape[1] <= SVD_DIMS:
        return None
    return _unit_rows(TruncatedSVD(SVD_DIMS, random_state=0).fit_transform(words))


def _smoothed(x: np.ndarray, k: int) -> np.ndarray:
    """Each row averaged with its ``k`` nearest rows by cosine (itself among them), unit again."""
    out = np.empty_like(x)
    for start in range(0, len(x), _ROWS_AT_ONCE):
        block = x[start : start + _ROWS_AT_ONCE]
        near = np.argpartition(-(block @ x.T), k - 1, axis=1)[:, :k]
        out[start : start + len(block)] = x[np.sort(near, axis=1)].mean(axis=1)
    return _unit_rows(out)


def cluster_space(vectors: np.ndarray, words: Callable[[], Any]) -> np.ndarray | None:
    """The rows to cluster the papers by, or None to cluster the model's vectors as they are.

    Args:
        vectors: ``(papers, dim)`` unit vectors from the model.
        words: Returns the papers' unit TF-IDF rows (a SciPy sparse matrix, same order); only
            called within the range of sizes this is used for.
    """
    if not MIN_PAPERS <= len(vectors) <= MAX_PAPERS:
        return None
    reduced = _reduced_words(words(), len(vectors))
    if reduced is None:
        return None
    both = np.hstack([np.sqrt(MIX_WEIGHT) * vectors, np.sqrt(1 - MIX_WEIGHT) * reduced])
    return _smoothed(_unit_rows(both), SMOOTH_NEIGHBOURS)
