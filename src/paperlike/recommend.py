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
from .explain import Why, explain
from .index import PaperIndex, build_index, check_model, load_index, read_manifest
from .rank import DEFAULT_MODE, MODES, mmr, rocchio, score_all, top_k
from .paths import default_index_dir
from .themes import Seed, Theme, ThemeSet, compute_themes, load_saved_themes, options_key, parse_seeds, save_themes

__all__ = ["Result", "Results", "Answer", "Recommender"]

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
        score: The ranking mode's score (hybrid: a weighted sum of z-scores, so about 0-10;
            dense: the cosine; lexical: the BM25 score). Higher is more similar.
        cosine: Cosine similarity of the paper's vector to the query vector, in [-1, 1].
        why: Shared key terms and best-matching sentences, when asked for.
    """

    rank: int
    id: str
    title: str
    score: float
    cosine: float | None = None
    why: Why | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 6),
            "cosine": None if self.cosine is None else round(self.cosine, 6),
            "why": self.why.to_dict() if self.why else None,
        }


class Results(list):
    """A list of :class:`Result` that shows as a table in Jupyter and converts to a DataFrame."""

    def to_frame(self) -> "pandas.DataFrame":
        """One row per result: rank, id, title, score, cosine, why (shared terms)."""
        try:
            import pandas as pd
        except ImportError:
            raise QueryError("pandas is not installed; run: pip install pandas") from None
        return pd.DataFrame(
            [
                {"rank": r.rank, "id": r.id, "title": r.title, "score": round(r.score, 4),
                 "cosine": None if r.cosine is None else round(r.cosine, 4),
                 "why": ", ".join(r.why.terms) if r.why else None}
                for r in self
            ],
            columns=["rank", "id", "title", "score", "cosine", "why"],
        )

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{r.rank}</td><td>{r.score:.3f}</td><td>{escape(r.id)}</td><td>{escape(r.title)}</td>"
            f"<td>{escape(r.why.short(80)) if r.why else ''}</td></tr>"
            for r in self
        )
        return f"<table><tr><th>rank</th><th>score</th><th>id</th><th>title</th><th>why</th></tr>{rows}</table>"


@dataclass(frozen=True)
class Answer:
    """Results for a query, with what the query was taken to be.

    Attributes:
        query: The query as given.
        kind: ``"paper"`` when it named an indexed paper, ``"text"`` when embedded as free text,
            ``"papers"`` for several papers ("like these, not those").
        paper_id: The query paper's id (``kind == "paper"``).
        paper_title: The query paper's title (``kind == "paper"``).
        results: Ranked results; the query paper is never among them.
        note: Something the user should know about how the query was read.
    """

    query: str
    kind: Literal["paper", "text", "papers"]
    results: list[Result]
    paper_id: str | None = None
    paper_title: str | None = None
    note: str | None = None
    mode: str = DEFAULT_MODE

    def _repr_html_(self) -> str:
        return Results(self.results)._repr_html_()

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.kind,
            "paper_id": self.paper_id,
            "paper_title": self.paper_title,
            "mode": self.mode,
            "results": [r.to_dict() for r in self.results],
        }


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise QueryError(f"unknown ranking mode '{mode}'; use one of: {', '.join(MODES)}")
    return mode


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
    _lex: Any = field(default=None, repr=False)

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

    def lexical(self):
        """The BM25 index of this index's papers (built and saved beside it on first use)."""
        if self._lex is None:
            from .lexical import load_or_build_lexical

            self._lex = load_or_build_lexical(
                self.directory, self.index.manifest["generation"], self.index.count,
                lambda: [p.text for p in self.index.papers()],
            )
        return self._lex

    def _rank(
        self,
        vector: np.ndarray,
        terms: Any,
        k: int,
        *,
        mode: str = DEFAULT_MODE,
        exclude: frozenset[int] = frozenset(),
        within: frozenset[int] | None = None,
        diverse: bool = False,
        why_text: str | None = None,
    ) -> list[Result]:
        q = np.asarray(vector, dtype=np.float32)
        n = self.index.count
        mask = np.ones(n, dtype=bool)
        mask[list(exclude)] = False
        if within is not None:
            in_theme = np.zeros(n, dtype=bool)
            in_theme[list(within)] = True
            mask &= in_theme
        lexical = None
        if mode != "dense":
            lexical = self.lexical().scores_for_terms(terms() if callable(terms) else terms)
        if self.index.exact:
            # Exact scores for every paper, so fusion statistics and ties never depend on k.
            dense = self.index.all_vectors() @ q
        else:
            # Approximate index: the HNSW neighbours and the BM25 best are the candidates; their
            # cosines are computed exactly, and fusion statistics use the candidates only.
            wanted = min(n, max(1000, 20 * k + len(exclude)))
            _, found = self.index.search(q.reshape(1, -1), wanted)
            candidates = set(int(p) for p in found[0] if p >= 0)
            if within is not None:
                candidates |= set(within)  # a theme is small: score all its papers exactly
            if lexical is not None:
                candidates |= set(top_k(lexical, wanted, within=mask & (lexical > 0)))
            cand = np.array(sorted(candidates), dtype=np.int64)
            dense = np.zeros(n, dtype=np.float32)
            dense[cand] = self.index.vectors_at(cand) @ q
            in_cand = np.zeros(n, dtype=bool)
            in_cand[cand] = True
            mask &= in_cand
        if mode == "lexical":
            mask &= lexical > 0  # a paper sharing no term with the query is not a lexical match
        scores = score_all(mode, dense, lexical, mask)
        if diverse:
            pool = top_k(scores, min(max(5 * k, 50), 2000), within=mask)
            picked = mmr(pool, scores[pool], self.index.vectors_at(pool), k)
            if len(picked) < k:  # more asked for than the pool: the rest in plain order
                seen = set(picked)
                picked += [p for p in top_k(scores, k, within=mask) if p not in seen][: k - len(picked)]
        else:
            picked = top_k(scores, k, within=mask)
        whys: list[Why | None] = [None] * len(picked)
        if why_text is not None and picked:
            texts = [p.text for p in self.index.papers_at(picked)]
            whys = explain(self.lexical(), why_text, list(zip(picked, texts)))
        return Results(
            Result(rank, self.index.ids[pos], self.index.titles[pos], float(scores[pos]), float(dense[pos]), why)
            for rank, (pos, why) in enumerate(zip(picked, whys), 1)
        )

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

    def similar(
        self,
        paper: str,
        k: int = 10,
        *,
        theme: str | None = None,
        mode: str = DEFAULT_MODE,
        diverse: bool = False,
        why: bool = False,
    ) -> list[Result]:
        """Papers most like an indexed paper (never the paper itself). Needs no model.

        Args:
            paper: Id or title of an indexed paper (see :meth:`find`).
            k: Number of results; more than the index holds returns all other papers.
            theme: Only papers of this theme (id, seed name or label phrase; see :meth:`theme`).
            mode: ``hybrid`` (default: BM25 fused with the model's cosine), ``dense`` or ``lexical``.
            diverse: Re-rank with maximal marginal relevance so the top is not one idea repeated.
            why: Attach an explanation (shared terms, best sentence pair) to each result.
        """
        k, mode = _check_k(k), _check_mode(mode)
        pos = self.find(paper)
        return self._paper_results(pos, k, mode, theme, diverse, why)

    def _paper_results(self, pos: int, k: int, mode: str, theme, diverse: bool, why: bool) -> list[Result]:
        return self._rank(
            self.index.vector(pos), lambda: self.lexical().paper_terms(pos), k, mode=mode, exclude=frozenset({pos}),
            within=self._within(theme), diverse=diverse, why_text=self.index.papers_at([pos])[0].text if why else None,
        )

    def similar_to_text(
        self,
        text: str,
        k: int = 10,
        *,
        theme: str | None = None,
        mode: str = DEFAULT_MODE,
        diverse: bool = False,
        why: bool = False,
    ) -> list[Result]:
        """Papers most like a free text (an abstract, a title, a few words); see :meth:`similar`."""
        k, mode = _check_k(k), _check_mode(mode)
        within = self._within(theme)
        text = clean_text(text)
        vector = self.embed_query(text) if mode != "lexical" else np.zeros(self.index.dim, np.float32)
        if mode == "lexical" and not text:
            raise QueryError("empty text query; give some words to search for")
        return self._rank(
            vector, lambda: self.lexical().term_ids(text), k, mode=mode, within=within, diverse=diverse,
            why_text=text if why else None,
        )

    def like(
        self,
        papers: Sequence[str],
        k: int = 10,
        *,
        unlike: Sequence[str] = (),
        theme: str | None = None,
        mode: str = DEFAULT_MODE,
        diverse: bool = False,
        why: bool = False,
    ) -> list[Result]:
        """Papers like all of ``papers`` and unlike ``unlike`` ("like these, not those"). Needs no model.

        The dense query is Rocchio's: the mean of the wanted papers' vectors minus half the mean
        of the unwanted ones; the lexical query is the wanted papers' terms together. None of the
        named papers is among the results.

        Raises:
            QueryError: No paper given, a paper both wanted and not, or see :meth:`find`.
        """
        k, mode = _check_k(k), _check_mode(mode)
        if not papers:
            raise QueryError("give at least one paper to find papers like")
        pos = [self.find(p) for p in papers]
        neg = [self.find(p) for p in unlike]
        both = sorted(set(pos) & set(neg))
        if both:
            raise QueryError(
                f"'{self.index.ids[both[0]]}' is both wanted and not wanted; drop it from the papers or from --not"
            )
        if len(pos) == 1 and not neg:
            return self._paper_results(pos[0], k, mode, theme, diverse, why)
        query = rocchio(self.index.vectors_at(pos), self.index.vectors_at(neg) if neg else None)
        return self._rank(
            query, lambda: np.concatenate([self.lexical().paper_terms(p) for p in pos]), k, mode=mode,
            exclude=frozenset(pos) | frozenset(neg), within=self._within(theme), diverse=diverse,
            why_text=" ".join(p.text for p in self.index.papers_at(pos)) if why else None,
        )

    def recommend(
        self,
        query: str,
        k: int = 10,
        *,
        kind: Literal["auto", "paper", "text"] = "auto",
        theme: str | None = None,
        mode: str = DEFAULT_MODE,
        diverse: bool = False,
        why: bool = False,
    ) -> Answer:
        """Answer a query that may name a paper or be free text.

        ``auto`` takes the query as a paper when it names one (see :meth:`find`); a query of
        several words that names none is searched as free text, with a note saying so. A single
        word that names no paper is an error, since it is most likely a mistyped id.

        Raises:
            QueryError: See :meth:`find` and :meth:`embed_query`.
        """
        k, mode = _check_k(k), _check_mode(mode)
        if kind not in ("auto", "paper", "text"):
            raise QueryError(f"unknown query kind '{kind}'; use auto, paper or text")
        if kind != "text":
            try:
                pos = self.find(query)
            except UnknownPaperError:
                if kind == "paper" or len(str(query).split()) < 2:
                    raise
            else:
                results = self._paper_results(pos, k, mode, theme, diverse, why)
                return Answer(query, "paper", results, self.index.ids[pos], self.index.titles[pos], mode=mode)
        note = None if kind == "text" else "no paper has this id or title, so it was searched as free text"
        results = self.similar_to_text(query, k, theme=theme, mode=mode, diverse=diverse, why=why)
        return Answer(query, "text", results, note=note, mode=mode)

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
            lambda positions: [p.text for p in self.index.papers_at(positions)],
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
        return self.latest_themes().get(name)

    def latest_themes(self) -> ThemeSet:
        """The most recently computed themes of this index (recomputed with the same options if
        the index changed since; automatic themes when none were computed yet)."""
        latest = load_saved_themes(self.directory)
        if latest is None:
            return self.themes()
        if latest.generation != self.index.manifest["generation"]:
            opts = latest.options
            return self.themes(opts.get("n"), [Seed(a, b) for a, b in opts.get("seeds", [])], margin=opts.get("margin", 0.05))
        return latest

    # -- maps ----------------------------------------------------------------------------------

    def map_2d(self, themes: ThemeSet | None = None) -> "pandas.DataFrame":
        """2-D coordinates of every paper for a map, with its (primary) theme.

        Deterministic: the same index gives the same picture (see :mod:`paperlike.projection`).

        Args:
            themes: Themes to colour by; default: :meth:`latest_themes`.

        Returns:
            A DataFrame with columns id, title, x, y, theme, theme_label, in index order;
            ``frame.attrs["method"]`` names the projection (t-SNE or PCA).
        """
        try:
            import pandas as pd
        except ImportError:
            raise QueryError("the map needs pandas; run: pip install 'paperlike[map]'") from None
        from .projection import project_2d

        themes = themes or self.latest_themes()
        primary: dict[str, Theme] = {}
        for t in themes.themes:
            for p in t.papers:
                if p.primary or p.id not in primary:
                    primary[p.id] = t
        coords, method = project_2d(self.index.all_vectors())
        frame = pd.DataFrame(
            {
                "id": self.index.ids,
                "title": self.index.titles,
                "x": coords[:, 0].round(5),
                "y": coords[:, 1].round(5),
                "theme": [primary[i].id if i in primary else "" for i in self.index.ids],
                "theme_label": [primary[i].label if i in primary else "" for i in self.index.ids],
            }
        )
        frame.attrs["method"] = method
        return frame

    def neighbours(self, k: int = 5) -> dict[str, list[tuple[str, float]]]:
        """Every paper's ``k`` most similar papers by cosine, as ``{id: [(id, cosine), ...]}``."""
        k = _check_k(k)
        scores, positions = self.index.search(self.index.all_vectors(), k + 1)
        out: dict[str, list[tuple[str, float]]] = {}
        for i, (row_s, row_p) in enumerate(zip(scores, positions)):
            pairs = sorted((-float(s), int(p)) for s, p in zip(row_s, row_p) if p >= 0 and p != i)[:k]
            out[self.index.ids[i]] = [(self.index.ids[p], -s) for s, p in pairs]
        return out

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
