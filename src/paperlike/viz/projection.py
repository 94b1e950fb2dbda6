"""2-D coordinates for a map of the papers, where nearby dots are similar papers and the papers of
a theme sit together.

The layout is scikit-learn's t-SNE over cosine distances plus a small **theme penalty**: two
papers of different themes are 0.05 further apart than their cosine says ("t-SNE, supervised").
Plain t-SNE of 75 papers scattered a theme's papers over the whole plot; with the penalty they
sit together, and the dots still keep the model's neighbourhoods. ``benchmarks/map_layout.py``
measured it against plain t-SNE (PCA start), a theme-aware start, PCA, openTSNE, UMAP and PaCMAP
(share of papers whose nearest dot is of the same theme / of the same PwC research area, which
no layout sees / trustworthiness):

* bundled 75 papers, MiniLM: plain t-SNE 0.693 / - / 0.874; this layout 0.893 / - / 0.863.
* PwC-areas 5,250 papers, hashing vectors: plain t-SNE 0.155 / 0.280 / 0.701; this layout
  0.922 / 0.268 / 0.772. A larger penalty (0.1, 0.3) puts every nearest dot in its theme but
  costs agreement with the human areas (0.245, 0.225), i.e. it draws themes apart more than the
  papers say; 0.05 is the largest weight tried that keeps that agreement within 0.015 of plain
  t-SNE. The theme-aware start, openTSNE, UMAP and PaCMAP did not bring themes together.

The supervised layout holds all pairwise distances, so above ``SUPERVISED_LIMIT`` papers the map
is plain t-SNE, and above ``TSNE_LIMIT`` PCA, each said in a note. Everything is deterministic:
the same vectors and themes give the same picture.

Degenerate piles never crash: identical vectors are laid out once and their copies placed on a
small ring around that spot; fewer than 4 distinct vectors are spread on a line; vectors that
are not numbers are a clean error (t-SNE of identical vectors used to end in a segmentation
fault inside scikit-learn).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import QueryError
from ..records import Theme, ThemeSet

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["map_frame", "project_2d", "layout", "LAYOUTS", "DEFAULT_LAYOUT", "TSNE_LIMIT"]

log = logging.getLogger("paperlike")

TSNE_LIMIT = 20_000
SUPERVISED_LIMIT = 10_000  # the supervised layout holds all pairwise distances (400 MB at 10,000)
DEFAULT_LAYOUT = "t-SNE, supervised"
THEME_START = "t-SNE, theme-aware start"
_SUPERVISED_WEIGHT = 0.05  # added to the cosine distance of two papers of different themes (benchmarks/map_layout.py)
_CHUNK = 8192  # rows taken to float64 at a time by PCA and the duplicate check


def _perplexity(n: int) -> float:
    return float(min(30.0, (n - 1) / 3))


def _tsne(x: np.ndarray, init: np.ndarray | str, random_state: int, metric: str = "cosine") -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(
        n_components=2, perplexity=_perplexity(len(x)), metric=metric, init=init, random_state=random_state
    ).fit_transform(x)


def _pca(x: np.ndarray, rows: np.ndarray | None = None, chunk: int | None = None) -> np.ndarray:
    """The first two principal components of ``x`` (of its ``rows``, when given), zeros beyond
    its rank: scikit-learn's PCA (full SVD) within 1e-8, signs included (each axis' largest
    loading is positive), computed from the ``dim x dim`` covariance summed a chunk of rows at a
    time. Memory is the ``(n, 2)`` result, not an ``n x dim`` float64 copy and its SVD (1.2 GB
    more at 100k papers)."""
    n, dim, chunk = (len(x) if rows is None else len(rows)), x.shape[1], chunk or _CHUNK

    def centred(start: int) -> np.ndarray:
        part = (x[start : start + chunk] if rows is None else x[rows[start : start + chunk]]).astype(np.float64)
        part -= mean
        return part

    mean = np.zeros(dim)  # (centred() takes it off: zero while the mean itself is summed)
    total = np.zeros(dim)
    for start in range(0, n, chunk):
        total += centred(start).sum(axis=0)
    mean = total / max(n, 1)
    cov, spread = np.zeros((dim, dim)), 0.0
    for start in range(0, n, chunk):
        part = centred(start)
        cov += part.T @ part
        spread = max(spread, float(part.max(initial=0.0)), -float(part.min(initial=0.0)))
    if spread == 0.0:
        return np.zeros((n, 2))
    k = min(2, n, dim)
    axes = np.linalg.eigh(cov)[1][:, ::-1][:, :k]
    axes *= np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(k)])
    coords = np.zeros((n, 2))
    for start in range(0, n, chunk):
        coords[start : start + chunk, :k] = centred(start) @ axes
    return coords


def _theme_init(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each theme's centre by PCA of the theme centroids, each paper near it by its own PCA."""
    themes = np.unique(labels)
    centroids = np.stack([x[labels == t].mean(axis=0) for t in themes])
    centre_2d = _pca(centroids) if len(themes) > 1 else np.zeros((1, 2))
    spread = float(np.abs(centre_2d).max(initial=0.0)) or 1.0
    own = _pca(x)
    own = own / (float(np.abs(own).max(initial=0.0)) or 1.0)
    where = np.searchsorted(themes, labels)
    init = centre_2d[where] / spread + 0.15 * own
    init = init - init.mean(axis=0)
    # sklearn's own PCA start has this scale; a larger start slows t-SNE's early exaggeration.
    return (init / (float(init[:, 0].std()) or 1.0) * 1e-4).astype(np.float32)


def _supervised_distances(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    x32 = x.astype(np.float32)
    d = np.clip(1.0 - x32 @ x32.T, 0.0, 2.0)
    d += np.float32(_SUPERVISED_WEIGHT) * (labels[:, None] != labels[None, :])
    np.fill_diagonal(d, 0.0)
    return d


def layout(x: np.ndarray, labels: np.ndarray | None, method: str, random_state: int = 0) -> np.ndarray:
    """Raw 2-D coordinates of distinct unit vectors ``x`` by one of :data:`LAYOUTS` (at least 4 rows)."""
    if method == "PCA":
        return _pca(x)
    if method == "t-SNE":
        return _tsne(x, "pca", random_state)
    if labels is None or len(np.unique(labels)) < 2:
        return _tsne(x, "pca", random_state)
    if method == THEME_START:
        return _tsne(x, _theme_init(x, labels), random_state)
    if method == DEFAULT_LAYOUT:
        return _tsne(_supervised_distances(x, labels), "random", random_state, metric="precomputed")
    raise ValueError(f"unknown layout {method!r}; known: {', '.join(LAYOUTS)}")


LAYOUTS = ("t-SNE", THEME_START, DEFAULT_LAYOUT, "PCA")


def _default_method(count: int, themed: bool) -> str:
    if count > TSNE_LIMIT:
        log.info("%d papers: the map uses PCA (t-SNE is used up to %d papers)", count, TSNE_LIMIT)
        return "PCA"
    if count > SUPERVISED_LIMIT and themed:
        log.info("%d papers: the map uses plain t-SNE (themes are drawn together up to %d papers)", count, SUPERVISED_LIMIT)
        return "t-SNE"
    return DEFAULT_LAYOUT if themed else "t-SNE"


def _distinct(x: np.ndarray, chunk: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(first position of each distinct row, inverse)`` so ``rows[first][inverse] == rows``,
    rows being the same when equal to 6 decimals.

    Rows are told apart by a 128-bit digest of their rounded values, made a chunk at a time
    (``np.unique`` of the rows themselves sorted an ``n x dim`` float64 copy: 3 GB at 1M papers).

    Raises:
        QueryError: A vector is not a number (a damaged index).
    """
    keys, chunk = np.empty(len(x), dtype=[("a", "<u8"), ("b", "<u8")]), chunk or _CHUNK
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk].astype(np.float64)
        np.round(part, 6, out=part)
        part += 0.0  # -0.0 becomes 0.0: equal as numbers, so the same row
        if not np.isfinite(part).all():
            raise QueryError("the index holds vectors that are not numbers; rebuild it with: paperlike index build")
        digests = b"".join(hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in part)
        keys[start : start + len(part)] = np.frombuffer(digests, dtype=keys.dtype)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)  # keep index order, so the result never depends on np.unique's sort
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[np.asarray(inverse).ravel()]


def _spread_copies(coords: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Place the copies of one vector on a small ring around its spot, so each dot can be hovered."""
    out = coords[inverse].astype(np.float64)
    scale = float(np.ptp(coords, axis=0).max(initial=0.0)) or 1.0
    counts = np.bincount(inverse, minlength=len(coords))
    by_group = np.argsort(inverse, kind="stable")  # each group's members in index order
    ends = np.cumsum(counts)
    for group in np.flatnonzero(counts > 1):  # (one pass per copied vector, not per vector)
        members = by_group[ends[group] - counts[group] : ends[group]]
        angles = 2 * np.pi * np.arange(len(members)) / len(members)
        out[members] += 0.03 * scale * np.column_stack([np.cos(angles), np.sin(angles)])
    return out


def project_2d(
    vectors: np.ndarray, random_state: int = 0, labels: Sequence[str] | None = None, method: str | None = None
) -> tuple[np.ndarray, str]:
    """``(n, 2)`` coordinates scaled to [-1, 1], and the layout used.

    Args:
        vectors: ``(n, dim)`` unit vectors.
        random_state: Seed of t-SNE's optimisation (fixed, so maps are reproducible).
        labels: Each paper's theme; with them the default layout starts themes together.
        method: One of :data:`LAYOUTS`; default: :data:`DEFAULT_LAYOUT` (PCA above TSNE_LIMIT).

    Raises:
        QueryError: A vector is not a number (a damaged index).
    """
    # float32 vectors stay as they are (a float64 copy is 3 GB at 1M papers); PCA and the
    # duplicate check take float64 a chunk at a time, t-SNE (at most TSNE_LIMIT papers) all of it.
    x = np.asarray(vectors)
    x = x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)
    n = len(x)
    if n == 0:
        return np.zeros((0, 2)), "none"
    first, inverse = _distinct(x)
    count = len(first)  # distinct vectors (when all are, ``first`` is every position, in order)
    names = None if labels is None else np.asarray([str(labels[i]) for i in first])
    if count < 4:
        # Too few distinct points for t-SNE's perplexity: spread them on a line.
        coords, method = np.zeros((count, 2)), "line"
        coords[:, 0] = np.linspace(-1, 1, count) if count > 1 else 0.0
    else:
        method = method or _default_method(count, names is not None)
        if method == "PCA":  # (of the distinct rows where they are, not of a copy of them)
            coords = _pca(x, None if count == n else first)
        else:
            coords = layout(np.asarray(x[first], dtype=np.float64), names, method, random_state)
    coords = _spread_copies(coords, inverse) if count < n else coords.astype(np.float64)
    coords = coords - coords.mean(axis=0)
    scale = np.abs(coords).max()
    return (coords / scale if scale > 0 else coords), method


def primary_themes(themes: ThemeSet) -> dict[str, Theme]:
    """Each paper id's primary theme (its first theme when it is primary nowhere)."""
    primary: dict[str, Theme] = {}
    for t in themes.themes:
        for p in t.papers:
            if p.primary or p.id not in primary:
                primary[p.id] = t
    return primary


def map_frame(
    ids: list[str], titles: list[str], vectors: np.ndarray, themes: ThemeSet, method: str | None = None
) -> "pandas.DataFrame":
    """2-D coordinates of every paper with its (primary) theme, as a DataFrame with columns id,
    title, x, y, theme, theme_label in index order; ``frame.attrs["method"]`` names the layout,
    ``frame.attrs["theme_sizes"]`` holds each theme's size (members, not only its coloured dots)."""
    try:
        import pandas as pd
    except ImportError:
        raise QueryError("the map needs pandas; run: pip install 'paperlike[map]'") from None
    primary = primary_themes(themes)
    theme_ids = [primary[i].id if i in primary else "" for i in ids]
    coords, used = project_2d(vectors, labels=theme_ids, method=method)
    frame = pd.DataFrame(
        {
            "id": ids,
            "title": titles,
            "x": coords[:, 0].round(5),
            "y": coords[:, 1].round(5),
            "theme": theme_ids,
            "theme_label": [primary[i].label if i in primary else "" for i in ids],
        }
    )
    frame.attrs["method"] = used
    # Theme sizes count every member; a paper of several themes has one colour (its best theme).
    frame.attrs["theme_sizes"] = {t.id: t.size for t in themes.themes}
    return frame
