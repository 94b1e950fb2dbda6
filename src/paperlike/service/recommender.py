""" "Papers like this one": the :class:`Recommender` facade over one index.

Looking up papers like an *indexed* paper reuses its stored vector, so no model is loaded;
only free-text queries (and seeded themes, which embed the seed names) load the embedder, and
check it is the one the index was built with. The work is done by :mod:`paperlike.search`
(lookup, ranking, explanations) and :mod:`paperlike.themes`; this class ties them to one index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..embedding import Embedder, check_model, get_embedder
from ..errors import QueryError, UnknownPaperError
from ..records import DEFAULT_MODE, MODES, Answer, Paper, Result, Results, Seed, Theme, ThemeSet
from ..search.lexical import LexicalIndex, load_or_build_lexical
from ..search.lookup import PaperLookup
from ..search.rank import rocchio
from ..search.ranker import Query, rank_index
from ..settings import default_index_dir
from ..storage import PaperIndex, load_index
from ..storage.manifest import describe_manifest
from ..storage.themes import load_saved_themes
from ..text import clean_text
from .build import ensure_default_index

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Recommender"]

log = logging.getLogger("paperlike")


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
        index: A loaded :class:`~paperlike.storage.PaperIndex`.
        embedder: Model for free-text queries; default: the one named in the index manifest,
            loaded on first use.
    """

    index: PaperIndex
    embedder: Embedder | None = None
    index_dir_reason: str = "given"
    _lookup: PaperLookup | None = field(default=None, repr=False)
    _model_checked: bool = field(default=False, repr=False)
    _lex: LexicalIndex | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls, index_dir: str | Path | None = None, *, embedder: Embedder | None = None, progress: bool = False
    ) -> "Recommender":
        """Open an index; with no ``index_dir``, the default one, built from the bundled papers on first use.

        Args:
            index_dir: Index directory; default: see :func:`paperlike.settings.default_index_dir`.
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
                ensure_default_index(Path(index_dir), embedder, progress)
        return cls(load_index(index_dir), embedder, reason)

    @property
    def directory(self) -> Path:
        """The index directory."""
        return self.index.directory

    def __len__(self) -> int:
        return self.index.count

    # -- lookups -------------------------------------------------------------------------------

    def find(self, query: str) -> int:
        """Position of the paper a query names: an id, a title, a unique title prefix or a near-miss.

        Raises:
            QueryError: Empty query.
            AmbiguousQueryError: The query matches several titles equally well.
            UnknownPaperError: Nothing matches (carries the closest titles).
        """
        if self._lookup is None:
            self._lookup = PaperLookup(self.index.ids, self.index.titles, self.index.position)
        return self._lookup.find(query)

    def paper(self, query: str) -> Paper:
        """The full record of the paper a query names (see :meth:`find`)."""
        return self.index.papers_at([self.find(query)])[0]

    # -- ranking -------------------------------------------------------------------------------

    def lexical(self) -> LexicalIndex:
        """The BM25 index of this index's papers (built and saved beside it on first use)."""
        if self._lex is None:
            self._lex = load_or_build_lexical(
                self.directory,
                self.index.manifest["generation"],
                self.index.count,
                lambda: [p.text for p in self.index.papers()],
            )
        return self._lex

    def _rank(self, vector: np.ndarray, terms: Any, k: int, **options: Any) -> list[Result]:
        hits = rank_index(self.index, self.lexical, Query(vector, terms, k, **options))
        return Results(
            Result(rank, self.index.ids[h.position], self.index.titles[h.position], h.score, h.cosine, h.why)
            for rank, h in enumerate(hits, 1)
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
            raise QueryError(
                f"the model finds nothing to search for in '{text[:60]}'; use words (model: {self.index.model.get('name')})"
            )
        return vector

    def _within(self, theme: str | Theme | None) -> frozenset[int] | None:
        if theme is None:
            return None
        members = (theme if isinstance(theme, Theme) else self.theme(theme)).papers
        return frozenset(p for m in members if (p := self.index.position(m.id)) is not None)

    def similar(
        self,
        paper: str,
        k: int = 10,
        *,
        theme: str | Theme | None = None,
        mode: str = DEFAULT_MODE,
        diverse: bool = False,
        why: bool = False,
    ) -> list[Result]:
        """Papers most like an indexed paper (never the paper itself). Needs no model.

        Args:
            paper: Id or title of an indexed paper (see :meth:`find`).
            k: Number of results; more than the index holds returns all other papers.
            theme: Only papers of this theme: a :class:`Theme` (from :meth:`theme` or :meth:`themes`),
                or the id, seed name or label phrase of one of the automatic themes.
            mode: ``hybrid`` (default: BM25 fused with the model's cosine), ``dense`` or ``lexical``.
            diverse: Re-rank with maximal marginal relevance so the top is not one idea repeated.
            why: Attach an explanation (shared terms, best sentence pair) to each result.
        """
        k, mode = _check_k(k), _check_mode(mode)
        pos = self.find(paper)
        return self._paper_results(pos, k, mode, theme, diverse, why)

    def _paper_results(self, pos: int, k: int, mode: str, theme, diverse: bool, why: bool) -> list[Result]:
        return self._rank(
            self.index.vector(pos),
            lambda: self.lexical().paper_terms(pos),
            k,
            mode=mode,
            exclude=frozenset({pos}),
            within=self._within(theme),
            diverse=diverse,
            why_text=self.index.papers_at([pos])[0].text if why else None,
        )

    def similar_to_text(
        self,
        text: str,
        k: int = 10,
        *,
        theme: str | Theme | None = None,
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
            vector,
            lambda: self.lexical().term_ids(text),
            k,
            mode=mode,
            within=within,
            diverse=diverse,
            why_text=text if why else None,
        )

    def like(
        self,
        papers: Sequence[str],
        k: int = 10,
        *,
        unlike: Sequence[str] = (),
        theme: str | Theme | None = None,
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
            raise QueryError(f"'{self.index.ids[both[0]]}' is both wanted and not wanted; drop it from the papers or from --not")
        if len(pos) == 1 and not neg:
            return self._paper_results(pos[0], k, mode, theme, diverse, why)
        query = rocchio(self.index.vectors_at(pos), self.index.vectors_at(neg) if neg else None)
        return self._rank(
            query,
            lambda: np.concatenate([self.lexical().paper_terms(p) for p in pos]),
            k,
            mode=mode,
            exclude=frozenset(pos) | frozenset(neg),
            within=self._within(theme),
            diverse=diverse,
            why_text=" ".join(p.text for p in self.index.papers_at(pos)) if why else None,
        )

    def recommend(
        self,
        query: str,
        k: int = 10,
        *,
        kind: Literal["auto", "paper", "text"] = "auto",
        theme: str | Theme | None = None,
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

    # -- themes (the work is in :mod:`paperlike.service.themes`) --------------------------------

    def themes(
        self,
        n: int | None = None,
        seeds: str | Seed | Sequence[str | Seed] = (),
        *,
        margin: float = 0.05,
        save: bool = True,
        name: str | None = None,
    ) -> ThemeSet:
        """Group the indexed papers into labelled themes (see :mod:`paperlike.service.themes`):
        the same options always give the same set, saved beside the index, and after the index
        changed the themes keep their ids and ``changes`` says what is new, grown, merged or gone.

        Args:
            n: Total number of themes; None chooses automatically.
            seeds: Theme anchors: a name, ``"NAME=description"`` strings or :class:`Seed`
                objects. A single string is one seed (never split into characters).
            margin: A paper also joins another discovered theme scoring within this of its best.
            save: Write the result beside the index.
            name: A set saved earlier with ``paperlike themes ... --save-as NAME`` (instead of
                ``n``/``seeds``).

        Raises:
            QueryError: Bad ``n``, seeds or name, or fewer than 2 papers.
            TypeError: A seed that is not a string or a :class:`Seed`.
        """
        from .themes import ThemeSetChoice, theme_set

        return theme_set(self, ThemeSetChoice.of(n, seeds, name, margin), save=save)

    def theme(
        self, name: str, n: int | None = None, seeds: str | Seed | Sequence[str | Seed] = (), *, theme_set: str | None = None
    ) -> Theme:
        """One theme, by id, seed name or label phrase, of the set that ``n``/``seeds`` (or the
        saved ``theme_set`` name) mean; with none of them, of the automatic themes.

        Raises:
            QueryError: No such theme in that set (the message names the set and lists its themes).
        """
        from .themes import ThemeSetChoice, resolve_theme

        return resolve_theme(self, name, ThemeSetChoice.of(n, seeds, theme_set))[0]

    def latest_themes(self) -> ThemeSet:
        """The most recently computed theme set (recomputed if the index changed; the automatic
        themes if none). For old scripts only: "the last computed" changes under a user, so no
        command uses it; name the set with :meth:`themes` instead."""
        latest = load_saved_themes(self.directory)
        if latest is None or latest.generation != self.index.manifest["generation"]:
            opts = latest.options if latest is not None else {}
            return self.themes(opts.get("n"), [Seed(a, b) for a, b in opts.get("seeds", [])], margin=opts.get("margin", 0.05))
        return latest

    # -- maps ----------------------------------------------------------------------------------

    def map_2d(self, themes: ThemeSet | None = None) -> "pandas.DataFrame":
        """2-D coordinates of every paper for a map, with its (primary) theme.

        Deterministic: the same index gives the same picture (see :mod:`paperlike.viz.projection`).

        Args:
            themes: Themes to colour by; default: the automatic themes (:meth:`themes`).

        Returns:
            A DataFrame with columns id, title, x, y, theme, theme_label, in index order;
            ``frame.attrs["method"]`` names the projection.
        """
        from ..viz.projection import map_frame

        return map_frame(self.index.ids, self.index.titles, self.index.all_vectors(), themes or self.themes())

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
