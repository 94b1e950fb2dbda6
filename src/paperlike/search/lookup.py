"""Which indexed paper a query names: an exact id, a DOI / arXiv id / URL of the paper, an exact
title, a unique title prefix, or a close misspelling of a title or id (all case-insensitive)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import AmbiguousQueryError, QueryError, UnknownPaperError
from ..records import Paper
from ..text import clean_text, fold
from .identifiers import Identifier, paper_keys, parse_identifier

__all__ = ["PaperLookup"]

# rapidfuzz ratio (0-100) above which a near-miss title or id is taken as meant.
_FUZZY_ACCEPT = 90.0
_MIN_PREFIX = 3


class PaperLookup:
    """Resolves queries against the ids and titles of one index.

    Args:
        ids: Paper ids in index order.
        titles: Paper titles, same order.
        position: Fast exact-id lookup (the index's own).
        containing: Returns ``(position, record)`` of the papers whose stored record contains a
            text (any case); only called when a query is a DOI, arXiv id or URL, so id and title
            lookups never read the full records.
    """

    def __init__(
        self,
        ids: Sequence[str],
        titles: Sequence[str],
        position: Callable[[str], int | None],
        containing: Callable[[str], Sequence[tuple[int, Paper]]] | None = None,
    ):
        self.ids = ids
        self.titles = titles
        self.position = position
        self.containing = containing
        self._folded: list[str] | None = None

    def folded_titles(self) -> list[str]:
        if self._folded is None:
            self._folded = [fold(t) for t in self.titles]
        return self._folded

    def _candidates(self, positions: Sequence[int]) -> list[tuple[str, str]]:
        return [(self.ids[p], self.titles[p]) for p in positions]

    def _ambiguous(self, query: str, positions: Sequence[int], how: str) -> AmbiguousQueryError:
        listing = "; ".join(f"{pid} ({title[:60]})" for pid, title in self._candidates(positions[:6]))
        more = f"; and {len(positions) - 6} more" if len(positions) > 6 else ""
        return AmbiguousQueryError(
            f"'{query}' {how} {len(positions)} papers: {listing}{more}; give one of these ids, a longer title, "
            "or --text to search it as free text",
            query,
            self._candidates(positions),
        )

    def find(self, query: str) -> int:
        """Position of the paper a query names.

        Raises:
            QueryError: Empty query.
            AmbiguousQueryError: The query matches several titles equally well.
            UnknownPaperError: Nothing matches (carries the closest titles).
        """
        if not isinstance(query, str):
            raise TypeError(f"a query is a string (paper id, title, DOI or arXiv id), not {type(query).__name__}")
        q = clean_text(query)
        if not q:
            raise QueryError("empty query; give a paper id, a title, or free text with --text")
        pos = self.position(q)
        if pos is None:
            ident = parse_identifier(q)
            if ident is not None:
                return self._identified(q, ident)
            pos = self._exact(q)
        if pos is None:
            pos = self._fuzzy(q)
        return pos

    def _identified(self, q: str, ident: Identifier) -> int:
        """The paper with this DOI, arXiv id or URL (a paper id equal to it, in any case, first)."""
        folded = q.casefold()
        for i, pid in enumerate(self.ids):
            if pid.casefold() == folded:
                return i
        # Every record that names this identifier contains its normalised text (DOIs and arXiv
        # ids in any case, with prefixes or versions around it): check those records only.
        candidates = self.containing(ident.value) if self.containing is not None else ()
        found = [i for i, paper in candidates if ident.key in paper_keys(paper)]
        if len(found) > 1:
            raise self._ambiguous(q, found, f"is the {ident.label} of")
        if not found:
            raise UnknownPaperError(
                f"no paper with {ident.describe()} in this index ({len(self.ids)} papers); add it with: "
                "paperlike add FILE (a BibTeX, arXiv or JSONL record of it), or search its title as free text",
                q,
                [],
            )
        return found[0]

    def _exact(self, q: str) -> int | None:
        """A case-insensitive id, an exact title or a unique title prefix."""
        folded = fold(q)
        for i, pid in enumerate(self.ids):
            if pid.casefold() == folded:
                return i
        titles = self.folded_titles()
        exact = [i for i, t in enumerate(titles) if t == folded]
        if len(exact) == 1:
            return exact[0]
        if exact:
            raise self._ambiguous(q, exact, "is the title of")
        if len(folded) < _MIN_PREFIX:
            return None
        prefixed = [i for i, t in enumerate(titles) if t.startswith(folded)]
        if len(prefixed) > 1:
            raise self._ambiguous(q, prefixed, "starts the titles of")
        return prefixed[0] if prefixed else None

    def _fuzzy(self, q: str) -> int:
        """The one title or id within :data:`_FUZZY_ACCEPT` of the query, else an error with the closest."""
        from rapidfuzz import fuzz, process

        folded = fold(q)
        titles = self.folded_titles()
        keys = titles + [pid.casefold() for pid in self.ids]
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
        listing = "; ".join(f"{self.ids[i]} ({self.titles[i][:60]})" for i in near)
        raise UnknownPaperError(
            f"no paper with id or title '{q}'; closest: {listing}; list all with: paperlike papers",
            q,
            [self.titles[i] for i in near],
        )
