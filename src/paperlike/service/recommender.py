""" "Papers like this one": the :class:`Recommender` facade over one index.

Looking up papers like an *indexed* paper reuses its stored vector, so no model is loaded;
only free-text queries (and seeded themes, which embed the seed names) load the embedder, and
check it is the one the index was built with. The work is done by :mod:`paperlike.search`
(lookup, ranking, explanations) and :mod:`paperlike.themes`; this class ties them to one index.
Every ranking method takes the same options (k, theme, mode, diverse, why), checked once in
:class:`~paperlike.records.search_options.SearchOptions`; :meth:`Recommender.answer` takes that record
itself (the CLI and the web build one and hand it on unchanged).

The class is a thin public wrapper: the index and what queries load over it are one
:class:`~paperlike.service.open_index.OpenIndex` (:attr:`Recommender.opened`), which the service
modules take.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..embedding import Embedder
from ..errors import QueryError
from ..online import Online, as_online
from ..records import DEFAULT_MODE, Answer, Paper, Result, Results, Seed, Theme, ThemeSet
from ..records.search_options import SearchOptions, check_k, paper_names
from ..settings import default_index_dir
from ..storage import PaperIndex, load_index
from ..storage.manifest import describe_manifest
from ..storage.themes import load_saved_themes
from .build import ensure_default_index
from .catalog import matching_positions, select_papers
from .open_index import OpenIndex, OpenIndexView
from .queries import answer_many, answer_one
from .ranking import papers_results, resolve_options, text_results, theme_positions

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Recommender"]

log = logging.getLogger("paperlike")

# Above this many papers the map's click panel gets no precomputed neighbours: the all-pairs
# search would dominate the map's build time and the page's size.
MAP_NEIGHBOURS_MAX_PAPERS = 20000


class Recommender(OpenIndexView):
    """Answers "papers like this one" over one index.

    Args:
        index: A loaded :class:`~paperlike.storage.PaperIndex`.
        embedder: Model for free-text queries; default: the one named in the index manifest,
            loaded on first use.
        index_dir_reason: How the index folder was chosen (``given``, ``$PAPERLIKE_INDEX_DIR``...).
        use_marks: Leave papers the reader marked not liked (``paperlike mark``) out of the
            answers; False answers as if there were no marks.
    """

    def __init__(
        self, index: PaperIndex, embedder: Embedder | None = None, index_dir_reason: str = "given", use_marks: bool = True
    ) -> None:
        self.opened = OpenIndex(index, embedder, use_marks)
        self.index_dir_reason = index_dir_reason

    def __repr__(self) -> str:
        return f"Recommender({self.directory}, {self.index.count} papers)"

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
            TypeError: ``index_dir`` is not a path.
            IndexMissingError: ``index_dir`` holds no index.
            IndexCorruptError: The index is damaged.
        """
        if index_dir is not None and not isinstance(index_dir, (str, os.PathLike)):
            raise TypeError(f"index_dir is a folder path (str or Path), not {type(index_dir).__name__}")
        reason = "given"
        if index_dir is None:
            index_dir, reason = default_index_dir()
            if reason != "$PAPERLIKE_INDEX_DIR":
                ensure_default_index(Path(index_dir), embedder, progress)
        return cls(load_index(index_dir), embedder, reason)

    def __len__(self) -> int:
        return self.index.count

    # -- lookups -------------------------------------------------------------------------------

    def records(self, ids: Sequence[str]) -> list[Paper]:
        """Full records of the papers with these exact ids, in the order given (e.g. results).

        Raises:
            QueryError: An id is not in the index.
        """
        positions = [self.index.resolve(i) for i in paper_names(ids, "ids")]  # (a merged record's id too)
        missing = [i for i, p in zip(ids, positions) if p is None]
        if missing:
            raise QueryError(f"unknown paper id(s): {', '.join(missing)}; list ids with: paperlike papers")
        return self.index.papers_at([p for p in positions if p is not None])

    def list_papers(self, contains: str | None = None) -> list[tuple[str, str]]:
        """``(id, title)`` of every paper whose id or title contains ``contains`` (any case; all when None)."""
        return [(self.index.ids[p], self.index.titles[p]) for p in matching_positions(self.index, contains)]

    def select_papers(
        self, *, theme: str | Theme | None = None, ids: Sequence[str] = (), contains: str | None = None
    ) -> list[Paper]:
        """Full records of all papers, a theme's, chosen ids, or those whose id or title contains
        ``contains`` (the filters combine), in index order; e.g. for export.

        Raises:
            QueryError: An unknown id (nothing is returned) or theme.
        """
        from .themes import named_theme

        ids = paper_names(ids, "ids")
        chosen = None if theme is None else named_theme(self.opened, theme)
        members = None if chosen is None else {p.id for p in chosen.papers}
        return select_papers(self.index, ids=ids, members=members, contains=contains)

    # -- ranking -------------------------------------------------------------------------------

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
            paper: Id, DOI, arXiv id, URL or title of an indexed paper (see :meth:`find`).
            k: Number of results; more than the index holds returns all other papers.
            theme: Only papers of this theme: a :class:`Theme` (from :meth:`theme` or :meth:`themes`),
                or the id, seed name or label phrase of one of the automatic themes.
            mode: ``hybrid`` (default: TF-IDF fused with the model's cosine), ``dense`` or ``lexical``;
                each result's ``score`` is on that mode's scale (``records.results.SCORE_SCALES``).
            diverse: Re-rank with maximal marginal relevance so the top is not one idea repeated.
            why: Attach an explanation (shared terms, best sentence pair) to each result.
        """
        opts = SearchOptions(k, theme, mode, diverse, why)
        return papers_results(self.opened, [self.find(paper)], [], opts)

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
        return text_results(self.opened, text, SearchOptions(k, theme, mode, diverse, why))

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
            TypeError: ``papers`` or ``unlike`` is a single string (write ``["id"]``) or not strings.
            QueryError: No paper given, a paper both wanted and not, or see :meth:`find`.
        """
        opts = SearchOptions(k, theme, mode, diverse, why)
        wanted, unwanted = paper_names(papers, "papers"), paper_names(unlike, "unlike")
        if not wanted:
            raise QueryError("give at least one paper to find papers like")
        return papers_results(self.opened, [self.find(p) for p in wanted], [self.find(p) for p in unwanted], opts)

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
        online: "bool | Online" = False,
    ) -> Answer:
        """Answer a query that may name a paper or be free text.

        ``auto`` takes the query as a paper when it names one: an id, DOI, arXiv id or URL, a whole
        title, or the start of one title with at least 3 words (see
        :mod:`paperlike.search.lookup`); a query that names none (a word such as "grokking", or
        several words) is searched as free text, with a note saying so and naming the papers whose
        titles it starts. :attr:`Answer.query_kind` says which. A DOI, arXiv id or URL that is not
        in the index is an error, never text; with ``online`` (True, or a
        :class:`~paperlike.online.Online` client) an arXiv id or DOI is fetched instead and its
        title and abstract searched (``query_kind`` ``online``; see :mod:`paperlike.online`).

        Raises:
            QueryError: See :meth:`find` and :meth:`embed_query`.
            OnlineError: With ``online``: a service cannot be reached, is too slow or limits the rate.
        """
        return answer_one(self.opened, query, kind, SearchOptions(k, theme, mode, diverse, why), as_online(online))

    def ask(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        unlike: Sequence[str] = (),
        kind: Literal["auto", "paper", "text"] = "auto",
        theme: str | Theme | None = None,
        mode: str = DEFAULT_MODE,
        diverse: bool = False,
        why: bool = False,
        online: "bool | Online" = False,
    ) -> Answer:
        """What ``paperlike similar`` answers: one query as :meth:`recommend` does (``online``
        too: it fetches only a single query), or, with
        several queries or any ``unlike``, papers like all of those papers and unlike the others
        (each query must then name a paper).

        Raises:
            TypeError: ``queries`` or ``unlike`` is a single string or not strings.
            QueryError: See :meth:`recommend` and :meth:`like`.
        """
        return self.answer(queries, SearchOptions(k, theme, mode, diverse, why), unlike=unlike, kind=kind, online=online)

    def answer(
        self,
        queries: Sequence[str],
        options: SearchOptions | None = None,
        *,
        unlike: Sequence[str] = (),
        kind: Literal["auto", "paper", "text"] = "auto",
        online: "bool | Online" = False,
    ) -> Answer:
        """:meth:`ask` for an options record the caller built once (the CLI and the web do): its
        theme is resolved to index positions here, and the record goes on to the scorer unchanged.

        Raises:
            TypeError: ``options`` is not a :class:`SearchOptions`; see :meth:`ask`.
            QueryError: See :meth:`ask`.
        """
        options = SearchOptions() if options is None else options
        if not isinstance(options, SearchOptions):
            raise TypeError(f"options is a SearchOptions record, not {type(options).__name__}")
        wanted, unwanted = paper_names(queries, "queries"), paper_names(unlike, "unlike")
        return answer_many(self.opened, wanted, unwanted, kind, resolve_options(self.opened, options), as_online(online))

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
            margin: A paper also joins the next discovered themes (at most 2) scoring within this of its best.
            save: Write the result beside the index.
            name: A set saved earlier with ``paperlike themes ... --save-as NAME`` (instead of
                ``n``/``seeds``).

        Raises:
            QueryError: Bad ``n``, seeds or name, or fewer than 2 papers.
            TypeError: A seed that is not a string or a :class:`Seed`.
        """
        from .themes import ThemeSetChoice, theme_set

        return theme_set(self.opened, ThemeSetChoice.of(n, seeds, name, margin), save=save)

    def theme(
        self, name: str, n: int | None = None, seeds: str | Seed | Sequence[str | Seed] = (), *, theme_set: str | None = None
    ) -> Theme:
        """One theme, by id, seed name or label phrase, of the set that ``n``/``seeds`` (or the
        saved ``theme_set`` name) mean; with none of them, of the automatic themes.

        Raises:
            QueryError: No such theme in that set (the message names the set and lists its themes).
        """
        from .themes import ThemeSetChoice, resolve_theme

        return resolve_theme(self.opened, name, ThemeSetChoice.of(n, seeds, theme_set))[0]

    def latest_themes(self) -> ThemeSet:
        """The most recently computed theme set (recomputed if the index changed; the automatic
        themes if none). For old scripts only: "the last computed" changes under a user, so no
        command uses it; name the set with :meth:`themes` instead."""
        latest = load_saved_themes(self.directory, papers=self.index.count)
        if latest is None or latest.generation != self.index.manifest["generation"]:
            opts = latest.options if latest is not None else {}
            return self.themes(opts.get("n"), [Seed(a, b) for a, b in opts.get("seeds", [])], margin=opts.get("margin", 0.05))
        return latest

    # -- ranking parts, for scripts (the work is in :mod:`.ranking`) ---------------------------

    def theme_positions(self, theme: str | Theme | None) -> frozenset[int] | None:
        """Index positions of a theme's papers; None for no theme (see :func:`.ranking.theme_positions`)."""
        return theme_positions(self.opened, theme)

    def papers_results(self, pos: list[int], neg: list[int], opts: SearchOptions) -> Results:
        """Papers like those at index positions ``pos`` and unlike those at ``neg`` (see :func:`.ranking.papers_results`)."""
        return papers_results(self.opened, pos, neg, opts)

    def text_results(self, text: str, opts: SearchOptions) -> Results:
        """Papers like a free text (see :func:`.ranking.text_results`)."""
        return text_results(self.opened, text, opts)

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
        k = check_k(k)
        scores, positions = self.index.search(self.index.all_vectors(), k + 1)
        out: dict[str, list[tuple[str, float]]] = {}
        for i, (row_s, row_p) in enumerate(zip(scores, positions)):
            pairs = sorted((-float(s), int(p)) for s, p in zip(row_s, row_p) if p >= 0 and p != i)[:k]
            out[self.index.ids[i]] = [(self.index.ids[p], -s) for s, p in pairs]
        return out

    def map_neighbours(self, k: int = 5) -> dict[str, list[tuple[str, float]]]:
        """:meth:`neighbours` for the map's click panel; empty above
        :data:`MAP_NEIGHBOURS_MAX_PAPERS` papers (the panel then says none were precomputed)."""
        return self.neighbours(k) if self.index.count <= MAP_NEIGHBOURS_MAX_PAPERS else {}

    def info(self) -> dict[str, Any]:
        """What this index is: where, how many papers, which model, when built."""
        return describe_manifest(self.directory, self.index_dir_reason, self.index.manifest)
