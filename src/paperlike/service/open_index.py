"""One open index and what queries over it load on first use: the paper lookup, the index's
checked model, the BM25 / TF-IDF arrays and the ranking shortlist.

Answering (:mod:`.answers`), ranking (:mod:`.ranking`), themes (:mod:`.themes`), triage
(:mod:`.triage`) and the new-paper ranking (:mod:`.incoming`) take an :class:`OpenIndex`; the
public :class:`~paperlike.service.recommender.Recommender` wraps one. Everything here is a
public method, so no module calls another's private helpers. :class:`OpenIndexView` passes an
open index's parts on, for the public wrapper.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..embedding import Embedder, check_model, get_embedder
from ..errors import QueryError
from ..records import Paper, embedded_text
from ..search.lexical import LexicalIndex, load_or_build_lexical
from ..search.lookup import PaperLookup
from ..search.shortlist import SHORTLIST_MIN_PAPERS, DenseShortlist
from ..storage import PaperIndex
from ..text import clean_text
from .catalog import paper_lookup

__all__ = ["OpenIndex", "OpenIndexView"]


@dataclass
class OpenIndex:
    """An index opened for queries.

    Attributes:
        index: The loaded :class:`~paperlike.storage.PaperIndex`.
        embedder: Model for free-text queries and seeds; default: the index's, loaded on first use.
        use_marks: Leave papers the reader marked not liked (``paperlike mark``) out of rankings.
        shortlist: The ranking shortlist, once :meth:`use_shortlist` made one (None: every paper is ranked).
    """

    index: PaperIndex
    embedder: Embedder | None = None
    use_marks: bool = True
    shortlist: DenseShortlist | None = field(default=None, repr=False)
    _lookup: PaperLookup | None = field(default=None, repr=False)
    _model_checked: bool = field(default=False, repr=False)
    _lex: LexicalIndex | None = field(default=None, repr=False)

    @property
    def directory(self) -> Path:
        """The index directory."""
        return self.index.directory

    # -- papers by name ------------------------------------------------------------------------

    @property
    def lookup(self) -> PaperLookup:
        """The index's :class:`~paperlike.search.lookup.PaperLookup` (made on first use)."""
        if self._lookup is None:
            self._lookup = paper_lookup(self.index)
        return self._lookup

    def find(self, query: str) -> int:
        """Position of the paper a query names (see :meth:`PaperLookup.find`)."""
        return self.lookup.find(query)

    def paper(self, query: str) -> Paper:
        """The full record of the paper a query names."""
        return self.index.papers_at([self.find(query)])[0]

    # -- the model -----------------------------------------------------------------------------

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

    def embed_query(self, text: str) -> np.ndarray:
        """Embed free text with the index's model.

        Raises:
            QueryError: Empty text, or text the model finds nothing in.
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

    # -- the lexical side ----------------------------------------------------------------------

    def lexical(self, save: bool = True) -> LexicalIndex:
        """The BM25 index of this index's papers (built on first use and saved beside it through
        the storage layer's one lazy path for derived files, see :func:`paperlike.storage.writer.write_derived`).

        Args:
            save: False: load it when saved, else build it in memory only; the index folder is
                neither written nor cleaned (a read-only server, a read-only mount).
        """
        if self._lex is None:
            generation = self.index.manifest["generation"]
            self._lex = load_or_build_lexical(self.index.directory, generation, self.index.count, self.all_texts, save)
        return self._lex

    def all_texts(self, chunk: int = 20_000) -> Iterator[str]:
        """Every paper's embedded text in index order, parsed a chunk of records at a time: neither
        the records (``index.papers()`` would hold all of them, 3 GB at 1M papers) nor all the
        texts are kept (the BM25 build tokenises them a chunk at a time)."""
        count = self.index.count
        for start in range(0, count, chunk):
            yield from (embedded_text(p) for p in self.index.papers_at(range(start, min(start + chunk, count))))

    # -- the shortlist -------------------------------------------------------------------------

    def use_shortlist(self, min_papers: int = SHORTLIST_MIN_PAPERS) -> bool:
        """Rank a shortlist instead of every paper from now on, when the index is exact and holds
        at least ``min_papers`` papers: for a long-lived process that answers many queries (the
        server calls it once per index generation). Building it takes about 7 s at 96k papers;
        then an id lookup costs a fraction of the exact ranking's CPU time, and its answer is the
        exact one unless a paper outside the shortlist would have ranked (see
        :mod:`paperlike.search.shortlist`). Returns whether rankings use a shortlist.
        """
        if self.shortlist is None and self.index.exact and self.index.count >= max(1, min_papers):
            self.shortlist = DenseShortlist.build(self.index.all_vectors())
        return self.shortlist is not None


class OpenIndexView:
    """An open index's parts, passed on unchanged: the base of the public
    :class:`~paperlike.service.recommender.Recommender`, which holds the :class:`OpenIndex` as ``opened``."""

    opened: OpenIndex

    @property
    def index(self) -> PaperIndex:
        """The loaded index."""
        return self.opened.index

    @property
    def embedder(self) -> Embedder | None:
        """The model for free-text queries (None until first needed, unless one was given)."""
        return self.opened.embedder

    @embedder.setter
    def embedder(self, value: Embedder | None) -> None:
        self.opened.embedder = value

    @property
    def use_marks(self) -> bool:
        """Whether papers marked not liked are left out of the answers."""
        return self.opened.use_marks

    @use_marks.setter
    def use_marks(self, value: bool) -> None:
        self.opened.use_marks = value

    @property
    def _shortlist(self) -> DenseShortlist | None:  # older scripts and benchmarks read and swap it
        return self.opened.shortlist

    @_shortlist.setter
    def _shortlist(self, value: DenseShortlist | None) -> None:
        self.opened.shortlist = value

    @property
    def directory(self) -> Path:
        """The index directory."""
        return self.index.directory

    def find(self, query: str) -> int:
        """Position of the paper a query names: an id, a DOI, an arXiv id (any version, old-style
        ids too), an arXiv / doi.org / other URL of the paper, a title, a unique title prefix or
        a near-miss (see :class:`~paperlike.search.lookup.PaperLookup`).

        Raises:
            TypeError: ``query`` is not a string.
            QueryError: Empty query.
            AmbiguousQueryError: The query matches several titles equally well.
            UnknownPaperError: Nothing matches (carries the closest titles).
        """
        return self.opened.find(query)

    @property
    def lookup(self) -> PaperLookup:
        """The index's :class:`~paperlike.search.lookup.PaperLookup` (made on first use)."""
        return self.opened.lookup

    def paper(self, query: str) -> Paper:
        """The full record of the paper a query names (see :meth:`find`)."""
        return self.opened.paper(query)

    def checked_embedder(self) -> Embedder:
        """The index's model, loaded on first use and checked against the index (see :class:`OpenIndex`)."""
        return self.opened.checked_embedder()

    def embed_query(self, text: str) -> np.ndarray:
        """Embed free text with the index's model (see :meth:`OpenIndex.embed_query`)."""
        return self.opened.embed_query(text)

    def lexical(self, save: bool = True) -> LexicalIndex:
        """The BM25 index of this index's papers (see :meth:`OpenIndex.lexical`)."""
        return self.opened.lexical(save)

    def use_shortlist(self, min_papers: int = SHORTLIST_MIN_PAPERS) -> bool:
        """Rank a shortlist from now on (see :meth:`OpenIndex.use_shortlist`)."""
        return self.opened.use_shortlist(min_papers)
