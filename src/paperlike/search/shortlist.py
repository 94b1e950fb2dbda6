"""A shortlist for ranking a big exact index without reading all of its vectors per query.

An exact hybrid ranking needs the cosine of every paper: its z-score uses their mean and
standard deviation, and any paper may rank first. At 96k papers that is a 148 MB scan per
query (about 10 ms of CPU, bound by memory), the largest part of an id lookup. A long-lived
process (``paperlike serve``) builds a :class:`DenseShortlist` once per index generation instead
(about 7 s of CPU at 96k papers):

- 4-bit codes of the vectors, one per dimension (FAISS ``IndexPQFastScan`` with one-dimensional
  subquantizers: each dimension rounded to one of 16 learnt values; 18 MB at 96k papers), whose
  approximate cosines name the papers likely to be the nearest (a scan of all codes takes under
  a millisecond). Codes of two dimensions each (half the size) missed a true top-10 paper in
  one query of 150 at 96k papers: their error is several times larger;
- the sum and the second-moment matrix of the vectors (float64), from which the mean and the
  standard deviation of the cosines of *all* papers with any query follow exactly
  (``mean = q.sum/n``, ``E[cos^2] = q.M.q/n``), without computing one cosine.

:func:`~paperlike.search.ranker.rank_index` then scores exactly (stored vectors, BM25 over all
papers) the union of the shortlist and the BM25 best, and fuses them with the statistics of all
papers. Every score it returns is the exact ranking's score of that paper, to rounding (hybrid
scores within about 2e-6: BM25 then adds each distinct query term once, times its count);
the one difference from the exact ranking is that a paper in neither list cannot be returned.
(`--mode topical` is the exception: its neighbour-overlap bonus, search/neighbours.py, takes each
pool paper's neighbours from the codes, re-scored exactly, not from a scan of every vector,
so that bonus, and the score, can differ by a little.)
``benchmarks/lookup_cpu.py --overlap`` measures how often that changes an answer (at 96k
papers: no id lookup of 500, hybrid, k=10). Lexical mode ranks the BM25 best exactly as over all
papers; themes and more than :data:`SHORTLIST_MAX_K` results are ranked over every paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DenseShortlist", "SHORTLIST_MIN_PAPERS", "SHORTLIST_DENSE", "SHORTLIST_LEXICAL", "SHORTLIST_MAX_K"]


# Below this many papers an exact scan costs a few milliseconds at most: rankings stay exact.
SHORTLIST_MIN_PAPERS = 50_000

# Papers taken per query by approximate cosine and by BM25, at least (10x the results wanted
# when more); see benchmarks/lookup_cpu.py --overlap for what they find.
SHORTLIST_DENSE = 700
SHORTLIST_LEXICAL = 300

# Rankings asking for more results than this (or a diverse pool larger) are computed exactly.
SHORTLIST_MAX_K = 100

# Rows of the vectors converted to float64 at a time when summing the second moments.
_CHUNK = 4096


@dataclass(frozen=True)
class DenseShortlist:
    """Approximate nearest papers and exact cosine statistics for one set of vectors.

    Attributes:
        codes: The FAISS ``IndexPQFastScan`` of the vectors (inner product).
        total: Sum of the vectors, ``(dim,)`` float64.
        moments: ``sum(x x^T)`` over the vectors, ``(dim, dim)`` float64.
        count: Number of vectors.
    """

    codes: Any
    total: np.ndarray
    moments: np.ndarray
    count: int

    @classmethod
    def build(cls, vectors: np.ndarray) -> "DenseShortlist | None":
        """Build from ``(count, dim)`` unit vectors; None when there are too few vectors to train
        the codes (FAISS wants 39 per centroid)."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        count, dim = vectors.shape
        if count < 39 * 16:
            return None
        codes = faiss.IndexPQFastScan(dim, dim, 4, faiss.METRIC_INNER_PRODUCT)
        # One small k-means per dimension: OpenMP threads only add synchronisation (the build
        # took 4x longer with 2 threads on 2 busy cores). This thread only, for this build.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            codes.train(vectors)  # FAISS seeds its k-means: the same vectors give the same codes
            codes.add(vectors)
        finally:
            faiss.omp_set_num_threads(threads)
        total = vectors.sum(axis=0, dtype=np.float64)
        moments = np.zeros((dim, dim), dtype=np.float64)
        for start in range(0, count, _CHUNK):
            block = vectors[start : start + _CHUNK].astype(np.float64)
            moments += block.T @ block
        return cls(codes, total, moments, count)

    def nearest(self, query: np.ndarray, n: int) -> np.ndarray:
        """Positions of the (about) ``n`` papers of highest approximate cosine with ``query``."""
        n = min(int(n), self.count)
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        _, found = self.codes.search(np.asarray(query, dtype=np.float32).reshape(1, -1), n)
        return found[0][found[0] >= 0].astype(np.int64)

    def cosine_stats(self, query: np.ndarray, left_out: np.ndarray) -> tuple[float, float] | None:
        """Mean and population standard deviation of the cosines of ``query`` with every paper
        except some, given those papers' cosines ``left_out``; None when no paper is left."""
        q = np.asarray(query, dtype=np.float64)
        out = np.asarray(left_out, dtype=np.float64)
        n = self.count - len(out)
        if n <= 0:
            return None
        mean = (float(q @ self.total) - float(out.sum())) / n
        square = (float(q @ self.moments @ q) - float(out @ out)) / n
        return mean, math.sqrt(max(square - mean * mean, 0.0))
