"""Map layouts: do the papers of a theme sit together, and do near dots stay near papers?

For the bundled 75 papers and PwC-areas (5,250 papers, ``../shared/eval``), every layout gets the
same vectors and the same themes (the product's automatic themes of those vectors), and the
table reports:

* ``same theme``: share of papers whose nearest 2-D neighbour has the same (primary) theme;
* ``same area`` (PwC only): the same with PwC's 16 human research areas, which no layout sees,
  so a layout cannot score here by drawing the themes apart whatever the papers say;
* ``trust``: :func:`sklearn.manifold.trustworthiness` (cosine, k = 5 for 75 papers, 10 for PwC):
  1.0 when every 2-D neighbour is also a near paper in the model's space;
* ``labels on dots``: dots that a theme label's box covers (a dot is a disc of 5 px) when the
  product places the labels (:mod:`paperlike.viz.placement`, the notebook figure's size and
  estimated boxes), the product's automatic themes, their labels: 0 is a map whose every dot
  shows;
* seconds on this machine.

Vectors: MiniLM (the product's model) for both, from the benchmark cache (``_data.embed_cached``;
the first PwC run embeds 5,250 abstracts, ~10 min on 2 cores); ``--hashing`` uses the hashing
embedder instead (seconds, but a much weaker picture of the papers). openTSNE, UMAP and PaCMAP
rows appear when those packages import (``--extra-path DIR`` adds a folder of them to
``sys.path``; the product does not depend on them).

    python benchmarks/map_layout.py [--eval-dir ../shared/eval] [--hashing] [--extra-path DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402


def nn_share(coords: np.ndarray, labels: np.ndarray) -> float:
    """Share of points whose nearest other point (2-D, Euclidean) has the same label."""
    from sklearn.neighbors import NearestNeighbors

    _, idx = NearestNeighbors(n_neighbors=2).fit(coords).kneighbors(coords)
    other = np.where(idx[:, 0] == np.arange(len(coords)), idx[:, 1], idx[:, 0])
    return float(np.mean(labels[other] == labels))


def labels_on_dots(coords: np.ndarray, themes: np.ndarray, labels: dict[str, str]) -> int:
    """Dots covered by a label box when the map figure places its labels (its size, its boxes)."""
    from paperlike.viz.placement import FIGURE_SIZES, label_spots
    from paperlike.viz.style import AXIS_RANGE

    xy = coords - coords.mean(axis=0)  # as the product scales a layout (projection.project_2d)
    xy = xy / (np.abs(xy).max() or 1.0)
    order = list(dict.fromkeys(themes.tolist()))
    members = [xy[themes == t].tolist() for t in order]
    texts = [labels[t] for t in order]
    size = FIGURE_SIZES[0]
    spots = label_spots(members, texts, [len(m) for m in members], xy.tolist(), size, AXIS_RANGE, AXIS_RANGE, FIGURE_SIZES[1:])
    span = AXIS_RANGE[1] - AXIS_RANGE[0]
    px = np.column_stack([(xy[:, 0] - AXIS_RANGE[0]) * size[0] / span, (AXIS_RANGE[1] - xy[:, 1]) * size[1] / span])
    covered = np.zeros(len(xy), dtype=bool)
    for spot in spots:
        b = spot.box
        gx = np.maximum(np.maximum(b.x - px[:, 0], px[:, 0] - (b.x + b.w)), 0)
        gy = np.maximum(np.maximum(b.y - px[:, 1], px[:, 1] - (b.y + b.h)), 0)
        covered |= np.hypot(gx, gy) < 5.0
    return int(covered.sum())


def externals() -> dict:
    """Layouts from optional packages, where they import."""
    found = {}
    try:
        import openTSNE

        found["openTSNE"] = lambda x: np.asarray(openTSNE.TSNE(metric="cosine", random_state=0, n_jobs=1).fit(x))
    except ImportError:
        pass
    try:
        import umap

        found["UMAP"] = lambda x: umap.UMAP(metric="cosine", random_state=0, n_neighbors=min(15, len(x) - 1)).fit_transform(x)
    except ImportError:
        pass
    try:
        import pacmap

        found["PaCMAP"] = lambda x: pacmap.PaCMAP(n_components=2, random_state=0, n_neighbors=min(10, len(x) - 2)).fit_transform(
            x, init="pca"
        )
    except ImportError:
        pass
    return found


def rows_for(
    name: str,
    x: np.ndarray,
    themes: tuple[np.ndarray, dict[str, str]],
    areas: np.ndarray | None,
    k: int,
    only: set[str] | None = None,
) -> list[list[str]]:
    from sklearn.manifold import trustworthiness

    from paperlike.viz import projection
    from paperlike.viz.projection import LAYOUTS, layout

    themes, theme_labels = themes
    out = []
    if not only or "model space" in only:
        # Reference: the nearest paper in the model's space itself (what any 2-D layout approximates).
        sims = x @ x.T
        np.fill_diagonal(sims, -np.inf)
        nearest = sims.argmax(axis=1)
        area = f"{np.mean(areas[nearest] == areas):.3f}" if areas is not None else "-"
        out.append([name, "model space (no layout)", f"{np.mean(themes[nearest] == themes):.3f}", area, "1.000", "-", "-"])
        print(" | ".join(out[-1]), flush=True)
    methods = {m: (lambda v, m=m: layout(v, themes, m)) for m in LAYOUTS}
    for weight in (0.1, 0.3, 0.5):  # the product's weight is projection._SUPERVISED_WEIGHT

        def supervised(v, weight=weight):
            default, projection._SUPERVISED_WEIGHT = projection._SUPERVISED_WEIGHT, weight
            try:
                return layout(v, themes, "t-SNE, supervised")
            finally:
                projection._SUPERVISED_WEIGHT = default

        methods[f"t-SNE, supervised (weight {weight})"] = supervised
    methods.update(externals())
    for method, run in methods.items():
        if only and method not in only:
            continue
        started = time.perf_counter()
        coords = np.asarray(run(x), dtype=np.float64)
        seconds = time.perf_counter() - started
        area = f"{nn_share(coords, areas):.3f}" if areas is not None else "-"
        trust = trustworthiness(x, coords, n_neighbors=k, metric="cosine")
        covered = labels_on_dots(coords, themes, theme_labels)
        out.append([name, method, f"{nn_share(coords, themes):.3f}", area, f"{trust:.3f}", f"{seconds:.1f}", str(covered)])
        print(" | ".join(out[-1]), flush=True)
    return out


def product_themes(x: np.ndarray, ids: list[str], texts: list[str]) -> tuple[np.ndarray, dict[str, str]]:
    from paperlike.themes import compute_themes
    from paperlike.viz.projection import primary_themes

    result = compute_themes(x, ids, ids, lambda pos: [texts[i] for i in pos])
    primary = primary_themes(result)
    print(f"  {len(result)} automatic themes", flush=True)
    return np.asarray([primary[i].id for i in ids]), {t.id: t.label for t in result.themes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", default=None, help="folder with pwc-areas/ (default: ../shared/eval)")
    parser.add_argument("--hashing", action="store_true", help="hashing embedder instead of MiniLM")
    parser.add_argument("--extra-path", default=None, help="a folder with openTSNE/umap/pacmap to try too")
    parser.add_argument("--skip-pwc", action="store_true", help="only the bundled 75 papers")
    parser.add_argument("--skip-bundled", action="store_true", help="only PwC-areas")
    parser.add_argument("--layouts", default=None, help="layout names to run, separated by ';' (default: all)")
    opts = parser.parse_args()
    if opts.extra_path:
        sys.path.append(opts.extra_path)
    from paperlike.embedding import HashingEmbedder, MiniLMEmbedder
    from paperlike.readers import bundled_corpus

    embedder = HashingEmbedder() if opts.hashing else MiniLMEmbedder()
    print(f"vectors: {'hashing embedder' if opts.hashing else 'MiniLM (all-MiniLM-L6-v2)'}")
    table = []
    only = {name.strip() for name in opts.layouts.split(";")} if opts.layouts else None
    if not opts.skip_bundled:
        corpus = bundled_corpus()
        texts = [p.text for p in corpus.papers]
        ids = [p.id for p in corpus.papers]
        x, how = _data.embed_cached(texts, embedder, "bundled-product")
        print(f"bundled 75: {how}")
        table += rows_for("bundled 75", x, product_themes(x, ids, texts), None, 5, only)
    if not opts.skip_pwc:
        pwc, rows = _data.pwc_corpus(_data.eval_dir_from(opts.eval_dir))
        texts = [p.text for p in pwc.papers]
        ids = [p.id for p in pwc.papers]
        x, how = _data.embed_cached(texts, embedder, "pwc-areas-product")
        print(f"PwC-areas: {how}")
        areas = np.asarray([rows[int(i.split("-")[1])]["area"] for i in ids])
        table += rows_for("PwC-areas 5,250", x, product_themes(x, ids, texts), areas, 10, only)
    print()
    print("| data | layout | same theme | same area | trust | s | labels on dots |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in table:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
