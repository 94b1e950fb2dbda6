"""Ranking over one index: the BM25 index beside it, the query vector (a paper's own, Rocchio's
mix of several, or embedded free text), and the fields of each result a reader scans for.

A mixin of :class:`~paperlike.service.recommender.Recommender`, which supplies the index, the
model it was given (if any) and the papers of a theme.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..embedding import Embedder, check_model, get_embedder
from ..errors import QueryError
from ..mode_registry import find_mode
from ..records import Result, Results, Theme, embedded_text
from ..search.lexical import LexicalIndex, build_lexical, load_or_build_lexical
from ..search.rank import rocchio
from ..search.ranker import Query, rank_index
from ..search.shortlist import SHORTLIST_MIN_PAPERS, DenseShortlist
from ..storage import PaperIndex
from ..storage.lexical import lexical_folder, load_lexical
from ..text import clean_text
from .options import SearchOptions
from .triage import disliked_positions

__all__ = ["IndexRanking"]


class IndexRanking:
    """Ranking methods shared by every kind of query (see the module docstring)."""

    index: PaperIndex
    embedder: Embedder | None
    use_marks: bool
    _model_checked: bool
    _lex: LexicalIndex | None
    _shortlist: DenseShortlist | None
    # A theme by name (the Recommender's method, over its theme sets).
    theme: Callable[..., Theme]

    def theme_positions(self, theme: str | Theme | None) -> frozenset[int] | None:
        """Index positions of a theme's papers (a :class:`Theme`, or its id, seed or label in the
        automatic themes); None for no theme (every paper)."""
        if theme is None:
            return None
        members = (theme if isinstance(theme, Theme) else self.theme(theme)).papers
        return frozenset(p for m in members if (p := self.index.position(m.id)) is not None)

    def checked_embedder(self) -> Embedder:
        """The index's model: loaded on first use (unless one was given), and checked once against
        the model the index was built with.

        Raises:
            ModelMismatchError: The model in use is not the index's.
        """
        if self.embedder is None:
            self.embedder = get_embedder(self.index.model.get("name"))
        if not self._model_checked:
            check_model(self.index.model, self.embedder, self.index.directory)
            self._model_checked = True
        return self.embedder

    def lexical(self, save: bool = True) -> LexicalIndex:
        """The BM25 index of this index's papers (built and saved beside it on first use).

        Args:
            save: False: load it when saved, else build it in memory only; the index folder is
                neither written nor cleaned (a read-only server, a read-only mount).
        """
        if self._lex is None:
            if save:
                self._lex = load_or_build_lexical(
                    self.index.directory,
                    self.index.manifest["generation"],
                    self.index.count,
                    self._all_texts,
                )
            else:
                self._lex = self._lexical_in_memory()
        return self._lex

    def _lexical_in_memory(self) -> LexicalIndex:
        folder = lexical_folder(self.index.directory, self.index.manifest["generation"])
        if folder.is_dir():
            try:
                return LexicalIndex(**load_lexical(folder, self.index.count))
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass  # damaged: built below, and the folder left for the next writer to replace
        return build_lexical(self._all_texts())

    def _all_texts(self, chunk: int = 20_000) -> Iterator[str]:
        """Every paper's embedded text in index order, parsed a chunk of records at a time: neither
        the records (``index.papers()`` would hold all of them, 3 GB at 1M papers) nor all the
        texts are kept (the BM25 build tokenises them a chunk at a time)."""
        count = self.index.count
        for start in range(0, count, chunk):
            yield from (embedded_text(p) for p in self.index.papers_at(range(start, min(start + chunk, count))))

    def use_shortlist(self, min_papers: int = SHORTLIST_MIN_PAPERS) -> bool:
        """Rank a shortlist instead of every paper from now on, when the index is exact and holds
        at least ``min_papers`` papers: for a long-lived process that answers many queries (the
        server calls it once per index generation). Building it takes about 7 s at 96k papers;
        then an id lookup costs a fraction of the exact ranking's CPU time, and its answer is the
        exact one unless a paper outside the shortlist would have ranked (see
        :mod:`paperlike.search.shortlist`). Returns whether rankings use a shortlist.
        """
        if self._shortlist is None and self.index.exact and self.index.count >= max(1, min_papers):
            self._shortlist = DenseShortlist.build(self.index.all_vectors())
        return self._shortlist is not None

    def _rank(self, vector: np.ndarray, terms: Any, k: int, **options: Any) -> Results:
        """Rank for a query vector and its terms (``options``: the fields of :class:`Query`)."""
        hits = rank_index(self.index, self.lexical, Query(vector, terms, k, **options), self._shortlist)
        kept = [h.paper for h in hits if h.paper is not None]
        papers = kept if len(kept) == len(hits) else self.index.papers_at([h.position for h in hits])
        return Results(
            Result.of_paper(rank, paper, h.score, h.cosine, h.why, h.mmr) for rank, (h, paper) in enumerate(zip(hits, papers), 1)
        )

    def _ranked(
        self,
        vector: np.ndarray,
        terms: Any,
        opts: SearchOptions,
        within: frozenset[int] | None,
        exclude: frozenset[int],
        why: Callable[[], str],
        papers: tuple[int, ...] = (),
    ) -> Results:
        if self.use_marks:  # papers the reader marked not liked are never offered again
            exclude = exclude | disliked_positions(self.index)
        return self._rank(
            vector,
            terms,
            opts.k,
            mode=opts.mode,
            exclude=exclude,
            within=within,
            diverse=opts.diverse,
            why_text=why() if opts.why else None,
            papers=papers,
        )

    def embed_query(self, text: str) -> np.ndarray:
        """Embed free text with the index's model.

        Raises:
            QueryError: Empty text.
            ModelMismatchError: The model in use is not the index's.
        """
        text = clean_text(text)
        if not text:
            raise QueryError("empty text query; give some words to search for")
        vector = self.checked_embedder().embed_batch([text])[0]
        if not np.any(vector):
            raise QueryError(
                f"the model finds nothing to search for in '{text[:60]}'; use words (model: {self.index.model.get('name')})"
            )
        return vector

    def papers_results(self, pos: list[int], neg: list[int], opts: SearchOptions) -> Results:
        """Papers like the papers at index positions ``pos`` and unlike those at ``neg`` (none of
        them returned), ranked as ``opts`` says."""
        both = sorted(set(pos) & set(neg))
        if both:
            raise QueryError(f"'{self.index.ids[both[0]]}' is both wanted and not wanted; drop it from the papers or from --not")
        if len(pos) == 1 and not neg:
            vector = self.index.vector(pos[0])
        else:
            # Rocchio: the mean of the wanted vectors minus half the mean of the unwanted ones.
            vector = rocchio(self.index.vectors_at(pos), self.index.vectors_at(neg) if neg else None)
        return self._ranked(
            vector,
            lambda: np.concatenate([self.lexical().paper_terms(p) for p in pos]),
            opts,
            self.theme_positions(opts.theme),
            frozenset(pos) | frozenset(neg),
            lambda: " ".join(p.text for p in self.index.papers_at(pos)),
            tuple(pos),
        )

    def text_results(self, text: str, opts: SearchOptions) -> Results:
        """Papers like a free text, ranked as ``opts`` says."""
        if not isinstance(text, str):
            raise TypeError(f"the text query is a string, not {type(text).__name__}")
        within = self.theme_positions(opts.theme)  # an unknown theme fails before the model loads
        text = clean_text(text)
        embeds = find_mode(opts.mode).dense
        if not embeds and not text:
            raise QueryError("empty text query; give some words to search for")
        vector = self.embed_query(text) if embeds else np.zeros(self.index.dim, np.float32)
        return self._ranked(vector, lambda: self.lexical().term_ids(text), opts, within, frozenset(), lambda: text)
