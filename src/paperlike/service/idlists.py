"""Lists of papers by name (``today_ids.txt``: arXiv ids, DOIs, URLs or titles, one a line).

Such a file has no abstracts, so only papers already in the library can come of it (see
:mod:`paperlike.readers.idlist` for how one is recognised). Each entry is looked up as ``remove``
looks up a name: an id, DOI, arXiv id, URL, whole title, or the start of exactly one title with
at least 3 words; no close misspellings (a list names papers exactly). An entry the library does
not have is an error that names it and says which file formats carry the metadata needed.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import IdListError, UnknownPaperError
from ..readers.idlist import id_list_error, read_id_list
from ..records import Corpus, Paper
from ..search.lookup import MIN_PREFIX_WORDS
from ..storage import PaperIndex
from .catalog import paper_lookup

__all__ = ["library_positions", "id_list_corpus", "id_list_ids"]


def library_positions(index: PaperIndex, path: str | Path, entries: list[str]) -> list[int]:
    """The index positions of the papers ``entries`` name, in list order, each once.

    Raises:
        IdListError: Some entries name no library paper (the first few are named).
        AmbiguousQueryError: An entry (a title, a DOI) names several library papers.
    """
    lookup = paper_lookup(index)
    found: dict[int, None] = {}
    missing = []
    for entry in entries:
        try:
            found.setdefault(lookup.read(entry, prefix_words=MIN_PREFIX_WORDS, near=False).position)
        except UnknownPaperError:
            missing.append(entry)
    if missing:
        raise id_list_error(path, entries, missing)
    return list(found)


def id_list_corpus(index: PaperIndex, error: IdListError) -> Corpus:
    """The library's own records of the papers an id list (read as ``error``) names.

    Raises:
        As :func:`library_positions`.
    """
    papers: list[Paper] = index.papers_at(library_positions(index, error.path, error.entries))
    return Corpus(papers, error.path, explicit_ids=frozenset(p.id for p in papers))


def id_list_ids(index: PaperIndex, path: str | Path) -> list[str]:
    """The library ids of the papers the id list file at ``path`` names (``similar --ids-file``).

    Raises:
        CorpusError: The file cannot be read or is not an id list.
        As :func:`library_positions`.
    """
    return [index.ids[p] for p in library_positions(index, path, read_id_list(path))]
