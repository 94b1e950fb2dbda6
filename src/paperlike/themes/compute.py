"""Themes: group the papers of an index into labelled, stable, possibly overlapping themes.

How themes are made (all deterministic for the same vectors and options):

* **Discovered themes** are spherical k-means clusters (FAISS, fixed seed) of the paper vectors,
  or, from 300 to 20,000 papers, of those vectors beside the papers' reduced TF-IDF words and
  averaged with their nearest papers (see :mod:`.space`); centroids and scores are in the
  model's space either way.
  Without ``n``, the number of themes is the candidate with the best silhouette score
  (scikit-learn, cosine, on a fixed sample) in a range around the ``sqrt(n / 2)`` rule of thumb:
  3 themes for 10 papers, 7-11 for 75, 52-87 for 5,250, 100 (the most) for 100,000.
* **Seeded themes** score the seed's name (or ``NAME=description``) like a short query: the
  z-score fusion of its cosine to each paper and its (stemmed) BM25 score, so "distillation"
  meets "Distilling". A paper joins when that score stands out from the corpus's own background
  for the seed and something backs it: it names a seed word, or it is close to the seed text
  (see :mod:`.seeds`). A seed that nothing in the corpus is about gets an empty theme and a
  note, never members by default. One paper may join several seeds; a seeded theme depends
  only on its own seed. Papers that join no seed are clustered into discovered themes of their
  own, never put in an "outlier" bin.
* **Membership**: every paper belongs to its best theme; it also belongs to the (at most
  ``MAX_ALSO``) next discovered themes whose centroid is within ``margin`` (cosine) of its best
  one. Scores of discovered themes are cosine similarities between the paper and the theme
  centroid. (Without the cap, papers in the middle of many themes joined ten each at 1M papers:
  10M memberships, a 1 GB file of themes.)
* **Labels**: class-based TF-IDF over each theme's papers (see :mod:`.labels`).
* **Stability**: new themes take the ids of the old ones they match (see :mod:`.ids`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import QueryError
from ..records import Seed, Theme, ThemePaper, ThemeSet
from .cluster import KMEANS_SEED, choose_k, discover, rows
from .ids import assign_discovered_ids, id_key
from .labels import LABEL_DOCS, label_terms
from .seeds import seed_members
from .space import cluster_space

log = logging.getLogger("paperlike")

__all__ = ["compute_themes", "seed_scores", "SEED_Z", "MAX_ALSO"]

SEED_Z = 1.0  # a paper joins a seed when its score is this many std above the mean
MAX_ALSO = 2  # discovered themes a paper joins besides its best one, at most


@dataclass
class _Draft:
    """A theme before it has a label and an id: its members as arrays (positions, scores,
    primary or not), not a Python object per membership (millions at 1M papers)."""

    seed: str | None
    centroid: np.ndarray
    positions: np.ndarray
    scores: np.ndarray
    primary: np.ndarray


def _check_request(x: np.ndarray, ids: Sequence[str], n: int | None, seeds: Sequence[Seed]) -> None:
    count = len(x)
    if count < 2:
        raise QueryError(f"the index holds {count} paper(s); themes need at least 2")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= count):
        raise QueryError(f"number of themes must be between 1 and {count} (the number of papers), got {n!r}")
    if n is not None and seeds and n < len(seeds):
        raise QueryError(f"-n {n} is fewer than the {len(seeds)} seeds; give -n {len(seeds)} or more")
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if len(bad):
        raise QueryError(
            f"paper '{ids[int(bad[0])]}' has a damaged vector (not a number); rebuild the index with: paperlike index build"
        )


def _stand_out(scores: np.ndarray) -> np.ndarray:
    """Positions whose score is at least SEED_Z standard deviations above the mean (at least one)."""
    std = float(scores.std())
    chosen = np.flatnonzero(scores >= scores.mean() + SEED_Z * std) if std > 1e-9 else np.array([], dtype=np.int64)
    return chosen if len(chosen) else np.array([int(np.argmax(scores))])


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def seed_scores(x: np.ndarray, seed_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(centroid, score of every paper)`` for a seed: the score is the cosine to the seed text;
    the centroid (kept to match themes across runs) is the mean of the papers that stand out."""
    scores = x @ _unit(seed_vector)
    return _unit(x[_stand_out(scores)].mean(axis=0)), scores


def _seeded_drafts(
    x: np.ndarray,
    seeds: Sequence[Seed],
    embed: Callable[[list[str]], np.ndarray] | None,
    lexical: Callable[[str], tuple[np.ndarray, np.ndarray]] | None,
) -> list[_Draft]:
    if not seeds:
        return []
    if embed is None:
        raise QueryError("seeded themes need the index's model to embed the seed names")
    seed_vectors = np.asarray(embed([s.text for s in seeds]), dtype=np.float32)
    empty = [s.name for s, v in zip(seeds, seed_vectors) if not np.any(v) or not np.isfinite(v).all()]
    if empty:
        raise QueryError(
            f"the model finds nothing to go on in seed '{empty[0]}'; describe it with words, e.g. --seed 'NAME=some words'"
        )
    drafts = []
    for seed, vec in zip(seeds, seed_vectors):
        chosen, scores = seed_members(x @ _unit(vec), None if lexical is None else lexical(seed.text))
        if not len(chosen):
            log.warning(
                "seed '%s': no paper names it or is close to it, so its theme is empty; describe it with other words (--seed 'NAME=words')",
                seed.name[:60],
            )
        centroid = _unit(x[chosen].mean(axis=0)) if len(chosen) else _unit(vec)
        drafts.append(_Draft(seed.name, centroid, chosen, scores[chosen], np.ones(len(chosen), dtype=bool)))
    return drafts


def _model_centroids(x: np.ndarray, rest: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Unit means, in the model's space, of the papers of each cluster (zeros for an empty one)."""
    out = np.zeros((k, x.shape[1]), dtype=np.float32)
    for cluster in np.unique(labels).tolist():
        out[cluster] = _unit(x[rest[labels == cluster]].mean(axis=0))
    return out


def _in_space(old: list[Theme], space: np.ndarray, ids: Sequence[str], rest: np.ndarray) -> np.ndarray | None:
    """Earlier discovered themes as starting centroids in the clustering space: the mean there of
    each one's primary papers still to cluster; None when one has none (k-means starts afresh)."""
    if len(old) < 2:
        return None
    at = {pid: i for i, pid in enumerate(ids)}
    waiting = set(rest.tolist())
    centroids = []
    for theme in old:
        members = sorted(p for m in theme.papers if m.primary and (p := at.get(m.id)) is not None and p in waiting)
        if not members:
            return None
        centroids.append(_unit(space[members].mean(axis=0)))
    return np.stack(centroids)


def _discovered_drafts(
    x: np.ndarray,
    rest: np.ndarray,
    k: int | None,
    previous: np.ndarray | None,
    margin: float,
    random_seed: int,
    space: np.ndarray | None = None,
) -> list[_Draft]:
    """Discovered themes of the papers at ``rest`` (``previous``: starting centroids, in the
    space clustered in)."""
    if space is None:
        centroids, labels = discover(x, rest, k, previous, seed=random_seed)
    else:  # clustered in the words-and-neighbours space, described in the model's
        if k is None and previous is None:
            # How many themes is chosen on the model's vectors, as before: the silhouette of the
            # smoothed rows favours the most clusters the range allows.
            k = choose_k(rows(x, rest)) if len(rest) > 1 else 1
        found, labels = discover(space, rest, k, previous, seed=random_seed)
        centroids = _model_centroids(x, rest, labels, len(found))
    homes = np.unique(labels)  # the clusters some paper calls home (k-means may leave one empty)
    scores = rows(x, rest) @ centroids[homes].T
    best = np.searchsorted(homes, labels)
    member = _members(scores, best, margin)
    drafts = []
    for column, cluster in enumerate(homes.tolist()):
        chosen = np.flatnonzero(member[:, column])
        drafts.append(_Draft(None, centroids[cluster], rest[chosen], scores[chosen, column], best[chosen] == column))
    return drafts


def _members(scores: np.ndarray, best: np.ndarray, margin: float, rows_at_once: int = 8192) -> np.ndarray:
    """Which themes each paper joins, ``(papers, themes)`` booleans: its own (``best``, its
    k-means cluster: its highest score, unless it was clustered by words and neighbours, see
    :mod:`.space`), and the others scoring within ``margin`` of it, at most MAX_ALSO of them
    (the best scoring); of themes that tie at the cut, the first ones."""
    n, themes = scores.shape
    floor = scores[np.arange(n), best] - margin
    if themes > MAX_ALSO + 1:  # the (MAX_ALSO + 1)-th best score
        floor = np.maximum(floor, np.partition(scores, -(MAX_ALSO + 1), axis=1)[:, -(MAX_ALSO + 1)])
    member = scores >= floor[:, None]
    # `best` is the k-means label, computed from a product of another shape (or in another
    # space): always a member, whatever its score.
    member[np.arange(n), best] = True
    tied = np.flatnonzero(member.sum(axis=1) > MAX_ALSO + 1)  # scores equal at the cut (identical papers)
    for start in range(0, len(tied), rows_at_once):
        at = tied[start : start + rows_at_once]
        ranked = -scores[at].astype(np.float64)
        ranked[np.arange(len(at)), best[at]] = -np.inf  # the best theme first, then by score and order
        keep = np.zeros((len(at), themes), dtype=bool)
        np.put_along_axis(keep, np.argsort(ranked, axis=1, kind="stable")[:, : MAX_ALSO + 1], True, axis=1)
        member[at] &= keep
    return member


def _labels(drafts: list[_Draft], texts: Callable[[list[int]], Sequence[str]]) -> list[list[str]]:
    # Labels come from each theme's most central papers: all of them in a pile of a few thousand,
    # the best LABEL_DOCS of a big one (96k papers would otherwise cost minutes of tokenising).
    chosen = [
        d.positions[d.primary][np.lexsort((d.positions[d.primary], -d.scores[d.primary]))[:LABEL_DOCS]].tolist() for d in drafts
    ]
    wanted = sorted({i for group in chosen for i in group})
    text_of = dict(zip(wanted, texts(wanted)))
    return label_terms([[text_of[i] for i in sorted(group)] for group in chosen])


def _theme(draft: _Draft, phrases: list[str], ids: Sequence[str], titles: Sequence[str]) -> Theme:
    # Best first; scores equal to 9 decimals tie, and then the earlier paper comes first.
    scores = draft.scores.tolist()
    order = np.lexsort((draft.positions, -np.array([round(s, 9) for s in scores]))).tolist()
    positions, primary = draft.positions.tolist(), draft.primary.tolist()
    papers = [ThemePaper(ids[positions[k]], titles[positions[k]], scores[k], primary[k]) for k in order]
    label = " · ".join(phrases) if phrases else (draft.seed or "untitled")
    return Theme("", label, draft.seed, papers, phrases, np.asarray(draft.centroid, dtype=np.float32))


def compute_themes(
    vectors: np.ndarray,
    ids: Sequence[str],
    titles: Sequence[str],
    texts: Callable[[list[int]], Sequence[str]],
    *,
    n: int | None = None,
    seeds: Sequence[Seed] = (),
    embed: Callable[[list[str]], np.ndarray] | None = None,
    lexical: Callable[[str], tuple[np.ndarray, np.ndarray]] | None = None,
    margin: float = 0.05,
    previous: ThemeSet | None = None,
    generation: str = "",
    random_seed: int = KMEANS_SEED,
    words: Callable[[], Any] | None = None,
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
        lexical: BM25 scores and term coverage of every paper for a seed text (seeds then match
            stemmed words too; see :func:`.seeds.seed_members`).
        margin: A paper also joins the next discovered themes (at most ``MAX_ALSO``) whose score is
            within this of its best.
        previous: Themes computed earlier for this index, to keep their ids.
        generation: The index generation, recorded in the result.
        random_seed: Seed of k-means' random starts (fixed, so results never change between runs).
        words: Returns the papers' unit TF-IDF rows (a SciPy sparse matrix, same order), for the
            clustering space of discovered themes (see :mod:`.space`); only called from
            ``space.MIN_PAPERS`` papers up. None: the model's vectors alone.

    Raises:
        QueryError: Fewer than 2 papers, ``n`` out of range, more seeds than ``n``, or a vector
            that is not a number.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    _check_request(x, ids, n, seeds)
    if previous is not None and any(t.centroid.shape != (x.shape[1],) for t in previous.themes):
        previous = None  # made with another model: nothing to match against
    drafts = _seeded_drafts(x, seeds, embed, lexical)
    space = None if words is None else cluster_space(x, words)
    wanted = None if n is None else max(1, int(n) - len(seeds))
    drafts += _rest_drafts(x, drafts, wanted, previous, margin, random_seed, space, ids)
    themes = [_theme(d, phrases, ids, titles) for d, phrases in zip(drafts, _labels(drafts, texts))]
    seed_ids = {s.name: s.theme_id for s in seeds}
    for theme in themes:
        theme.id = seed_ids[theme.seed] if theme.seed is not None else theme.id
    changes = assign_discovered_ids(themes, previous)
    themes.sort(key=lambda t: (-t.size, id_key(t.id)))
    options = {"n": None if n is None else int(n), "seeds": [[s.name, s.description] for s in seeds], "margin": margin}
    return ThemeSet(themes, options, generation, changes)


def _rest_drafts(
    x: np.ndarray,
    seeded: list[_Draft],
    k: int | None,
    previous: ThemeSet | None,
    margin: float,
    random_seed: int,
    space: np.ndarray | None = None,
    ids: Sequence[str] = (),
) -> list[_Draft]:
    """Discovered themes of the papers that joined no seed."""
    assigned = np.zeros(len(x), dtype=bool)
    for draft in seeded:
        assigned[draft.positions] = True
    rest = np.flatnonzero(~assigned)
    if not len(rest):
        return []
    old = [t for t in previous.themes if t.seed is None] if previous is not None else []
    if space is not None:
        start = _in_space(old, space, ids, rest)
    else:
        start = np.stack([t.centroid for t in old]) if old else None
    return _discovered_drafts(x, rest, k, start, margin, random_seed, space)
