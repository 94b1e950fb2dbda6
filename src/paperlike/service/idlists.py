"""Lists of papers by name (``today_ids.txt``: arXiv ids, DOIs, URLs or titles, one a line).

Such a file has no abstracts, so only papers already in the library can come of it (see
:mod:`paperlike.readers.idlist` for how one is recognised). Each entry is looked up as ``remove``
looks up a name: an id, DOI, arXiv id, URL, whole title, or the start of exactly one title with
at least 3 words; no close misspellings (a list names papers exactly). An entry the library does
not have is an error that names it and says which file formats carry the metadata needed; with
``online`` (``rank today_ids.txt --online``), the arXiv ids and DOIs among those are fetched
(:mod:`paperlike.online`), and only what is found neither in the library nor online is an error.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import IdListError, UnknownPaperError
from ..identity import merge_duplicates
from ..readers.idlist import PAPER_FORMATS, id_list_error, read_id_list
from ..records import Corpus, Paper
from ..search.lookup import MIN_PREFIX_WORDS
from ..storage import PaperIndex
from ..text import cut_words, slugify, unique_name
from .catalog import paper_lookup

if TYPE_CHECKING:  # pragma: no cover
    from ..online import Online

__all__ = ["library_positions", "id_list_corpus", "id_list_ids"]


def _in_library(index: PaperIndex, entries: list[str]) -> tuple[list[int], list[str]]:
    """The index positions of the papers ``entries`` name (list order, each once), and the
    entries that name none."""
    lookup = paper_lookup(index)
    found: dict[int, None] = {}
    missing = []
    for entry in entries:
        try:
            found.setdefault(lookup.read(entry, prefix_words=MIN_PREFIX_WORDS, near=False).position)
        except UnknownPaperError:
            missing.append(entry)
    return list(found), missing


def library_positions(index: PaperIndex, path: str | Path, entries: list[str]) -> list[int]:
    """The index positions of the papers ``entries`` name, in list order, each once.

    Raises:
        IdListError: Some entries name no library paper (the first few are named).
        AmbiguousQueryError: An entry (a title, a DOI) names several library papers.
    """
    found, missing = _in_library(index, entries)
    if missing:
        raise id_list_error(path, entries, missing)
    return found


def id_list_corpus(index: PaperIndex, error: IdListError, online: "Online | None" = None) -> Corpus:
    """The papers an id list (read as ``error``) names: the library's own records, and with
    ``online`` the fetched records of the arXiv ids and DOIs the library does not have.

    Raises:
        IdListError: Some entries name no library paper (without ``online``), or were not found
            online either (each is named, with why).
        AmbiguousQueryError: An entry (a title, a DOI) names several library papers.
        OnlineError: A service cannot be reached, is too slow or limits the rate.
    """
    found, missing = _in_library(index, error.entries)
    papers: list[Paper] = index.papers_at(found)
    explicit = frozenset(p.id for p in papers)
    if missing:
        if online is None:
            raise id_list_error(error.path, error.entries, missing)
        papers += _fetched(online, error, missing, {p.id for p in papers})
    return Corpus(papers, error.path, explicit_ids=explicit)


def _fetched(online: "Online", error: IdListError, missing: list[str], taken: set[str]) -> list[Paper]:
    """The fetched records of the ``missing`` entries, each once, with ids unique in the batch."""
    fetched = online.papers(missing)
    if fetched.unknown:
        unknown = list(fetched.unknown.items())
        names = "; ".join(f"{cut_words(entry, 60)!r} ({why})" for entry, why in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise IdListError(
            f"{error.path}: {len(unknown)} of the {len(error.entries)} listed papers are neither in the library "
            f"nor found online: {names}{more}; give their records as {PAPER_FORMATS}",
            error.path,
            error.entries,
        )
    # Two entries may name one paper (an id and its URL, an arXiv id and its DOI): one record.
    unique = list({id(p): p for p in fetched.papers.values()}.values())
    merged, _, _ = merge_duplicates(unique, [f"{error.path} (fetched)"] * len(unique))
    out = []
    for paper in merged:
        new_id = unique_name(slugify(paper.title) or "paper", taken)
        taken.add(new_id)
        out.append(replace(paper, id=new_id))
    return out


def id_list_ids(index: PaperIndex, path: str | Path) -> list[str]:
    """The library ids of the papers the id list file at ``path`` names (``similar --ids-file``).

    Raises:
        CorpusError: The file cannot be read or is not an id list.
        As :func:`library_positions`.
    """
    return [index.ids[p] for p in library_positions(index, path, read_id_list(path))]
