"""Scoring: z-score fusion of dense and lexical scores, top-k, Rocchio queries and MMR."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..mode_registry import DEFAULT_MODE, MODES, find_mode

__all__ = [
    "MODES",
    "DEFAULT_MODE",
    "DENSE_WEIGHT",
    "pool_stats",
    "stats_without",
    "standardise",
    "zscore",
    "fuse",
    "fuse_standardised",
    "top_k",
    "rocchio",
    "mmr",
    "mmr_gains",
    "score_all",
    "score_query",
    "query_kind",
    "HYBRID_DENSE_WEIGHT",
    "MMR_LAMBDA",
]


# Weight of the dense side in z-score fusion of cosine with BM25 (``fuse``'s default; hybrid
# ranking itself fuses with TF-IDF, weighted by query kind: HYBRID_DENSE_WEIGHT).
DENSE_WEIGHT = 0.8

# Hybrid ranking: the weight of the dense z-score when fused with the TF-IDF cosine, by query
# kind ("paper": one indexed paper; "papers": several, "like these"; "text": free text). Chosen
# on the dev half of the queries of benchmarks/ranking.py (PwC-areas: each kind; ACM-CR: papers).
# --diverse: MMR's balance of relevance against novelty (1.0 is plain relevance order); chosen on
# the dev half of benchmarks/diverse.py (PwC-areas paper queries).
MMR_LAMBDA = 0.5

HYBRID_DENSE_WEIGHT = dict(find_mode(DEFAULT_MODE).dense_weights or {})  # the registry's record holds them


def pool_stats(scores: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float] | None:
    """Mean and (population) standard deviation of the scores in ``mask`` (all when None);
    None when the mask holds no paper."""
    s = np.asarray(scores, dtype=np.float64)
    pool = s if mask is None else s[mask]
    if pool.size == 0:
        return None
    return pool.mean(), pool.std()


def stats_without(scores: np.ndarray, left_out: np.ndarray) -> tuple[float, float] | None:
    """:func:`pool_stats` of all scores but those at ``left_out`` (distinct positions), from
    sums (two passes fewer, no copy of the pool; the same to about 1e-15)."""
    s = np.asarray(scores, dtype=np.float64)
    out = s[np.asarray(left_out, dtype=np.int64)]
    n = len(s) - len(out)
    if n <= 0:
        return None
    mean = (float(s.sum()) - float(out.sum())) / n
    square = (float(s @ s) - float(out @ out)) / n
    return mean, math.sqrt(max(square - mean * mean, 0.0))


def standardise(scores: np.ndarray, stats: tuple[float, float] | None) -> np.ndarray:
    """``(scores - mean) / std`` for ``stats = (mean, std)``; 0 where std is 0 or stats is None."""
    s = np.asarray(scores, dtype=np.float64)
    if stats is None or not stats[1] > 0:
        return np.zeros_like(s)
    return (s - stats[0]) / stats[1]


def zscore(scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``(scores - mean) / std`` over the papers in ``mask`` (all when None); 0 where std is 0."""
    return standardise(scores, pool_stats(scores, mask))


def fuse(
    dense: np.ndarray,
    lexical: np.ndarray,
    *,
    method: str = "zscore",
    dense_weight: float = DENSE_WEIGHT,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """One score per paper from a dense and a lexical score per paper.

    Args:
        dense: Cosine similarity of each paper to the query.
        lexical: BM25 score of each paper for the query.
        method: ``"zscore"`` (weighted sum of z-scores; reciprocal-rank fusion, measured worse,
            lives in ``benchmarks/_variants.py``).
        dense_weight: Weight of the dense z-score (the lexical one gets ``1 - dense_weight``).
        mask: Papers that may be ranked (False for the query paper itself); statistics use these.
    """
    if method != "zscore":
        raise ValueError(f"unknown fusion method {method!r}")
    return fuse_standardised(
        standardise(dense, pool_stats(dense, mask)), standardise(lexical, pool_stats(lexical, mask)), dense_weight
    )


def fuse_standardised(dense_z: np.ndarray, lexical_z: np.ndarray, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """The fused score from the z-scores of both sides (see :func:`fuse`)."""
    return dense_weight * dense_z + (1.0 - dense_weight) * lexical_z


def top_k(scores: np.ndarray, k: int, exclude: Sequence[int] = (), within: np.ndarray | None = None) -> list[int]:
    """Positions of the ``k`` best scores, best first; ties go to the lower position."""
    s = np.asarray(scores, dtype=np.float64).copy()
    s[list(exclude)] = -np.inf
    if within is not None:
        s[~within] = -np.inf
    allowed = int(np.isfinite(s).sum())
    k = min(k, allowed)
    if k <= 0:
        return []
    # argpartition for speed on large corpora, then an exact ordering of the few kept.
    cut = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
    threshold = s[cut].min()
    keep = np.flatnonzero(s >= threshold)  # every tie at the threshold, so ties resolve by position
    order = keep[np.lexsort((keep, -s[keep]))]
    return [int(p) for p in order[:k]]


def rocchio(positives: np.ndarray, negatives: np.ndarray | None = None, *, beta: float = 1.0, gamma: float = 0.5) -> np.ndarray:
    """One unit query vector for "like these, not those": ``beta * mean(pos) - gamma * mean(neg)``.

    Args:
        positives: ``(p, dim)`` vectors of the papers wanted (p >= 1).
        negatives: ``(q, dim)`` vectors of papers not wanted, or None.
    """
    q = beta * np.asarray(positives, dtype=np.float64).mean(axis=0)
    if negatives is not None and len(negatives):
        q = q - gamma * np.asarray(negatives, dtype=np.float64).mean(axis=0)
    norm = np.linalg.norm(q)
    return (q / norm if norm > 0 else q).astype(np.float32)


def mmr(candidates: Sequence[int], relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float = MMR_LAMBDA) -> list[int]:
    """Maximal marginal relevance: pick ``k`` of ``candidates`` balancing relevance and novelty.

    Each step takes the candidate maximising ``lam * rel - (1 - lam) * max cos(to picked)``, with
    relevance rescaled to [0, 1] over the candidates so it is comparable to cosines.

    Args:
        candidates: Positions, best first (e.g. the top 5k by relevance).
        relevance: Relevance score of each candidate, same order.
        vectors: ``(len(candidates), dim)`` unit vectors of the candidates.
        k: How many to pick.
        lam: 1.0 is plain relevance order; lower values favour diversity.
    """
    return [p for p, _ in mmr_gains(candidates, relevance, vectors, k, lam)]


def mmr_gains(
    candidates: Sequence[int], relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float = MMR_LAMBDA
) -> list[tuple[int, float]]:
    """:func:`mmr`, with the gain that chose each pick. Gains never increase from one pick to
    the next (a candidate's redundancy only grows), so they order the picks as shown."""
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min() if len(rel) else 0.0
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    vecs = np.asarray(vectors, dtype=np.float64)
    picked: list[tuple[int, float]] = []
    redundancy = np.full(len(candidates), -np.inf)
    left = list(range(len(candidates)))
    while left and len(picked) < k:
        gains = [lam * rel[i] - (1 - lam) * (redundancy[i] if picked else 0.0) for i in left]
        at = int(np.argmax(gains))  # argmax keeps the first of equal gains: best-ranked
        best = left[at]
        picked.append((best, float(gains[at])))
        left.remove(best)
        redundancy = np.maximum(redundancy, vecs @ vecs[best])  # one row at a time: no n x n matrix
    return [(int(candidates[i]), gain) for i, gain in picked]


def score_all(
    mode: str, dense: np.ndarray, lexical: np.ndarray | None, mask: np.ndarray | None = None, dense_weight: float = DENSE_WEIGHT
) -> np.ndarray:
    """One score per paper for a ranking mode (a name in :mod:`paperlike.mode_registry`).

    This is the single place a mode's record turns into scores; the CLI, the Python API and
    the quality benchmark all rank through it. ``lexical`` is the mode's lexical side: TF-IDF
    cosines for a fused mode (see :func:`score_query`), BM25 scores for ``lexical``.
    """
    spec = find_mode(mode)
    if not spec.lexical:
        return np.asarray(dense, dtype=np.float64)
    if lexical is None:
        raise ValueError(f"mode {mode!r} needs lexical scores")
    if not spec.dense:
        return np.asarray(lexical, dtype=np.float64)
    return fuse(dense, lexical, mask=mask, dense_weight=dense_weight)


def query_kind(papers: Sequence[int]) -> str:
    """``paper``, ``papers`` or ``text``: the kind of a query made of these indexed papers."""
    return "text" if not papers else "paper" if len(papers) == 1 else "papers"


def score_query(
    kind: str, dense: np.ndarray, tfidf: np.ndarray, mask: np.ndarray | None = None, mode: str = DEFAULT_MODE
) -> np.ndarray:
    """A fused mode's score of every paper for a query of one kind (see :func:`query_kind`): the
    z-score fusion of the cosine with the TF-IDF cosine, weighted as the mode's record says."""
    return score_all(mode, dense, tfidf, mask, find_mode(mode).dense_weight(kind))
