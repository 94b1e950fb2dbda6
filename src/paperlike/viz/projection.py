"""2-D coordinates for a map of the papers, where nearby dots are similar papers.

scikit-learn's t-SNE (cosine distances, PCA initialisation, fixed random state) places the
papers; it is already installed (themes use scikit-learn) and keeps local neighbourhoods, which
is what a reader of the map looks at. It is deterministic: the same vectors give the same
picture. UMAP would be faster on large piles but pulls numba and llvmlite into the install; above
``TSNE_LIMIT`` papers the map falls back to PCA (instant, global layout only) and says so.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from ..errors import QueryError
from ..records import Theme, ThemeSet

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["map_frame", "project_2d", "TSNE_LIMIT"]

log = logging.getLogger("paperlike")

TSNE_LIMIT = 20_000


def project_2d(vectors: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, str]:
    """``(n, 2)`` coordinates scaled to [-1, 1], and the method used (``"t-SNE"`` or ``"PCA"``).

    Args:
        vectors: ``(n, dim)`` unit vectors.
        random_state: Seed of t-SNE's optimisation (fixed, so maps are reproducible).
    """
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros((0, 2)), "none"
    if n < 4:
        # Too few points for t-SNE's perplexity: spread them on a line in PCA order.
        coords = np.zeros((n, 2))
        coords[:, 0] = np.linspace(-1, 1, n) if n > 1 else 0.0
        return coords, "PCA"
    if n > TSNE_LIMIT:
        from sklearn.decomposition import PCA

        log.info("%d papers: the map uses PCA (t-SNE is used up to %d papers)", n, TSNE_LIMIT)
        coords, method = PCA(n_components=2, svd_solver="full").fit_transform(x), "PCA"
    else:
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (n - 1) / 3))
        coords = TSNE(
            n_components=2,
            perplexity=perplexity,
            metric="cosine",
            init="pca",
            random_state=random_state,
        ).fit_transform(x)
        method = "t-SNE"
    coords = coords - coords.mean(axis=0)
    scale = np.abs(coords).max()
    return (coords / scale if scale > 0 else coords), method


def map_frame(ids: list[str], titles: list[str], vectors: np.ndarray, themes: ThemeSet) -> "pandas.DataFrame":
    """2-D coordinates of every paper with its (primary) theme, as a DataFrame with columns id,
    title, x, y, theme, theme_label in index order; ``frame.attrs["method"]`` names the projection."""
    try:
        import pandas as pd
    except ImportError:
        raise QueryError("the map needs pandas; run: pip install 'paperlike[map]'") from None
    primary: dict[str, Theme] = {}
    for t in themes.themes:
        for p in t.papers:
            if p.primary or p.id not in primary:
                primary[p.id] = t
    coords, method = project_2d(vectors)
    frame = pd.DataFrame(
        {
            "id": ids,
            "title": titles,
            "x": coords[:, 0].round(5),
            "y": coords[:, 1].round(5),
            "theme": [primary[i].id if i in primary else "" for i in ids],
            "theme_label": [primary[i].label if i in primary else "" for i in ids],
        }
    )
    frame.attrs["method"] = method
    return frame
