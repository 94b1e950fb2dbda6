"""Discovered themes: spherical k-means (FAISS, fixed seed), k chosen by silhouette."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["auto_theme_range", "choose_k", "discover", "rows", "MAX_AUTO_THEMES", "KMEANS_SEED"]

MAX_AUTO_THEMES = 100
KMEANS_SEED = 1234
_SAMPLE_FOR_K = 5000  # papers used to choose the number of themes
_SILHOUETTE_SAMPLE = 2000


def auto_theme_range(n_papers: int) -> tuple[int, int]:
    """Range of theme counts tried when none is given.

    From the classic ``sqrt(n / 2)`` rule of thumb up to ``1.2 * sqrt(n)``, at most 100 and at
    most a third of the papers: 10 papers -> (3, 3); 75 -> (7, 11); 5,250 -> (52, 87);
    100,000 -> (100, 100).
    """
    if n_papers < 2:
        return (1, 1)
    root = math.sqrt(n_papers)
    hi = max(2, min(MAX_AUTO_THEMES, n_papers // 3, math.ceil(root * 1.2)))
    lo = max(2, min(hi, math.ceil(math.sqrt(n_papers / 2))))
    return lo, hi


def _kmeans(x: np.ndarray, k: int, init: np.ndarray | None = None, seed: int = KMEANS_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means with FAISS; returns (unit centroids, labels).

    Without ``init``, several restarts from random papers (fewer for big corpora) keep the best
    objective, so a bad first draw does not decide the themes. With ``init`` (the previous
    themes' centroids) one warm-started run keeps themes where they were.
    """
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    nredo = 1 if init is not None else max(1, min(5, 200_000 // max(len(x), 1)))
    km = faiss.Kmeans(
        x.shape[1],
        k,
        niter=30,
        nredo=nredo,
        seed=seed,
        spherical=True,
        verbose=False,
        min_points_per_centroid=1,
        max_points_per_centroid=512,
    )
    km.train(x, init_centroids=None if init is None else np.ascontiguousarray(init, dtype=np.float32))
    raw = np.asarray(km.centroids, dtype=np.float32)
    centroids = raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
    labels = np.argmax(x @ centroids.T, axis=1)
    return centroids.astype(np.float32), labels


def choose_k(x: np.ndarray) -> int:
    """The number of themes for these rows: the candidate of best silhouette (cosine, on a
    fixed sample) in :func:`auto_theme_range`."""
    from sklearn.metrics import silhouette_score

    n = len(x)
    lo, hi = auto_theme_range(n)
    if hi <= 2 or n <= 3:
        return min(2, n)
    rng = np.random.default_rng(KMEANS_SEED)
    sample = x if n <= _SAMPLE_FOR_K else x[np.sort(rng.choice(n, _SAMPLE_FOR_K, replace=False))]
    candidates = sorted({int(round(k)) for k in np.geomspace(lo, hi, num=8)})
    best_k, best_score = candidates[0], -2.0
    for k in candidates:
        if k >= len(sample):
            break
        _, labels = _kmeans(sample, k)
        if len(set(labels.tolist())) < 2:
            continue
        score = silhouette_score(
            sample, labels, metric="cosine", sample_size=min(_SILHOUETTE_SAMPLE, len(sample)), random_state=0
        )
        if score > best_score + 1e-9:
            best_k, best_score = k, score
    return best_k


def rows(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``x[positions]`` for sorted, distinct ``positions``; ``x`` itself when they are every row
    (the usual case, no seeds): no copy of every vector (1.5 GB at 1M papers)."""
    if len(positions) == len(x) and (len(x) == 0 or (positions[0] == 0 and positions[-1] == len(x) - 1)):
        return x
    return x[positions]


def discover(
    x: np.ndarray, positions: np.ndarray, k: int | None, previous: np.ndarray | None = None, seed: int = KMEANS_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the papers at ``positions``; returns (centroids, primary label per position).

    ``previous`` holds the centroids of the earlier discovered themes: when their number fits
    (it is the requested ``k``, or lies in the automatic range), k-means starts from them, so
    adding a few papers moves themes a little instead of redrawing them.
    """
    sub = rows(x, positions)
    if len(sub) == 1:
        return sub.copy(), np.zeros(1, dtype=np.int64)
    if previous is not None and len(previous) >= 2:
        lo, hi = auto_theme_range(len(sub))
        fits = len(previous) == k if k is not None else lo <= len(previous) <= hi
        if fits and len(previous) <= len(sub):
            return _kmeans(sub, len(previous), init=previous)
    k = choose_k(sub) if k is None else k
    k = max(1, min(k, len(sub)))
    if k == 1:
        centroid = sub.mean(axis=0, keepdims=True)
        return centroid / max(float(np.linalg.norm(centroid)), 1e-12), np.zeros(len(sub), dtype=np.int64)
    return _kmeans(sub, k, seed=seed)
