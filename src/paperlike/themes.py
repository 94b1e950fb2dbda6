"""Themes: group the papers of an index into labelled, stable, possibly overlapping themes.

How themes are made (all deterministic for the same vectors and options):

* **Discovered themes** are spherical k-means clusters of the paper vectors (FAISS, fixed seed).
  Without ``n``, the number of themes is the candidate with the best silhouette score
  (scikit-learn, cosine, on a fixed sample) in a range around the ``sqrt(n / 2)`` rule of thumb:
  3 themes for 10 papers, 7-11 for 75, 52-87 for 5,250, 100 (the most) for 100,000.
* **Seeded themes** start from the embedding of the seed's name (or ``NAME=description``). A paper
  joins a seed when its similarity to the seed stands out (z-score >= 1 over all papers); the
  theme's centroid is then the mean of those papers, and papers that stand out against that
  centroid join too, so one paper may join several seeds. Papers that join no seed are clustered into discovered
  themes of their own, never put in an "outlier" bin.
* **Membership**: every paper belongs to its best theme; it also belongs to another discovered
  theme whose centroid is within ``margin`` (cosine) of its best one. Scores are cosine
  similarities between the paper and the theme centroid.
* **Labels**: class-based TF-IDF over each theme's papers (unigrams and bigrams of adjacent
  words, English and academic stop words removed), 3 phrases with no near-duplicates.
* **Stability**: when themes were computed before for an older version of the index, new themes
  take the ids of the old ones they match (Hungarian matching of centroids, cosine >= 0.7), and
  the result says which themes are new, grown, shrunk, merged or gone.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from . import store
from .corpus import clean_text, slugify
from .errors import IndexCorruptError, QueryError

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "options_key",
    "Seed",
    "ThemePaper",
    "Theme",
    "ThemeSet",
    "parse_seeds",
    "auto_theme_range",
    "compute_themes",
    "save_themes",
    "load_saved_themes",
    "THEMES_FORMAT_VERSION",
]

THEMES_FORMAT_VERSION = 1
MATCH_COSINE = 0.7  # old and new centroids this close are the same theme
SEED_Z = 1.0  # a paper joins a seed when its similarity is this many std above the mean
MAX_AUTO_THEMES = 100
KMEANS_SEED = 1234
_SAMPLE_FOR_K = 5000  # papers used to choose the number of themes
_SILHOUETTE_SAMPLE = 2000


@dataclass(frozen=True)
class Seed:
    """A user's theme anchor: ``name`` and the text that is embedded for it."""

    name: str
    description: str = ""

    @property
    def text(self) -> str:
        return f"{self.name}: {self.description}" if self.description else self.name

    @property
    def theme_id(self) -> str:
        slug = slugify(self.name, max_words=8)
        if not slug or re.fullmatch(r"t\d+", slug):  # never the id of a discovered theme (t1, t2...)
            return "seed-" + (slug or hashlib.sha1(self.name.encode("utf-8", "replace")).hexdigest()[:6])
        return slug


def parse_seeds(values: Sequence[str]) -> list[Seed]:
    """Parse ``NAME`` or ``NAME=description`` seed options.

    Raises:
        QueryError: An empty seed name, or the same seed given twice.
    """
    seeds: list[Seed] = []
    seen: dict[str, str] = {}
    for raw in values:
        name, _, description = str(raw).partition("=")
        name, description = clean_text(name), clean_text(description)
        if not name:
            raise QueryError(f"empty seed name in --seed {raw!r}; give a name, e.g. --seed distillation")
        key = name.casefold()
        if key in seen:
            raise QueryError(f"seed '{name}' is given twice; give each --seed once")
        seen[key] = name
        seeds.append(Seed(name, description))
    ids = [s.theme_id for s in seeds]
    if len(set(ids)) != len(ids):
        raise QueryError(f"seeds {', '.join(s.name for s in seeds)} are too alike to tell apart; rename one")
    return seeds


@dataclass(frozen=True)
class ThemePaper:
    """A paper's membership in a theme."""

    id: str
    title: str
    score: float
    primary: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "score": round(self.score, 6)}


@dataclass
class Theme:
    """One theme.

    Attributes:
        id: Stable id: the seed's slug for seeded themes, ``t1``, ``t2``... for discovered ones.
        label: Up to 3 key phrases joined by `` · `` (the seed name, or "untitled", when the
            theme's text has no usable phrase).
        seed: The seed name, or None for a discovered theme.
        papers: Members, best first (a paper may be a member of several themes).
        terms: The key phrases, best first.
        centroid: Unit vector of the theme.
        status: Compared with the previous themes of this index: ``new``, ``grown``,
            ``shrunk`` or ``same`` (None when there were no previous themes).
    """

    id: str
    label: str
    seed: str | None
    papers: list[ThemePaper]
    terms: list[str]
    centroid: np.ndarray = field(repr=False)
    status: str | None = None

    @property
    def size(self) -> int:
        return len(self.papers)

    @property
    def representative(self) -> list[ThemePaper]:
        """The three papers closest to the theme's centre."""
        return self.papers[:3]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "size": self.size,
            "seed": self.seed,
            "kind": "seeded" if self.seed is not None else "discovered",
            "status": self.status,
            "papers": [p.to_dict() for p in self.papers],
        }


@dataclass
class ThemeSet:
    """The themes of an index for one set of options.

    Attributes:
        themes: Sorted by size (largest first), then id.
        options: ``{"n": ..., "seeds": [[name, description], ...], "margin": ...}`` as requested.
        generation: The index generation the themes were computed for.
        changes: Versus the previous themes of this index: ``new``, ``grown``, ``shrunk``,
            ``gone`` (lists of ids) and ``merged`` (``{old_id: new_id}``); empty on a first run.
    """

    themes: list[Theme]
    options: dict[str, Any]
    generation: str
    changes: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def get(self, name: str) -> Theme:
        """A theme by id, seed name or label phrase (case-insensitive).

        Raises:
            QueryError: No theme matches (the message lists the known ones).
        """
        key = " ".join(str(name).split()).casefold()
        for match in (
            lambda t: t.id.casefold() == key,
            lambda t: t.seed is not None and t.seed.casefold() == key,
            lambda t: key in [term.casefold() for term in t.terms],
        ):
            found = [t for t in self.themes if match(t)]
            if len(found) == 1:
                return found[0]
        known = ", ".join(f"{t.id} ({t.seed or t.label})" for t in self.themes[:12])
        more = f" and {len(self.themes) - 12} more" if len(self.themes) > 12 else ""
        raise QueryError(f"no theme '{name}'; known themes: {known}{more}; list them with: paperlike themes")

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``paperlike themes --json``."""
        return {
            "themes": [t.to_dict() for t in self.themes],
            "options": self.options,
            "changes": self.changes,
        }

    def to_frame(self) -> "pandas.DataFrame":
        """One row per paper-theme membership: theme_id, theme_label, seed, paper_id, title, score, primary."""
        try:
            import pandas as pd
        except ImportError:
            raise QueryError("pandas is not installed; run: pip install pandas") from None
        rows = [
            {
                "theme_id": t.id,
                "theme_label": t.label,
                "seed": t.seed,
                "paper_id": p.id,
                "title": p.title,
                "score": p.score,
                "primary": p.primary,
            }
            for t in self.themes
            for p in t.papers
        ]
        return pd.DataFrame(rows, columns=["theme_id", "theme_label", "seed", "paper_id", "title", "score", "primary"])

    def _repr_html_(self) -> str:
        """A table for Jupyter: id, label, size, representative papers (all text escaped)."""
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(t.id)}</td><td>{escape(t.label)}</td><td>{t.size}</td>"
            f"<td>{escape('; '.join(p.title for p in t.representative))}</td></tr>"
            for t in self.themes
        )
        return f"<table><tr><th>id</th><th>label</th><th>size</th><th>representative papers</th></tr>{rows}</table>"


# -- clustering ------------------------------------------------------------------------------------


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


def _kmeans(
    x: np.ndarray, k: int, init: np.ndarray | None = None, seed: int = KMEANS_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means with FAISS; returns (unit centroids, labels).

    Without ``init``, several restarts from random papers (fewer for big corpora) keep the best
    objective, so a bad first draw does not decide the themes. With ``init`` (the previous
    themes' centroids) one warm-started run keeps themes where they were.
    """
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    nredo = 1 if init is not None else max(1, min(5, 200_000 // max(len(x), 1)))
    km = faiss.Kmeans(
        x.shape[1], k, niter=30, nredo=nredo, seed=seed, spherical=True, verbose=False,
        min_points_per_centroid=1, max_points_per_centroid=512,
    )
    if init is not None:
        init = np.ascontiguousarray(init, dtype=np.float32)
    km.train(x, init_centroids=init)
    centroids = km.centroids / np.maximum(np.linalg.norm(km.centroids, axis=1, keepdims=True), 1e-12)
    labels = np.argmax(x @ centroids.T, axis=1)
    return centroids.astype(np.float32), labels


def _choose_k(x: np.ndarray) -> int:
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


# -- labels ----------------------------------------------------------------------------------------

_ACADEMIC_STOP = {
    "paper", "papers", "propose", "proposed", "proposes", "approach", "approaches", "method", "methods",
    "result", "results", "show", "shows", "shown", "demonstrate", "demonstrates", "based", "using", "use",
    "used", "uses", "new", "novel", "work", "works", "present", "presents", "introduce", "introduces",
    "achieve", "achieves", "achieved", "existing", "extensive", "experiments", "experimental", "significantly",
    "respectively", "et", "al", "github", "com", "https", "http", "www", "code", "available", "furthermore",
    "moreover", "however", "various", "different", "state", "art", "study", "task", "tasks", "able", "via",
    "make", "makes", "including", "number", "large", "small", "high", "low", "improve", "improves",
    "improved", "improving", "performance", "effective", "efficient", "framework", "models", "model",
    "learning", "data", "training", "trained", "train", "problem", "problems", "set", "sets", "well", "also",
    "outperforms", "outperform", "leading", "leverage", "leverages", "leveraging", "key", "within", "across",
    "lead", "leads", "terms", "term", "way", "ways", "further", "first", "one", "two", "three", "many", "much",
}
_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _ACADEMIC_STOP


def _phrases(text: str, stop: frozenset[str]) -> list[str]:
    """Unigrams and bigrams of adjacent words, none of them a stop word."""
    tokens = _WORD.findall(text.lower())
    keep = [t if t not in stop and len(t) > 2 else None for t in tokens]
    out = [t for t in keep if t]
    out += [f"{a} {b}" for a, b in zip(keep, keep[1:]) if a and b and a != b]
    return out


def _stem(word: str) -> str:
    """Crude stem, enough to see "expert"/"experts" and "llm"/"llms" as one phrase."""
    for suffix in ("ies", "es", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if word.endswith("s") and not word.endswith("ss") and len(word) >= 4:
        return word[:-1]
    return word


def _near_duplicate(a: str, b: str) -> bool:
    sa, sb = {_stem(w) for w in a.split()}, {_stem(w) for w in b.split()}
    return sa <= sb or sb <= sa


def _label_terms(docs: list[str], n_terms: int = 3) -> list[list[str]]:
    """Class-based TF-IDF: the phrases that distinguish each class's text from the others."""
    from sklearn.feature_extraction.text import CountVectorizer

    stop = _stop_words()
    vectorizer = CountVectorizer(analyzer=lambda text: _phrases(text, stop), min_df=1)
    try:
        counts = vectorizer.fit_transform(docs).astype(np.float64)
    except ValueError:  # no phrase at all in any theme
        return [[] for _ in docs]
    vocab = np.array(vectorizer.get_feature_names_out())
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    freq = np.asarray(counts.sum(axis=0)).ravel()
    avg_words = float(counts.sum()) / max(len(docs), 1)
    idf = np.log(1.0 + avg_words / np.maximum(freq, 1))
    weights = tf.multiply(idf).tocsr()
    labels = []
    for row in range(weights.shape[0]):
        data, cols = weights[row].data, weights[row].indices
        # Highest weight first; ties broken alphabetically so labels never change between runs.
        order = sorted(range(len(cols)), key=lambda i: (-round(float(data[i]), 12), vocab[cols[i]]))
        chosen: list[str] = []
        for i in order:
            term = str(vocab[cols[i]])
            if counts[row, cols[i]] < 2 and len(chosen) > 0:
                continue  # a phrase seen once is noise, unless nothing else exists
            if any(_near_duplicate(term, c) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n_terms:
                break
        labels.append(chosen)
    return labels


# -- assembling themes -----------------------------------------------------------------------------


def _discover(
    x: np.ndarray, positions: np.ndarray, k: int | None, previous: np.ndarray | None = None, seed: int = KMEANS_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the papers at ``positions``; returns (centroids, primary label per position).

    ``previous`` holds the centroids of the earlier discovered themes: when their number fits
    (it is the requested ``k``, or lies in the automatic range), k-means starts from them, so
    adding a few papers moves themes a little instead of redrawing them.
    """
    sub = x[positions]
    if len(sub) == 1:
        return sub.copy(), np.zeros(1, dtype=np.int64)
    if previous is not None and len(previous) >= 2:
        lo, hi = auto_theme_range(len(sub))
        fits = len(previous) == k if k is not None else lo <= len(previous) <= hi
        if fits and len(previous) <= len(sub):
            return _kmeans(sub, len(previous), init=previous)
    k = _choose_k(sub) if k is None else k
    k = max(1, min(k, len(sub)))
    if k == 1:
        centroid = sub.mean(axis=0, keepdims=True)
        return centroid / np.linalg.norm(centroid), np.zeros(len(sub), dtype=np.int64)
    return _kmeans(sub, k, seed=seed)


LABEL_DOCS = 400


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
            raise QueryError(f"the model finds nothing to go on in seed '{empty[0]}'; describe it with words, e.g. --seed 'NAME=some words'")
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
        centroids, labels = _discover(x, rest, k, old_centroids, seed=random_seed)
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
    terms = _label_terms(docs)
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
    changes = _assign_discovered_ids(themes, previous)
    themes.sort(key=lambda t: (-t.size, _id_key(t.id)))
    options = {"n": None if n is None else int(n), "seeds": [[s.name, s.description] for s in seeds], "margin": margin}
    return ThemeSet(themes, options, generation, changes)


def _stand_out(scores: np.ndarray) -> np.ndarray:
    """Positions whose score is at least SEED_Z standard deviations above the mean (at least one)."""
    std = float(scores.std())
    chosen = np.flatnonzero(scores >= scores.mean() + SEED_Z * std) if std > 0 else np.array([], dtype=np.int64)
    return chosen if len(chosen) else np.array([int(np.argmax(scores))])


def _id_key(theme_id: str) -> tuple[int, int, str]:
    m = re.fullmatch(r"t(\d+)", theme_id)
    return (1, int(m.group(1)), "") if m else (0, 0, theme_id)


def _assign_discovered_ids(themes: list[Theme], previous: ThemeSet | None) -> dict[str, Any]:
    """Give discovered themes ids, reusing the ids of matching previous themes."""
    discovered = [t for t in themes if t.seed is None]
    # Order for fresh ids: largest first, then by best member id, so ids never depend on k-means order.
    discovered.sort(key=lambda t: (-t.size, t.papers[0].id))
    if previous is None:
        for number, theme in enumerate(discovered, 1):
            theme.id = f"t{number}"
        return {}

    from scipy.optimize import linear_sum_assignment

    old = [t for t in previous.themes if t.seed is None]
    matched: dict[int, Theme] = {}
    if old and discovered:
        sim = np.stack([t.centroid for t in discovered]) @ np.stack([t.centroid for t in old]).T
        rows, cols = linear_sum_assignment(-sim)
        matched = {int(r): old[c] for r, c in zip(rows, cols) if sim[r, c] >= MATCH_COSINE}
    next_number = 1 + max((_id_key(t.id)[1] for t in previous.themes if _id_key(t.id)[0] == 1), default=0)
    changes: dict[str, Any] = {"new": [], "grown": [], "shrunk": [], "merged": {}, "gone": []}
    for i, theme in enumerate(discovered):
        if i in matched:
            theme.id = matched[i].id
            delta = theme.size - matched[i].size
            theme.status = "grown" if delta > 0 else "shrunk" if delta < 0 else "same"
            if delta:
                changes[theme.status].append(theme.id)
        else:
            theme.id, next_number = f"t{next_number}", next_number + 1
            theme.status = "new"
            changes["new"].append(theme.id)
    matched_old = {t.id for t in matched.values()}
    for theme in themes:
        if theme.seed is not None:
            before = next((t for t in previous.themes if t.id == theme.id), None)
            delta = theme.size - before.size if before else 0
            theme.status = "new" if before is None else "grown" if delta > 0 else "shrunk" if delta < 0 else "same"
            if before is None:
                changes["new"].append(theme.id)
            elif delta:
                changes[theme.status].append(theme.id)
    for gone in (t for t in old if t.id not in matched_old):
        sims = [(float(gone.centroid @ t.centroid), t.id) for t in discovered]
        best = max(sims, default=(0.0, ""))
        if best[0] >= MATCH_COSINE:
            changes["merged"][gone.id] = best[1]
        else:
            changes["gone"].append(gone.id)
    for key in ("new", "grown", "shrunk", "gone"):
        changes[key].sort(key=_id_key)
    return changes


# -- persistence -----------------------------------------------------------------------------------


def options_key(n: int | None, seeds: Sequence[Seed], margin: float) -> str:
    """File-name-safe key of a set of theme options."""
    payload = json.dumps({"n": n, "seeds": [[s.name, s.description] for s in seeds], "margin": margin}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _themes_dir(index_dir: Path) -> Path:
    return Path(index_dir) / "themes"


def save_themes(index_dir: Path, key: str, theme_set: ThemeSet) -> Path:
    """Write a theme set beside the index (JSON only, atomically); returns its path."""
    directory = _themes_dir(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "format": "paperlike-themes",
        "format_version": THEMES_FORMAT_VERSION,
        "generation": theme_set.generation,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "options": theme_set.options,
        "changes": theme_set.changes,
        "themes": [
            {
                "id": t.id,
                "label": t.label,
                "seed": t.seed,
                "status": t.status,
                "terms": t.terms,
                "centroid": [float(v) for v in t.centroid],
                "papers": [[p.id, p.title, p.score, p.primary] for p in t.papers],
            }
            for t in theme_set.themes
        ],
    }
    path = directory / f"{key}.json"
    store.atomic_write_json(path, data)
    return path


def _parse_saved(data: Any, path: Path) -> ThemeSet:
    try:
        if data.get("format") != "paperlike-themes" or data.get("format_version") != THEMES_FORMAT_VERSION:
            raise ValueError("not a themes file of a known version")
        options = data["options"]
        n = options["n"]
        seeds = options["seeds"]
        if not (n is None or (isinstance(n, int) and not isinstance(n, bool))) or not isinstance(options["margin"], (int, float)):
            raise ValueError("bad options")
        if not isinstance(seeds, list) or not all(
            isinstance(x, list) and len(x) == 2 and all(isinstance(v, str) for v in x) for x in seeds
        ):
            raise ValueError("bad seeds")
        themes = []
        for t in data["themes"]:
            papers = [ThemePaper(str(pid), str(title), float(score), bool(primary)) for pid, title, score, primary in t["papers"]]
            centroid = np.asarray(t["centroid"], dtype=np.float32)
            if centroid.ndim != 1 or (themes and centroid.shape != themes[0].centroid.shape):
                raise ValueError("bad centroid")
            if t["seed"] is not None and not isinstance(t["seed"], str):
                raise ValueError("bad seed")
            themes.append(Theme(str(t["id"]), str(t["label"]), t["seed"], papers, [str(x) for x in t["terms"]],
                                centroid, t.get("status")))
        return ThemeSet(themes, dict(options), str(data["generation"]), dict(data.get("changes") or {}))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise IndexCorruptError(
            f"saved themes {path} are damaged ({exc.__class__.__name__}); delete the file to recompute them"
        ) from None


def load_saved_themes(index_dir: Path, key: str | None = None) -> ThemeSet | None:
    """The saved theme set for ``key`` (or the most recently saved one), or None."""
    directory = _themes_dir(index_dir)
    if key is not None:
        path = directory / f"{key}.json"
        candidates = [path] if path.is_file() else []
    else:
        candidates = sorted(directory.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    for path in candidates[:1]:
        try:
            data = store.read_json(path)
        except (OSError, ValueError):
            raise IndexCorruptError(f"saved themes {path} are unreadable; delete the file to recompute them") from None
        return _parse_saved(data, path)
    return None
