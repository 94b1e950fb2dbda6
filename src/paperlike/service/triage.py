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
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import IndexCorruptError, QueryError, UnknownPaperError
from ..identity import contradict, identity_keys, normalize_arxiv_id, normalize_doi, strong_ids
from ..records import Paper, paper_text_hash
from ..search.lookup import MIN_PREFIX_WORDS
from ..storage.triage import Mark, TriageStore

if TYPE_CHECKING:  # pragma: no cover
    from ..storage import PaperIndex
    from .open_index import OpenIndex


__all__ = [
    "Mark",
    "MarkChange",
    "triage_keys",
    "same_record",
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
    """The keys under which a mark applies to a paper: its identity keys and its text (a shared
    title counts only where the records' arXiv ids and DOIs agree: see :func:`same_record`)."""
    return [*identity_keys(paper), f"text:{paper_text_hash(paper)}"]


def same_record(a: Paper, b: Paper, key: str) -> bool:
    """Whether two records sharing ``key`` are one paper for triage: a shared arXiv id, DOI or
    text decides; a shared title does unless their arXiv ids or DOIs differ (two surveys may share
    a title). Unlike :func:`paperlike.identity.same_paper`, ids do not count: a batch's ids are
    its file's, not the library's."""
    return not key.startswith("title:") or not contradict([a], [b])


def _seen_keys(paper: Paper) -> list[str]:
    """The keys a shown paper is recorded under: a paper with an arXiv id or DOI records its
    title apart (``title+id:``), so another paper of that title but other ids is not "seen"."""
    keys = triage_keys(paper)
    if any(strong_ids(paper)):
        keys = [f"title+id:{k[6:]}" if k.startswith("title:") else k for k in keys]
    return keys


def _probe_keys(paper: Paper) -> list[str]:
    """The recorded keys that say ``paper`` was shown (see :func:`_seen_keys`)."""
    keys = triage_keys(paper)
    if any(strong_ids(paper)):  # its own ids, its text, or the title of a record without ids
        return keys
    return keys + [f"title+id:{k[6:]}" for k in keys if k.startswith("title:")]


@dataclass(frozen=True)
class MarkChange:
    """What :func:`mark_papers` did to one paper: ``like``, ``dislike`` or ``cleared`` (``none``
    when clearing a paper that had no mark), and whether the paper is in the library."""

    paper: Paper
    change: str
    in_library: bool


def _matches(paper: Paper, text: str) -> bool:
    """Whether ``text`` names ``paper`` exactly: its id, arXiv id, DOI or whole title."""
    arxiv, doi = normalize_arxiv_id(text), normalize_doi(text)
    return (
        paper.id == text
        or (arxiv is not None and normalize_arxiv_id(paper.arxiv_id) == arxiv)
        or (doi is not None and normalize_doi(paper.doi) == doi)
        or paper.title.strip().casefold() == text.casefold()
    )


def _find(opened: OpenIndex, query: str, shown: list[Paper], marked: list[Paper]) -> tuple[Paper, bool]:
    """The paper a query names, exact readings first: a library paper (id, DOI, arXiv id, URL,
    title), a paper ``rank`` showed recently, a paper already marked (so a mark can be changed
    after its paper left the library); then a near miss of a library title or id."""
    text = query.strip()
    try:
        reading = opened.lookup.read(query, prefix_words=MIN_PREFIX_WORDS, near=False)
        return opened.index.papers_at([reading.position])[0], True
    except UnknownPaperError:
        pass
    for paper in [*reversed(shown), *reversed(marked)]:  # the latest first
        if _matches(paper, text):
            return paper, False
    try:
        return opened.paper(query), True
    except UnknownPaperError as missing:
        raise UnknownPaperError(
            f"{str(missing).rstrip('.')}; nor is it among the papers 'paperlike rank' showed recently "
            "or those marked (rank a file first to mark one of its papers)",
            missing.query,
            missing.suggestions,
        ) from None


def mark_papers(opened: OpenIndex, queries: Sequence[str], liked: bool | None) -> list[MarkChange]:
    """Mark papers liked (``True``), not liked (``False``) or clear their marks (``None``).

    Each query names a library paper (id, DOI, arXiv id, URL, title: as ``similar`` reads it), a
    paper ``rank`` showed recently, or a paper already marked. A new mark replaces the paper's old one. All queries are
    resolved before anything is written, so one unknown paper changes nothing.

    Raises:
        QueryError: No query, or a query names no known paper (nothing is marked).
    """
    if isinstance(queries, str) or not queries or not all(isinstance(q, str) and q.strip() for q in queries):
        raise QueryError("name at least one paper to mark (an id, DOI, arXiv id or title), none of them empty")
    store = TriageStore(opened.directory)
    marked = [m.paper for m in store.marks()]
    shown = store.seen().records
    # A paper named twice (by its id and by its title, say) is marked once.
    found = list({(p.id, lib): (p, lib) for p, lib in (_find(opened, q, shown, marked) for q in queries)}.values())
    at = _now()

    def change(current: list[Mark]) -> list[MarkChange]:
        out = []
        for paper, in_library in found:
            keys = triage_keys(paper)
            before = len(current)
            current[:] = [m for m in current if not _same_paper(m.paper, paper, keys)]
            if liked is None:
                out.append(MarkChange(paper, "cleared" if len(current) < before else "none", in_library))
            else:
                current.append(Mark(paper, liked, at))
                out.append(MarkChange(paper, "like" if liked else "dislike", in_library))
        return out

    return store.update_marks(change)


def marks(opened: OpenIndex) -> list[Mark]:
    """The index's marks, oldest first."""
    return TriageStore(opened.directory).marks()


def _same_paper(a: Paper, b: Paper, b_keys: list[str]) -> bool:
    a_keys = set(triage_keys(a))
    return any(k in a_keys and same_record(a, b, k) for k in b_keys)


@dataclass(frozen=True)
class MarkedSet:
    """The marks of an index, ready to use: key -> mark, and the marked papers of each kind."""

    by_key: dict[str, Mark]
    liked: list[Paper]
    disliked: list[Paper]

    def __len__(self) -> int:
        return len(self.liked) + len(self.disliked)

    def mark_of(self, paper: Paper) -> bool | None:
        """True (liked), False (not liked) or None (no mark) for any record of a paper."""
        for key in triage_keys(paper):
            mark = self.by_key.get(key)
            if mark is not None and same_record(mark.paper, paper, key):
                return mark.liked
        return None

    def vectors(self, vectors_of: Callable[[list[Paper]], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of the liked and of the not-liked papers, from ``vectors_of`` (papers -> rows)."""
        both = vectors_of(self.liked + self.disliked) if len(self) else np.zeros((0, 0), np.float32)
        return both[: len(self.liked)], both[len(self.liked) :]


def marked_set(opened: OpenIndex) -> MarkedSet:
    """The index's marks as a :class:`MarkedSet`; a damaged marks file is logged and counts as
    no marks, so ranking goes on."""
    try:
        found = marks(opened)
    except IndexCorruptError as exc:
        log.warning("%s", exc)
        found = []
    by_key = {key: mark for mark in found for key in triage_keys(mark.paper)}
    return MarkedSet(by_key, [m.paper for m in found if m.liked], [m.paper for m in found if not m.liked])


# (index folder, generation, marks version) -> positions: a served index answers many queries
# between two marks, and finding marked papers by title or text reads every record once.
_DISLIKED: OrderedDict[tuple, frozenset[int]] = OrderedDict()
_DISLIKED_KEPT = 8


def disliked_positions(index: PaperIndex) -> frozenset[int]:
    """Positions in ``index`` of the papers marked not liked: the record with the mark's id when
    it is the same paper, else the records sharing an identity key or the text with it (see
    :func:`same_record`), so a mark outlives a rebuild that renamed its paper. A damaged marks
    file is logged and counts as no marks."""
    store = TriageStore(index.directory)
    try:
        key = (str(index.directory), index.manifest.get("generation"), store.marks_version())
        if key in _DISLIKED:
            return _DISLIKED[key]
        found = [m.paper for m in store.marks() if not m.liked]
    except (IndexCorruptError, OSError) as exc:
        log.warning("%s", exc)
        return frozenset()
    out = _positions_of(index, found) if found else frozenset()
    _DISLIKED[key] = out
    while len(_DISLIKED) > _DISLIKED_KEPT:
        _DISLIKED.popitem(last=False)
    return out


def _positions_of(index: PaperIndex, papers: list[Paper]) -> frozenset[int]:
    out: set[int] = set()
    rest = []
    for paper in papers:
        pos = index.position(paper.id)
        keys = triage_keys(paper)
        if pos is not None and _same_paper(index.papers_at([pos])[0], paper, keys):
            out.add(pos)
        else:
            rest.append((paper, keys))
    if rest:  # by identity or text: every record's keys, once
        owners: dict[str, list[int]] = {}
        library = index.papers()
        for pos, record in enumerate(library):
            for k in triage_keys(record):
                owners.setdefault(k, []).append(pos)
        for paper, keys in rest:
            out.update(p for k in keys for p in owners.get(k, ()) if same_record(library[p], paper, k))
    return frozenset(out)


def split_unseen(opened: OpenIndex, papers: Sequence[Paper]) -> tuple[list[Paper], list[Paper]]:
    """``(not shown before, shown before)``: papers an earlier ``rank`` showed, by identity or text."""
    seen = TriageStore(opened.directory).seen().keys
    fresh: list[Paper] = []
    shown: list[Paper] = []
    for paper in papers:
        (shown if any(k in seen for k in _probe_keys(paper)) else fresh).append(paper)
    return fresh, shown


def remember_shown(opened: OpenIndex, papers: Sequence[Paper]) -> bool:
    """Record ``papers`` as shown (for ``--unseen``); best effort: False when the folder cannot
    be written (read-only, busy), since the ranking itself does not depend on it."""
    if not papers:
        return True
    try:
        TriageStore(opened.directory).add_seen(list(papers), [_seen_keys(p) for p in papers], _now())
    except Exception:  # noqa: BLE001 - a read-only or busy folder ranks as before, without remembering
        return False
    return True


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _check_date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    found = _DATE.fullmatch(text)
    try:
        if not found:
            raise ValueError
        year, month, day = int(found.group(1)), int(found.group(2) or 1), int(found.group(3) or 1)
        _dt.date(year, month, day)  # a month or day that does not exist
    except ValueError:
        raise QueryError(
            f"{what} must be a year or a date, YYYY, YYYY-MM or YYYY-MM-DD (got {text[:40]!r}); e.g. {what} 2024-06"
        ) from None
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
    if low is not None and high is not None and not _after(high, low):
        raise QueryError(f"--until {high} is before --since {low}: no date is in that range; swap them")
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


def forget_seen(opened: OpenIndex) -> int:
    """Forget which papers were shown; returns how many keys were held."""
    return TriageStore(opened.directory).forget_seen()
