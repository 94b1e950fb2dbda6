"""Daily triage that remembers: papers marked liked / not liked, and papers already shown.

A mark belongs to a *paper*, not to a file: it is kept with the paper's record and matched by the
paper's identity keys (arXiv id, DOI, normalised title; see :mod:`paperlike.identity`) and its
text, so a paper liked from Monday's page is recognised in Tuesday's listing, in the library, or
after a rebuild. ``rank`` records the papers it showed (:func:`remember_shown`) and can hide them
later (:func:`split_unseen`); the marks steer ``rank`` (:mod:`paperlike.search.marks`) and
``similar`` (papers marked not liked are left out of its answers).
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import IndexCorruptError, QueryError, UnknownPaperError
from ..identity import identity_keys, normalize_arxiv_id, normalize_doi
from ..records import Paper, paper_text_hash
from ..search.lookup import PaperLookup
from ..storage.triage import Mark, TriageStore
from .catalog import paper_lookup

if TYPE_CHECKING:  # pragma: no cover
    from ..storage import PaperIndex


class _OpenIndex(Protocol):
    """What triage needs of a :class:`~paperlike.service.recommender.Recommender` (a protocol:
    the ranking mixin imports this module, so it cannot import the Recommender)."""

    index: PaperIndex

    @property
    def directory(self) -> Path: ...

    def paper(self, query: str) -> Paper: ...


__all__ = [
    "Mark",
    "MarkChange",
    "triage_keys",
    "mark_papers",
    "marks",
    "MarkedSet",
    "marked_set",
    "split_unseen",
    "remember_shown",
    "forget_seen",
    "paper_date",
    "in_dates",
]


log = logging.getLogger("paperlike")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def triage_keys(paper: Paper) -> list[str]:
    """The keys under which a mark or a "shown" applies to a paper: its identity keys and its text."""
    return [*identity_keys(paper), f"text:{paper_text_hash(paper)}"]


@dataclass(frozen=True)
class MarkChange:
    """What :func:`mark_papers` did to one paper: ``like``, ``dislike`` or ``cleared`` (``none``
    when clearing a paper that had no mark), and whether the paper is in the library."""

    paper: Paper
    change: str
    in_library: bool


def _find(rec: _OpenIndex, query: str, shown: list[Paper]) -> tuple[Paper, bool]:
    """The paper a query names: a library paper (as ``similar`` reads it), else one ``rank``
    showed recently (by id, arXiv id, DOI or whole title)."""
    try:
        return rec.paper(query), True
    except UnknownPaperError as missing:
        text = query.strip()
        arxiv, doi, folded = normalize_arxiv_id(text), normalize_doi(text), text.casefold()
        for paper in reversed(shown):  # the latest showing first
            if (
                paper.id == text
                or (arxiv is not None and normalize_arxiv_id(paper.arxiv_id) == arxiv)
                or (doi is not None and normalize_doi(paper.doi) == doi)
                or paper.title.strip().casefold() == folded
            ):
                return paper, False
        raise UnknownPaperError(
            f"{str(missing).rstrip('.')}; nor is it among the papers 'paperlike rank' showed recently "
            "(rank a file first to mark one of its papers)",
            missing.query,
            missing.suggestions,
        ) from None


def mark_papers(rec: _OpenIndex, queries: Sequence[str], liked: bool | None) -> list[MarkChange]:
    """Mark papers liked (``True``), not liked (``False``) or clear their marks (``None``).

    Each query names a library paper (id, DOI, arXiv id, URL, title: as ``similar`` reads it) or a
    paper ``rank`` showed recently. A new mark replaces the paper's old one. All queries are
    resolved before anything is written, so one unknown paper changes nothing.

    Raises:
        QueryError: No query, or a query names no known paper (nothing is marked).
    """
    if isinstance(queries, str) or not queries:
        raise QueryError("name at least one paper to mark (an id, DOI, arXiv id or title)")
    store = TriageStore(rec.directory)
    shown = store.seen().records
    found = [_find(rec, q, shown) for q in queries]
    at = _now()

    def change(current: list[Mark]) -> list[MarkChange]:
        out = []
        for paper, in_library in found:
            keys = set(triage_keys(paper))
            before = len(current)
            current[:] = [m for m in current if keys.isdisjoint(triage_keys(m.paper))]
            if liked is None:
                out.append(MarkChange(paper, "cleared" if len(current) < before else "none", in_library))
            else:
                current.append(Mark(paper, liked, at))
                out.append(MarkChange(paper, "like" if liked else "dislike", in_library))
        return out

    return store.update_marks(change)


def marks(rec: _OpenIndex) -> list[Mark]:
    """The index's marks, oldest first."""
    return TriageStore(rec.directory).marks()


@dataclass(frozen=True)
class MarkedSet:
    """The marks of an index, ready to use: key -> liked, and the marked papers of each kind."""

    by_key: dict[str, bool]
    liked: list[Paper]
    disliked: list[Paper]

    def __len__(self) -> int:
        return len(self.liked) + len(self.disliked)

    def mark_of(self, paper: Paper) -> bool | None:
        """True (liked), False (not liked) or None (no mark) for any record of a paper."""
        return next((self.by_key[k] for k in triage_keys(paper) if k in self.by_key), None)

    def vectors(self, vectors_of: Callable[[list[Paper]], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of the liked and of the not-liked papers, from ``vectors_of`` (papers -> rows)."""
        both = vectors_of(self.liked + self.disliked) if len(self) else np.zeros((0, 0), np.float32)
        return both[: len(self.liked)], both[len(self.liked) :]


def marked_set(rec: _OpenIndex) -> MarkedSet:
    """The index's marks as a :class:`MarkedSet` (a later mark of a paper wins); a damaged marks
    file is logged and counts as no marks, so ranking goes on."""
    by_key: dict[str, bool] = {}
    latest: dict[str, Mark] = {}
    try:
        found = marks(rec)
    except IndexCorruptError as exc:
        log.warning("%s", exc)
        found = []
    for mark in found:
        keys = triage_keys(mark.paper)
        for key in keys:
            by_key[key] = mark.liked
        latest[keys[-1]] = mark
    chosen = list(latest.values())
    return MarkedSet(by_key, [m.paper for m in chosen if m.liked], [m.paper for m in chosen if not m.liked])


def disliked_positions(index: PaperIndex) -> frozenset[int]:
    """Positions in ``index`` of the papers marked not liked: found by id, else by arXiv id or
    DOI, and kept when the index's record there is the same paper (a shared identity key or
    text). A damaged marks file is logged and counts as no marks."""
    try:
        found = [m.paper for m in TriageStore(index.directory).marks() if not m.liked]
    except IndexCorruptError as exc:
        log.warning("%s", exc)
        return frozenset()
    out = set()
    lookup: PaperLookup | None = None
    for paper in found:
        pos = index.position(paper.id)
        if pos is None and (paper.arxiv_id or paper.doi):
            lookup = lookup or paper_lookup(index)  # built only when a mark needs it
            pos = _by_identifier(lookup, paper)
        if pos is not None and not set(triage_keys(index.papers_at([pos])[0])).isdisjoint(triage_keys(paper)):
            out.add(pos)
    return frozenset(out)


def _by_identifier(lookup: PaperLookup, paper: Paper) -> int | None:
    for ident in (paper.arxiv_id, paper.doi):
        if ident:
            try:
                return lookup.read(ident, near=False).position
            except QueryError:
                continue
    return None


def split_unseen(rec: _OpenIndex, papers: Sequence[Paper]) -> tuple[list[Paper], list[Paper]]:
    """``(not shown before, shown before)``: papers an earlier ``rank`` showed, by identity or text."""
    seen = TriageStore(rec.directory).seen().keys
    fresh: list[Paper] = []
    shown: list[Paper] = []
    for paper in papers:
        (shown if any(k in seen for k in triage_keys(paper)) else fresh).append(paper)
    return fresh, shown


def remember_shown(rec: _OpenIndex, papers: Sequence[Paper]) -> bool:
    """Record ``papers`` as shown (for ``--unseen``); best effort: False when the folder cannot
    be written (read-only, busy), since the ranking itself does not depend on it."""
    if not papers:
        return True
    try:
        TriageStore(rec.directory).add_seen(list(papers), [triage_keys(p) for p in papers], _now())
    except Exception:  # noqa: BLE001 - a read-only or busy folder ranks as before, without remembering
        return False
    return True


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _check_date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not _DATE.fullmatch(text):
        raise QueryError(f"{what} must be a year or a date, YYYY, YYYY-MM or YYYY-MM-DD (got {text[:40]!r}); e.g. {what} 2024-06")
    return text


def paper_date(paper: Paper) -> str | None:
    """The paper's date as ``YYYY[-MM[-DD]]``: its ``date`` field where that is one, else its year."""
    found = _DATE.match((paper.field("date") or "").strip()[:10])
    if found:
        return found.group(0)
    return None if paper.year is None else f"{paper.year:04d}"


def in_dates(papers: Sequence[Paper], since: str | None = None, until: str | None = None) -> list[bool]:
    """Whether each paper's date lies in ``[since, until]``, compared at the coarser of the two
    precisions (a paper of 2024 is within ``--since 2024-06``); an undated paper is not, when a
    bound is given.

    Raises:
        QueryError: A bound is not ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
    """
    low, high = _check_date(since, "--since"), _check_date(until, "--until")
    if low is None and high is None:
        return [True] * len(papers)
    out = []
    for paper in papers:
        date = paper_date(paper)
        out.append(date is not None and _after(date, low) and _after(high, date))
    return out


def _after(later: str | None, earlier: str | None) -> bool:
    """``later >= earlier`` at the coarser precision of the two; True when either is None."""
    if later is None or earlier is None:
        return True
    n = min(len(later), len(earlier))
    return later[:n] >= earlier[:n]


def forget_seen(rec: _OpenIndex) -> int:
    """Forget which papers were shown; returns how many keys were held."""
    return TriageStore(rec.directory).forget_seen()
