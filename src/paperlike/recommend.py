""""Papers like this one": resolve a query to a paper or a text, then rank the index.

Looking up papers like an *indexed* paper reuses its stored vector, so no model is loaded;
only free-text queries (and seeded themes, which embed the seed names) load the embedder, and
check it is the one the index was built with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from .corpus import BUNDLED_SOURCE, Paper, bundled_corpus, bundled_file_sha256, clean_text
from .embed import Embedder, get_embedder
from .errors import AmbiguousQueryError, IndexMissingError, QueryError, UnknownPaperError
from .index import PaperIndex, build_index, check_model, load_index, read_manifest
from .paths import default_index_dir
from .themes import Seed, Theme, ThemeSet, compute_themes, load_saved_themes, options_key, parse_seeds, save_themes

__all__ = ["Result", "Answer", "Recommender"]

log = logging.getLogger("paperlike")

# rapidfuzz ratio (0-100) above which a near-miss title or id is taken as meant.
_FUZZY_ACCEPT = 90.0
_MIN_PREFIX = 3


@dataclass(frozen=True)
class Result:
    """One recommended paper.

    Attributes:
        rank: 1 for the most similar.
        id: Paper id.
        title: Paper title.
        score: Cosine similarity to the query, in [-1, 1].
    """

    rank: int
    id: str
    title: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "id": self.id, "title": self.title, "score": round(self.score, 6)}


@dataclass(frozen=True)
class Answer:
    """Results for a query, with what the query was taken to be.

    Attributes:
        query: The query as given.
        kind: ``"paper"`` when it named an indexed paper, ``"text"`` when embedded as free text.
        paper_id: The query paper's id (``kind == "paper"``).
        paper_title: The query paper's title (``kind == "paper"``).
        results: Ranked results; the query paper is never among them.
        note: Something the user should know about how the query was read.
    """

    query: str
    kind: Literal["paper", "text"]
    results: list[Result]
    paper_id: str | None = None
    paper_title: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.kind,
            "paper_id": self.paper_id,
            "paper_title": self.paper_title,
            "results": [r.to_dict() for r in self.results],
        }


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise QueryError(f"k must be a whole number of at least 1 (got {k!r}); e.g. -k 10")
    return int(k)


@dataclass
class Recommender:
    """Answers "papers like this one" over one index.

    Args:
        index: A loaded :class:`~paperlike.index.PaperIndex`.
        embedder: Model for free-text queries; default: the one named in the index manifest,
            loaded on first use.
    """

    index: PaperIndex
    embedder: Embedder | None = None
    index_dir_reason: str = "given"
    _folded_titles: list[str] | None = field(default=None, repr=False)
    _model_checked: bool = field(default=False, repr=False)

    @classmethod
    def load(
        cls, index_dir: str | Path | None = None, *, embedder: Embedder | None = None, progress: bool = False
    ) -> "Recommender":
        """Open an index; with no ``index_dir``, the default one, built from the bundled papers on first use.

        Args:
            index_dir: Index directory; default: see :func:`paperlike.paths.default_index_dir`.
            embedder: Model for free-text queries (and for building the default index).
            progress: Show a progress bar if the default index has to be built.

        Raises:
            IndexMissingError: ``index_dir`` holds no index.
            IndexCorruptError: The index is damaged.
        """
        reason = "given"
        if index_dir is None:
            index_dir, reason = default_index_dir()
            if reason != "$PAPERLIKE_INDEX_DIR":
                _ensure_default_index(Path(index_dir), embedder, progress)
        return cls(load_index(index_dir), embedder, reason)

    @property
    def directory(self) -> Path:
        """The index directory."""
        return self.index.directory

    def __len__(self) -> int:
        return self.index.count

    # -- lookups -------------------------------------------------------------------------------

    def _titles_folded(self) -> list[str]:
        if self._folded_titles is None:
            self._folded_titles = [_fold(t) for t in self.index.titles]
        return self._folded_titles

    def _candidates(self, positions: Sequence[int]) -> list[tuple[str, str]]:
        return [(self.index.ids[p], self.index.titles[p]) for p in positions]

    def _ambiguous(self, query: str, positions: Sequence[int], how: str) -> AmbiguousQueryError:
        shown = self._candidates(positions[:6])
        listing = "; ".join(f"{pid} ({title[:60]})" for pid, title in shown)
        more = f"; and {len(positions) - 6} more" if len(positions) > 6 else ""
        return AmbiguousQueryError(
            f"'{query}' {how} {len(positions)} papers: {listing}{more}; give one of these ids, a longer title, "
            "or --text to search it as free text",
            query,
            self._candidates(positions),
        )

    def find(self, query: str) -> int:
        """Position of the paper a query names: an id, a title, a unique title prefix or a near-miss.

        Raises:
            QueryError: Empty query.
            AmbiguousQueryError: The query matches several titles equally well.
            UnknownPaperError: Nothing matches (carries the closest titles).
        """
        q = clean_text(query)
        if not q:
            raise QueryError("empty query; give a paper id, a title, or free text with --text")
        pos = self.index.position(q)
        if pos is not None:
            return pos
        folded = _fold(q)
        ids_folded = {pid.casefold(): i for i, pid in reversed(list(enumerate(self.index.ids)))}
        if folded in ids_folded:
            return ids_folded[folded]
        titles = self._titles_folded()
        exact = [i for i, t in enumerate(titles) if t == folded]
        if len(exact) == 1:
            return exact[0]
        if exact:
            raise self._ambiguous(q, exact, "is the title of")
        if len(folded) >= _MIN_PREFIX:
            prefixed = [i for i, t in enumerate(titles) if t.startswith(folded)]
            if len(prefixed) == 1:
                return prefixed[0]
            if prefixed:
                raise self._ambiguous(q, prefixed, "starts the titles of")

        from rapidfuzz import fuzz, process

        keys = titles + [pid.casefold() for pid in self.index.ids]
        best = process.extract(folded, keys, scorer=fuzz.ratio, limit=None, score_cutoff=_FUZZY_ACCEPT)
        hits = sorted({(-round(score, 6), idx % len(titles)) for _, score, idx in best})
        if hits:
            top = [pos for score, pos in hits if score == hits[0][0]]
            if len(top) == 1:
                return top[0]
            raise self._ambiguous(q, top, "is equally close to")
        near: list[int] = []
        for _, _, idx in process.extract(folded, keys, scorer=fuzz.WRatio, limit=12):
            if idx % len(titles) not in near:
                near.append(idx % len(titles))
        near = near[:3]
        suggestions = [self.index.titles[i] for i in near]
        listing = "; ".join(f"{self.index.ids[i]} ({self.index.titles[i][:60]})" for i in near)
        raise UnknownPaperError(
            f"no paper with id or title '{q}'; closest: {listing}; list all with: paperlike papers",
            q,
            suggestions,
        )

    def paper(self, query: str) -> Paper:
        """The full record of the paper a query names (see :meth:`find`)."""
        return self.index.papers()[self.find(query)]

    # -- ranking -------------------------------------------------------------------------------

    def _rank(
        self, vector: np.ndarray, k: int, exclude: frozenset[int] = frozenset(), within: frozenset[int] | None = None
    ) -> list[Result]:
        # A few extra candidates, then (score, position) order: equal scores (duplicate papers)
        # always rank the same way, whatever k is.
        wanted = k + len(exclude) + 16 if within is None else self.index.count
        scores, positions = self.index.search(vector.reshape(1, -1), wanted)
        ranked = sorted(
            (-float(score), int(pos))
            for score, pos in zip(scores[0], positions[0])
            if pos >= 0 and int(pos) not in exclude and (within is None or int(pos) in within)
        )
        return [
            Result(rank, self.index.ids[pos], self.index.titles[pos], -neg)
            for rank, (neg, pos) in enumerate(ranked[:k], 1)
        ]

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = get_embedder(self.index.model.get("name"))
        if not self._model_checked:
            check_model(self.index.model, self.embedder, self.directory)
            self._model_checked = True
        return self.embedder

    def embed_query(self, text: str) -> np.ndarray:
        """Embed free text with the index's model.

        Raises:
            QueryError: Empty text.
            ModelMismatchError: The model in use is not the index's.
        """
        text = clean_text(text)
        if not text:
            raise QueryError("empty text query; give some words to search for")
        vector = self._embedder().embed_batch([text])[0]
        if not np.any(vector):
            raise QueryError(f"the model finds nothing to search for in '{text[:60]}'; use words (model: {self.index.model.get('name')})")
        return vector

    def _within(self, theme: str | None) -> frozenset[int] | None:
        if theme is None:
            return None
        members = self.theme(theme).papers
        return frozenset(p for m in members if (p := self.index.position(m.id)) is not None)

    def similar(self, paper: str, k: int = 10, *, theme: str | None = None) -> list[Result]:
        """Papers most like an indexed paper (never the paper itself). Needs no model.

        Args:
            paper: Id or title of an indexed paper (see :meth:`find`).
            k: Number of results; more than the index holds returns all other papers.
            theme: Only papers of this theme (id, seed name or label phrase; see :meth:`theme`).
        """
        k = _check_k(k)
        pos = self.find(paper)
        return self._rank(self.index.vector(pos), k, frozenset({pos}), self._within(theme))

    def similar_to_text(self, text: str, k: int = 10, *, theme: str | None = None) -> list[Result]:
        """Papers most like a free text (an abstract, a title, a few words)."""
        k = _check_k(k)
        within = self._within(theme)
        return self._rank(self.embed_query(text), k, within=within)

    def recommend(
        self,
        query: str,
        k: int = 10,
        *,
        mode: Literal["auto", "paper", "text"] = "auto",
        theme: str | None = None,
    ) -> Answer:
        """Answer a query that may name a paper or be free text.

        ``auto`` takes the query as a paper when it names one (see :meth:`find`); a query of
        several words that names none is searched as free text, with a note saying so. A single
        word that names no paper is an error, since it is most likely a mistyped id.

        Raises:
            QueryError: See :meth:`find` and :meth:`embed_query`.
        """
        k = _check_k(k)
        if mode not in ("auto", "paper", "text"):
            raise QueryError(f"unknown query mode '{mode}'; use auto, paper or text")
        if mode != "text":
            try:
                pos = self.find(query)
            except UnknownPaperError:
                if mode == "paper" or len(str(query).split()) < 2:
                    raise
            else:
                results = self._rank(self.index.vector(pos), k, frozenset({pos}), self._within(theme))
                return Answer(query, "paper", results, self.index.ids[pos], self.index.titles[pos])
        note = None if mode == "text" else "no paper has this id or title, so it was searched as free text"
        return Answer(query, "text", self.similar_to_text(query, k, theme=theme), note=note)

    # -- themes --------------------------------------------------------------------------------

    def themes(
        self, n: int | None = None, seeds: Sequence[str | Seed] = (), *, margin: float = 0.05, save: bool = True
    ) -> ThemeSet:
        """Group the indexed papers into labelled themes (see :mod:`paperlike.themes`).

        Themes are saved beside the index; asking again for the same options on the same index
        returns the saved ones. After the index changed, the new themes keep the ids of the
        saved ones they match, and ``changes`` says what is new, grown, merged or gone.

        Args:
            n: Total number of themes; None chooses automatically.
            seeds: Theme anchors: names, ``"NAME=description"`` strings or :class:`Seed` objects.
            margin: A paper also joins another discovered theme scoring within this of its best.
            save: Write the result beside the index.

        Raises:
            QueryError: Bad ``n`` or seeds, or fewer than 2 papers.
        """
        seed_list = [s for s in seeds if isinstance(s, Seed)] + parse_seeds([s for s in seeds if not isinstance(s, Seed)])
        key = options_key(n, seed_list, margin)
        generation = self.index.manifest["generation"]
        saved = load_saved_themes(self.directory, key)
        if saved is not None and saved.generation == generation:
            return saved
        result = compute_themes(
            self.index.all_vectors(),
            self.index.ids,
            self.index.titles,
            lambda: [p.text for p in self.index.papers()],
            n=n,
            seeds=seed_list,
            embed=lambda texts: self._embedder().embed_batch(texts),
            margin=margin,
            previous=saved,
            generation=generation,
        )
        if save:
            try:
                save_themes(self.directory, key, result)
            except OSError as exc:
                log.warning("themes not saved beside the index (%s); they will be computed again next time", exc)
        return result

    def theme(self, name: str) -> Theme:
        """One theme, by id, seed name or label phrase, from the most recently computed themes
        of this index (automatic themes when none were computed yet).

        Raises:
            QueryError: No such theme (the message lists the known ones).
        """
        latest = load_saved_themes(self.directory)
        if latest is None:
            latest = self.themes()
        elif latest.generation != self.index.manifest["generation"]:
            opts = latest.options
            latest = self.themes(opts.get("n"), [Seed(a, b) for a, b in opts.get("seeds", [])], margin=opts.get("margin", 0.05))
        return latest.get(name)

    def info(self) -> dict[str, Any]:
        """What this index is: where, how many papers, which model, when built."""
        m = self.index.manifest
        return describe_manifest(self.directory, self.index_dir_reason, m)


def describe_manifest(directory: Path, reason: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """A flat, JSON-ready summary of an index manifest (for ``paperlike info``)."""
    model = manifest.get("model", {})
    return {
        "index_dir": str(directory),
        "index_dir_from": reason,
        "papers": manifest.get("count"),
        "model": model.get("name"),
        "model_package": model.get("package"),
        "model_version": model.get("version"),
        "model_weights_sha256": model.get("weights_sha256"),
        "dim": manifest.get("dim"),
        "faiss_index": manifest.get("faiss_index"),
        "corpus": manifest.get("corpus", {}).get("source"),
        "corpus_sha256": manifest.get("corpus", {}).get("sha256"),
        "built_at": manifest.get("built_at"),
        "format_version": manifest.get("format_version"),
        "generation": manifest.get("generation"),
        "files": {k: v.get("name") for k, v in manifest.get("files", {}).items()},
    }


def _ensure_default_index(directory: Path, embedder: Embedder | None, progress: bool) -> None:
    """Build the default index from the bundled papers if it is missing or the bundle changed.

    An index the user built into the default directory from their own corpus is left alone.
    """
    try:
        manifest = read_manifest(directory)
    except IndexMissingError:
        manifest = None
    if manifest is not None:
        built_from = manifest.get("corpus", {})
        if built_from.get("source") != BUNDLED_SOURCE:
            return
        # Fast path for every lookup: the bundled file is unchanged, so nothing to parse.
        if built_from.get("file_sha256") == bundled_file_sha256():
            return
    corpus = bundled_corpus()
    if manifest is not None and manifest.get("corpus", {}).get("sha256") == corpus.sha256():
        return
    log.warning(
        "Building the default index of the %d bundled papers in %s (first use only)", len(corpus), directory
    )
    build_index(corpus, embedder or get_embedder(), directory, progress=progress)
