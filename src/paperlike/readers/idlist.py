"""Files that list papers by name, one a line: arXiv ids, DOIs, arXiv / doi.org URLs or titles.

A reading list often is just that (``today_ids.txt``). Such a file carries no abstracts, so it
cannot be embedded; what it names can only be papers already in a library. The rule that tells
it from a Daily Papers page (title and abstract paragraphs separated by blank lines):

* a text file (``.txt``, ``.md``, ``.list``, ``.ids`` or no extension) that is not detected as
  another format; lines starting with ``#`` are comments;
* every other non-empty line is at most :data:`MAX_ENTRY_CHARS` characters (an abstract is longer);
* and either every such line is an identifier (arXiv id, DOI, arXiv / doi.org / publisher URL),
  or no blank line separates two of them (a Daily Papers page needs blank lines between its
  paragraphs, so a file without any could not be read as one).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CorpusError, IdListError
from ..search.identifiers import parse_identifier
from ..text import clean_text, cut_words
from .base import read_text

__all__ = ["MAX_ENTRY_CHARS", "ID_LIST_SUFFIXES", "id_list_entries", "read_id_list", "id_list_error"]

# Longer than most titles (the longest of the bundled papers has 150 characters), shorter than abstracts.
MAX_ENTRY_CHARS = 300

ID_LIST_SUFFIXES = ("", ".txt", ".md", ".list", ".ids")

# What a file must be to give paperlike new papers (the message names them).
PAPER_FORMATS = "BibTeX (.bib), an arXiv export (Atom .xml or the metadata JSON) or JSON lines with title and abstract"


def id_list_entries(text: str) -> list[str] | None:
    """The entries of a text that is a list of identifiers or titles (see the module's rule), else None."""
    entries = [line for raw in text.splitlines() if (line := clean_text(raw)) and not line.startswith("#")]
    if not entries or any(len(e) > MAX_ENTRY_CHARS for e in entries):
        return None
    if all(parse_identifier(e) is not None for e in entries):
        return entries
    return None if _has_gap(text) else entries


def _has_gap(text: str) -> bool:
    """Whether a blank line separates two non-comment, non-empty lines."""
    seen = pending = False
    for raw in text.splitlines():
        line = clean_text(raw)
        if not line:
            pending = seen
        elif not line.startswith("#"):
            if pending:
                return True
            seen = True
    return False


def id_list_error(path: str | Path, entries: list[str], missing: list[str] | None = None) -> IdListError:
    """The error for an id list where papers are needed: ``missing`` are the entries no library
    paper matches (all of them when no library was asked)."""
    names = ", ".join(repr(cut_words(m, 60)) for m in (missing or entries)[:3])
    if len(missing or entries) > 3:
        names += f" and {len(missing or entries) - 3} more"
    head = f"{path} lists {len(entries)} paper(s) by identifier or title, one per line"
    if missing is None:
        why = f"with no abstracts to embed ({names}); give the papers' records as {PAPER_FORMATS}"
    else:
        why = (
            f"{len(missing)} of them not in the library, with no abstract to embed ({names}); "
            f"give their records as {PAPER_FORMATS} (rank --online fetches arXiv ids and DOIs)"
        )
    return IdListError(f"{head}, {why}", str(path), entries)


def read_id_list(path: str | Path) -> list[str]:
    """The entries of an id list file.

    Raises:
        CorpusError: The file cannot be read, or is not a list of identifiers or titles.
    """
    entries = id_list_entries(read_text(Path(path)))
    if entries is None:
        raise CorpusError(
            f"{path} is not a list of identifiers or titles: give one arXiv id, DOI, URL or title per line "
            f"(at most {MAX_ENTRY_CHARS} characters, no blank lines between titles)"
        )
    return entries
