"""Which indexed paper a query names: an exact id, a DOI / arXiv id / URL of the paper, a whole
title, a unique title prefix, or a close misspelling of a whole title or id (ids in any case;
titles in any case and punctuation).

The rule for a query that may also be free text (``paperlike similar QUERY``): it names a paper
when it is an id, DOI, arXiv id or URL, a whole title, a close misspelling of one of those, or the
start of exactly one title with at least :data:`MIN_PREFIX_WORDS` words; anything else is free
text. Where only a paper can be meant (``find``, ``--paper``, ``--not``, several papers,
``remove``), a unique title start of any length (3 characters or more) names it too.

The names of a record merged into a paper (``dupes --merge``: its id, DOI, arXiv id, URL and whole
title) name that paper, when no paper of the index has the name itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import AmbiguousQueryError, QueryError, UnknownPaperError
from ..records import Paper
from ..storage.aliases import Alias
from ..text import clean_text, cut_words, fold
from .aliases import AliasNames
from .identifiers import Identifier, paper_keys, parse_identifier

__all__ = ["PaperLookup", "Reading", "MIN_PREFIX_WORDS", "loose", "word_count"]

# rapidfuzz ratio (0-100) above which a near-miss title or id is taken as meant.
_FUZZY_ACCEPT = 90.0
_MIN_PREFIX = 3
# A title start shorter than this many words is as likely a topic ("neural", "graph neural")
# as a paper, so a query that may be free text needs this many to be read as a title.
MIN_PREFIX_WORDS = 3
_NOT_WORD = re.compile(r"[\W_]+")


def loose(text: str) -> str:
    """A title as compared: case folded, punctuation dropped, words separated by one space."""
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())


def word_count(query: str) -> int:
    """Words of a query as typed: runs between spaces that hold a letter or digit."""
    return sum(1 for w in query.split() if any(c.isalnum() for c in w))


@dataclass(frozen=True)
class Reading:
    """A query read as naming one paper.

    Attributes:
        position: The paper's position in the index.
        how: Which name of the paper the query was: ``"id"``, ``"arxiv_id"``, ``"doi"``,
            ``"url"``, ``"title"``, ``"title_prefix"``, ``"near_match"`` (a close misspelling
            of its whole title or id) or ``"alias"`` (a name of a record merged into it).
    """

    position: int
    how: str


class PaperLookup:
    """Resolves queries against the ids and titles of one index.

    Args:
        ids: Paper ids in index order.
        titles: Paper titles, same order.
        position: Fast exact-id lookup (the index's own).
        containing: Returns ``(position, record)`` of the papers whose stored record contains a
            text (any case); only called when a query is a DOI, arXiv id or URL, so id and title
            lookups never read the full records.
        aliases: The names of records merged into papers of the index.
    """

    def __init__(
        self,
        ids: Sequence[str],
        titles: Sequence[str],
        position: Callable[[str], int | None],
        containing: Callable[[str], Sequence[tuple[int, Paper]]] | None = None,
        aliases: Sequence[Alias] = (),
    ):
        self.ids = ids
        self.titles = titles
        self.position = position
        self.containing = containing
        self.aliases = AliasNames(aliases, loose)
        self._folded: list[str] | None = None

    def folded_titles(self) -> list[str]:
        """The titles as compared (:func:`loose`), computed once."""
        if self._folded is None:
            self._folded = [loose(t) for t in self.titles]
        return self._folded

    def title_starts(self, query: str) -> list[int]:
        """Positions of the titles that start with ``query`` (as compared; 3 characters or more)."""
        start = loose(clean_text(query)) if isinstance(query, str) else ""
        if len(start) < _MIN_PREFIX:
            return []
        return [i for i, t in enumerate(self.folded_titles()) if t.startswith(start)]

    def _candidates(self, positions: Sequence[int]) -> list[tuple[str, str]]:
        return [(self.ids[p], self.titles[p]) for p in positions]

    def _ambiguous(self, query: str, positions: Sequence[int], how: str) -> AmbiguousQueryError:
        listing = "; ".join(f"{pid} ({cut_words(title)})" for pid, title in self._candidates(positions[:6]))
        more = f"; and {len(positions) - 6} more" if len(positions) > 6 else ""
        return AmbiguousQueryError(
            f"'{query}' {how} {len(positions)} papers: {listing}{more}; give one of these ids, a longer title, "
            "or --text to search it as free text",
            query,
            self._candidates(positions),
        )

    def _merged(self, q: str, into: Sequence[str]) -> Reading | None:
        """The paper that the records named ``q`` were merged into; None when there is none."""
        positions = list(dict.fromkeys(p for i in into if (p := self.position(i)) is not None))
        if len(positions) > 1:
            raise self._ambiguous(q, positions, "is a name of records merged into")
        return Reading(positions[0], "alias") if positions else None

    def find(self, query: str) -> int:
        """Position of the paper a query names (a unique title start of any length too).

        Raises:
            QueryError: Empty query.
            AmbiguousQueryError: The query matches several titles equally well.
            UnknownPaperError: Nothing matches (carries the closest titles).
        """
        return self.read(query).position

    def read(self, query: str, *, prefix_words: int = 0, near: bool = True) -> Reading:
        """The paper a query names and how it named it.

        Args:
            query: An id, DOI, arXiv id, URL, title or title start.
            prefix_words: The fewest words a title start needs to name a paper
                (:data:`MIN_PREFIX_WORDS` where the query may be free text; 0: any unique start).
            near: Whether a close misspelling of a whole title or id names the paper (not for
                ``remove``: a typo must not delete the paper it resembles).

        Raises:
            As :meth:`find`.
        """
        if not isinstance(query, str):
            raise TypeError(f"a query is a string (paper id, title, DOI or arXiv id), not {type(query).__name__}")
        q = clean_text(query)
        if not q:
            raise QueryError("empty query; give a paper id, a title, or free text with --text")
        pos = self.position(q)
        if pos is not None:
            return Reading(pos, "id")
        merged = self._merged(q, [into]) if (into := self.aliases.exact_id(q)) is not None else None
        if merged is not None:
            return merged
        ident = parse_identifier(q)
        if ident is not None:
            return self._identified(q, ident)
        return self._exact(q, prefix_words) or Reading(self._fuzzy(q, near), "near_match")

    def _identified(self, q: str, ident: Identifier) -> Reading:
        """The paper with this DOI, arXiv id or URL (a paper id equal to it, in any case, first)."""
        folded = q.casefold()
        for i, pid in enumerate(self.ids):
            if pid.casefold() == folded:
                return Reading(i, "id")
        # Every record that names this identifier contains its normalised text (DOIs and arXiv
        # ids in any case, with prefixes or versions around it): check those records only.
        candidates = self.containing(ident.value) if self.containing is not None else ()
        found = [i for i, paper in candidates if ident.key in paper_keys(paper)]
        if len(found) > 1:
            raise self._ambiguous(q, found, f"is the {ident.label} of")
        if not found:
            merged = self._merged(q, self.aliases.folded_id(q) or self.aliases.identifier(ident.key))
            if merged is not None:  # (a name of a record merged into a paper)
                return merged
            raise UnknownPaperError(
                f"no paper with {ident.describe()} in this index ({len(self.ids)} papers); add it with: "
                "paperlike add FILE (a BibTeX, arXiv or JSONL record of it), or search its title as free text",
                q,
                [],
            )
        return Reading(found[0], {"arxiv": "arxiv_id"}.get(ident.kind, ident.kind))

    def _exact(self, q: str, prefix_words: int) -> Reading | None:
        """A case-insensitive id, a whole title or a unique title start of ``prefix_words`` words or more."""
        folded = fold(q)
        for i, pid in enumerate(self.ids):
            if pid.casefold() == folded:
                return Reading(i, "id")
        merged = self._merged(q, self.aliases.folded_id(q))
        if merged is not None:
            return merged
        start = loose(q)
        if not start:  # punctuation only: names no title
            return None
        titles = self.folded_titles()
        exact = [i for i, t in enumerate(titles) if t == start]
        if len(exact) == 1:
            return Reading(exact[0], "title")
        if exact:
            raise self._ambiguous(q, exact, "is the title of")
        return self._merged(q, self.aliases.title(start)) or self._prefixed(q, start, prefix_words)

    def _prefixed(self, q: str, start: str, prefix_words: int) -> Reading | None:
        """The one title that starts with ``start`` (as compared), when ``q`` is long enough."""
        if len(start) < _MIN_PREFIX or word_count(q) < prefix_words:
            return None
        titles = self.folded_titles()
        prefixed = [i for i, t in enumerate(titles) if t.startswith(start)]
        if len(prefixed) > 1:
            raise self._ambiguous(q, prefixed, "starts the titles of")
        return Reading(prefixed[0], "title_prefix") if prefixed else None

    def _fuzzy(self, q: str, accept: bool = True) -> int:
        """The one title or id within :data:`_FUZZY_ACCEPT` of the query (when ``accept``), else an
        error with the closest."""
        from rapidfuzz import fuzz, process

        folded = loose(q)
        titles = self.folded_titles()
        keys = titles + [loose(pid) for pid in self.ids]
        best = process.extract(folded, keys, scorer=fuzz.ratio, limit=None, score_cutoff=_FUZZY_ACCEPT) if accept else []
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
        listing = "; ".join(f"{self.ids[i]} ({cut_words(self.titles[i])})" for i in near)
        raise UnknownPaperError(
            f"no paper with id or title '{q}'; closest: {listing}; list all with: paperlike papers",
            q,
            [self.titles[i] for i in near],
        )
