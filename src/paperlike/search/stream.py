"""Scoring a stream of new papers against a set of target papers ("which of today's papers are
like my library?").

Every method gives one score per stream paper; higher is more like the targets. Scores are
comparable within one stream only. The methods were measured against each other on ACM-CR
citations by ``benchmarks/rank_stream.py`` (library = half of a paper's citations, stream = the
other half + 1,000 random papers); :data:`DEFAULT_STREAM_METHOD` is the best on the dev half of
the queries, reported on the other half:

* ``hybrid`` (default): reciprocal-rank fusion of ``dense`` and ``lexical`` (ranks within the
  stream, k=60), rescaled so 1.0 means first on both sides.
* ``dense``: mean cosine to the 3 nearest targets (several close papers agree).
* ``lexical``: mean TF-IDF cosine to the 3 lexically nearest targets (IDF over targets + stream).
* ``max``: cosine to the nearest target (baseline).
* ``centroid``: cosine to the mean of the targets (baseline).
* ``svm``: arxiv-sanity-lite's ranker on the model's vectors: a linear SVM, targets positive,
  the stream (and other library papers) negative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..mode_registry import DEFAULT_STREAM_METHOD, STREAM_METHODS

__all__ = [
    "STREAM_METHODS",
    "DEFAULT_STREAM_METHOD",
    "similarity_blocks",
    "nearest_targets",
    "centroid_scores",
    "topk_scores",
    "svm_scores",
    "tfidf_topk_scores",
    "rrf",
    "stream_scores",
]

# Targets averaged over by ``dense`` and ``lexical``; reciprocal-rank fusion's constant.
TOP_K = 3
RRF_K = 60

# The method names live in the dependency-free mode registry (the CLI reads them without numpy).

# Stream papers scored per block: a block times the targets is at most ~64 MB of float32.
_BLOCK_CELLS = 16_000_000


def similarity_blocks(stream: np.ndarray, targets: np.ndarray):
    """Yield ``(start, cosines)``: the stream's cosines to every target, a block of rows at a time,
    so a 96k-paper library never needs a stream x library matrix in memory at once."""
    n_targets = max(len(targets), 1)
    step = max(1, _BLOCK_CELLS // n_targets)
    for start in range(0, len(stream), step):
        yield start, stream[start : start + step] @ targets.T


def _mean_top(sims: np.ndarray, k: int) -> np.ndarray:
    k = min(k, sims.shape[1])
    if k == sims.shape[1]:
        return sims.mean(axis=1)
    part = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
    return part.mean(axis=1)


def topk_scores(stream: np.ndarray, targets: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Mean cosine of each stream paper to its ``k`` nearest targets (``k=1``: max similarity)."""
    out = np.zeros(len(stream), dtype=np.float64)
    if len(targets) == 0:
        return out
    for start, sims in similarity_blocks(stream, targets):
        out[start : start + len(sims)] = _mean_top(sims, k)
    return out


def nearest_targets(stream: np.ndarray, targets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each stream paper, its ``n`` nearest targets: ``(rows, cosines)``, each ``(len(stream), n)``,
    best first; ties go to the lower target row."""
    n = min(n, len(targets))
    rows = np.zeros((len(stream), n), dtype=np.int64)
    cos = np.zeros((len(stream), n), dtype=np.float32)
    if n == 0:
        return rows, cos
    for start, sims in similarity_blocks(stream, targets):
        order = np.argsort(-sims, axis=1, kind="stable")[:, :n]
        rows[start : start + len(sims)] = order
        cos[start : start + len(sims)] = np.take_along_axis(sims, order, axis=1)
    return rows, cos


def centroid_scores(stream: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Cosine of each stream paper to the (normalised) mean of the targets."""
    centre = np.asarray(targets, dtype=np.float64).mean(axis=0)
    norm = np.linalg.norm(centre)
    if not len(targets) or norm == 0:
        return np.zeros(len(stream), dtype=np.float64)
    return np.asarray(stream, dtype=np.float64) @ (centre / norm)


def svm_scores(stream: np.ndarray, targets: np.ndarray, negatives: np.ndarray | None = None, c: float = 0.1) -> np.ndarray:
    """arxiv-sanity-lite's ranker on any features: a linear SVM (class weights balanced), targets
    positive, the stream and ``negatives`` negative; the stream's decision values."""
    from sklearn.svm import LinearSVC

    negs = [np.asarray(stream)] + ([np.asarray(negatives)] if negatives is not None and len(negatives) else [])
    x = np.vstack([np.asarray(targets)] + negs)
    y = np.zeros(len(x), dtype=np.int64)
    y[: len(targets)] = 1
    if len(targets) == 0 or y.all():
        return np.zeros(len(stream), dtype=np.float64)
    clf = LinearSVC(class_weight="balanced", C=c, max_iter=10000, tol=1e-6)
    clf.fit(x, y)
    return np.asarray(clf.decision_function(np.asarray(stream)), dtype=np.float64)


def tfidf_topk_scores(target_texts: Sequence[str], stream_texts: Sequence[str], k: int = TOP_K) -> np.ndarray:
    """Lexical likeness: TF-IDF cosine (English stop words, sublinear term frequencies) of each
    stream paper to its ``k`` most similar target papers, averaged.

    The IDF is fitted on the targets and the stream together: a word common in the library but
    rare in the stream is what tells the library's papers apart, and a small library alone would
    give it no weight at all.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not len(target_texts) or not len(stream_texts):
        return np.zeros(len(stream_texts), dtype=np.float64)
    texts = list(target_texts) + list(stream_texts)
    try:
        x = TfidfVectorizer(stop_words="english", sublinear_tf=True, dtype=np.float32).fit_transform(texts).tocsr()
    except ValueError:  # no word at all (stop words, symbols): nothing lexical to compare
        return np.zeros(len(stream_texts), dtype=np.float64)
    m = len(target_texts)
    sims = (x[m:] @ x[:m].T).toarray()
    return _mean_top(sims, k).astype(np.float64)


def rrf(*scores: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion of several scores of the same papers, divided by its largest
    possible value (1.0: first on every side). Tied scores share their average rank, so input
    order never decides."""
    from scipy.stats import rankdata

    if not scores or not len(scores[0]):
        return np.zeros(0, dtype=np.float64)
    total = sum(1.0 / (k + rankdata(-np.asarray(s, dtype=np.float64), method="average")) for s in scores)
    return np.asarray(total, dtype=np.float64) * ((k + 1) / len(scores))


def stream_scores(
    method: str,
    stream: np.ndarray,
    targets: np.ndarray,
    *,
    lexical: Callable[[], np.ndarray] | None = None,
    negatives: np.ndarray | None = None,
) -> np.ndarray:
    """One score per stream paper for ``method`` (one of :data:`STREAM_METHODS`).

    Args:
        stream: ``(n, dim)`` unit vectors of the new papers.
        targets: ``(m, dim)`` unit vectors of the papers to be like.
        lexical: Returns the lexical score of each stream paper (``hybrid`` and ``lexical``; see
            :func:`tfidf_topk_scores`).
        negatives: Vectors of papers known *not* to be targets (``svm`` only): the rest of the
            library when the targets are a theme or chosen papers.

    Raises:
        ValueError: Unknown method, or ``hybrid``/``lexical`` without ``lexical``.
    """
    if method == "centroid":
        return centroid_scores(stream, targets)
    if method == "max":
        return topk_scores(stream, targets, 1)
    if method == "dense":
        return topk_scores(stream, targets, TOP_K)
    if method == "svm":
        return svm_scores(stream, targets, negatives)
    if method in ("hybrid", "lexical"):
        if lexical is None:
            raise ValueError(f"the {method} method needs lexical scores")
        if method == "lexical":
            return np.asarray(lexical(), dtype=np.float64)
        return rrf(topk_scores(stream, targets, TOP_K), lexical())
    raise ValueError(f"unknown stream method {method!r}; use one of {', '.join(STREAM_METHODS)}")
