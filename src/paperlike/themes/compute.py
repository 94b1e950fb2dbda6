"""Themes: group the papers of an index into labelled, stable, possibly overlapping themes.

How themes are made (all deterministic for the same vectors and options):

* **Discovered themes** are spherical k-means clusters of the paper vectors (FAISS, fixed seed).
  Without ``n``, the number of themes is the candidate with the best silhouette score
  (scikit-learn, cosine, on a fixed sample) in a range around the ``sqrt(n / 2)`` rule of thumb:
  3 themes for 10 papers, 7-11 for 75, 52-87 for 5,250, 100 (the most) for 100,000.
* **Seeded themes** start from the embedding of the seed's name (or ``NAME=description``). A paper
  joins a seed when its similarity to the seed stands out (z-score >= 1 over all papers); the
  theme's centroid is then the mean of those papers, and papers that stand out against that
  centroid join too, so one paper may join several seeds. Papers that join no seed are clustered
  into discovered themes of their own, never put in an "outlier" bin.
* **Membership**: every paper belongs to its best theme; it also belongs to another discovered
  theme whose centroid is within ``margin`` (cosine) of its best one. Scores are cosine
  similarities between the paper and the theme centroid.
* **Labels**: class-based TF-IDF over each theme's papers (see :mod:`.labels`).
* **Stability**: new themes take the ids of the old ones they match (see :mod:`.ids`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import QueryError
from ..records import Seed, Theme, ThemePaper, ThemeSet
from .cluster import KMEANS_SEED, discover
from .ids import assign_discovered_ids, id_key
from .labels import LABEL_DOCS, label_terms

__all__ = ["compute_themes", "SEED_Z"]

SEED_Z = 1.0  # a paper joins a seed when its similarity is this many std above the mean


def compute_themes(
    vectors: np.ndarray,
    ids: Sequence[str],
    titles: Sequence[str],
    texts: Callable[[list[int]], Sequence[str]],
    *,
    n: int | None = None,
    seeds: Sequence[Seed] = (),
    embed: Callable[[list[str]], np.ndarray] | None = None,
    margin: float = 0.05,
    previous: ThemeSet | None = None,
    generation: str = "",
    random_seed: int = KMEANS_SEED,
) -> ThemeSet:
    """Group papers into themes.

    Args:
        vectors: ``(count, dim)`` unit vectors of the papers.
        ids: Paper ids, same order.
        titles: Paper titles, same order.
        texts: Returns the texts of the papers at the given positions (for labels); called once,
            for at most ``LABEL_DOCS`` papers per theme.
        n: Number of themes, seeded ones included; None chooses automatically. Papers that join
            no seed always get at least one discovered theme, so with ``n`` equal to the number
            of seeds there may be one more.
        seeds: Theme anchors.
        embed: Embeds seed texts (required when there are seeds).
        margin: A paper also joins another discovered theme whose score is within this of its best.
        previous: Themes computed earlier for this index, to keep their ids.
        generation: The index generation, recorded in the result.
        random_seed: Seed of k-means' random starts (fixed, so results never change between runs).

    Raises:
        QueryError: Fewer than 2 papers, ``n`` out of range, or more seeds than ``n``.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    count = len(x)
    if previous is not None and any(t.centroid.shape != (x.shape[1],) for t in previous.themes):
        previous = None  # made with another model: nothing to match against
    if count < 2:
        raise QueryError(f"the index holds {count} paper(s); themes need at least 2")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= count):
        raise QueryError(f"number of themes must be between 1 and {count} (the number of papers), got {n!r}")
    if n is not None and seeds and n < len(seeds):
        raise QueryError(f"-n {n} is fewer than the {len(seeds)} seeds; give -n {len(seeds)} or more")

    themes_raw: list[tuple[str | None, np.ndarray, list[tuple[int, float, bool]]]] = []
    assigned = np.zeros(count, dtype=bool)
    if seeds:
        if embed is None:
            raise QueryError("seeded themes need the index's model to embed the seed names")
        seed_vectors = np.asarray(embed([s.text for s in seeds]), dtype=np.float32)
        empty = [s.name for s, v in zip(seeds, seed_vectors) if not np.any(v)]
        if empty:
            raise QueryError(
                f"the model finds nothing to go on in seed '{empty[0]}'; describe it with words, e.g. --seed 'NAME=some words'"
            )
        for seed, vec in zip(seeds, seed_vectors):
            members = _stand_out(x @ vec)
            centroid = x[members].mean(axis=0)
            centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
            scores = x @ centroid
            members = np.union1d(members, _stand_out(scores))
            assigned[members] = True
            themes_raw.append((seed.name, centroid, [(int(i), float(scores[i]), True) for i in members]))

    rest = np.flatnonzero(~assigned)
    if len(rest):
        k = None if n is None else max(1, n - len(seeds))
        old = [t.centroid for t in previous.themes if t.seed is None] if previous is not None else []
        old_centroids = np.stack(old) if old else None
        centroids, labels = discover(x, rest, k, old_centroids, seed=random_seed)
        scores = x[rest] @ centroids.T
        best = scores[np.arange(len(rest)), labels]
        for c in range(len(centroids)):
            primary = labels == c
            also = (~primary) & (scores[:, c] >= best - margin)
            members = [(int(rest[i]), float(scores[i, c]), bool(primary[i])) for i in np.flatnonzero(primary | also)]
            if any(m[2] for m in members):
                themes_raw.append((None, centroids[c], members))

    # Labels come from each theme's most central papers: all of them in a pile of a few thousand,
    # the best LABEL_DOCS of a big one (96k papers would otherwise cost minutes of tokenising).
    chosen = [
        [i for _, i in sorted((-score, i) for i, score, primary in members if primary)[:LABEL_DOCS]]
        for _, _, members in themes_raw
    ]
    wanted = sorted({i for group in chosen for i in group})
    text_of = dict(zip(wanted, texts(wanted)))
    docs = [" ".join(text_of[i] for i in sorted(group)) for group in chosen]
    terms = label_terms(docs)
    themes = []
    for (seed_name, centroid, members), phrases in zip(themes_raw, terms):
        members = sorted(members, key=lambda m: (-round(m[1], 9), m[0]))
        papers = [ThemePaper(ids[i], titles[i], score, primary) for i, score, primary in members]
        label = " · ".join(phrases) if phrases else (seed_name or "untitled")
        themes.append(Theme("", label, seed_name, papers, phrases, np.asarray(centroid, dtype=np.float32)))

    seed_ids = {s.name: s.theme_id for s in seeds}
    for theme in themes:
        if theme.seed is not None:
            theme.id = seed_ids[theme.seed]
    changes = assign_discovered_ids(themes, previous)
    themes.sort(key=lambda t: (-t.size, id_key(t.id)))
    options = {"n": None if n is None else int(n), "seeds": [[s.name, s.description] for s in seeds], "margin": margin}
    return ThemeSet(themes, options, generation, changes)


def _stand_out(scores: np.ndarray) -> np.ndarray:
    """Positions whose score is at least SEED_Z standard deviations above the mean (at least one)."""
    std = float(scores.std())
    chosen = np.flatnonzero(scores >= scores.mean() + SEED_Z * std) if std > 0 else np.array([], dtype=np.int64)
    return chosen if len(chosen) else np.array([int(np.argmax(scores))])
