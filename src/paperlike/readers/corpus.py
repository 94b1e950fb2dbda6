"""The reader of each corpus format, and :func:`read_corpus`, which picks one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import CorpusError
from ..records import Corpus
from .base import decode_text, open_corpus, read_all
from .detect import FORMAT_NAMES, detect_format, sniff_format
from .formats import FORMATS, READERS, find_reader, format_by_magic
from .idlist import ID_LIST_SUFFIXES, id_list_entries, id_list_error
from .lines import SNIFF_CHARS, file_lines, read_head

__all__ = ["FORMATS", "READERS", "read_corpus"]


def _streamed(fmt: str) -> bool:
    """Read line by line (never whole in memory): the size limit of a whole file does not apply."""
    return fmt in FORMATS and find_reader(fmt).streamed


def read_corpus(
    path: str | Path,
    fmt: str | None = None,
    *,
    strict: bool = False,
    title_col: str | None = None,
    abstract_col: str | None = None,
) -> Corpus:
    """Read a corpus file in any known format, detected from the extension and content.

    Args:
        path: The corpus file (a regular file; at most
            :data:`~paperlike.readers.base.MAX_CORPUS_BYTES` unless it is JSON lines or the arXiv
            snapshot, which are read line by line, a line at most
            :data:`~paperlike.readers.lines.MAX_LINE_BYTES`).
        fmt: One of :data:`FORMATS` to skip detection.
        strict: Fail on the first malformed entry instead of skipping it with a note.
        title_col: CSV/TSV: the title column (default: found by name).
        abstract_col: CSV/TSV: the abstract column (default: found by name).

    Returns:
        The corpus; duplicates (same arXiv id, DOI or normalised title) merged into one paper.

    Raises:
        CorpusError: Unknown format, a path that is no regular file, or the file cannot be read
            (see the readers); with ``fmt``, a file that is not in that format says so.
        IdListError: The file lists papers by id or title, one a line, without abstracts
            (see :mod:`paperlike.readers.idlist`; its ``entries`` can be looked up in a library).
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise CorpusError(f"unknown corpus format '{fmt}'; known formats: {', '.join(FORMATS)}")
    with open_corpus(path) as handle:
        raw, head, whole = read_head(handle)
        binary = format_by_magic(raw)
        streamed = None if binary is not None else _line_format(path, head, whole, fmt)
        if streamed is not None:  # read line by line: the file is never in memory whole
            lines = file_lines(handle, path)
            return _checked(path, fmt, head or "", lambda: find_reader(streamed).read(path, lines, strict=strict))
        if binary is None:
            data = read_all(handle, path)
    if binary is not None and fmt not in (None, binary):
        raise _not_that_format(path, fmt, binary)
    chosen = binary or fmt
    if chosen is not None and find_reader(chosen).magic is not None:
        # A binary format (a Zotero library) is read from its path; its reader says what a
        # file without its first bytes is.
        return find_reader(chosen).read(path, None, strict=strict)
    text = decode_text(data, path)
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty; give a corpus with at least one paper")
    found = fmt or _detect(path, text)
    return _checked(path, fmt, text, lambda: _read(path, text, found, strict, title_col, abstract_col))


def _detect(path: Path, text: str) -> str:
    """:func:`detect_format`, except that a text file listing papers by name, one a line, is
    refused as such (see :mod:`.idlist`): it has no abstracts to embed."""
    try:
        found: str | None = detect_format(path, text)
    except CorpusError:
        found = None
    if (found is None or find_reader(found).plain_text) and path.suffix.lower() in ID_LIST_SUFFIXES:
        entries = id_list_entries(text)
        if entries is not None:
            raise id_list_error(path, entries)
    return found or detect_format(path, text)


def _line_format(path: Path, head: str | None, whole: bool, fmt: str | None) -> str | None:
    """The format of a file read line by line (JSON lines, the arXiv snapshot), told from its
    head exactly as from the whole text; None for any other format, or when the head cannot tell
    (not UTF-8, blank, or too much leading space: the whole-file reader then decides and says why)."""
    if head is None or not head.strip() or (not whole and len(head.lstrip()) < SNIFF_CHARS):
        return None
    try:
        found = fmt or detect_format(path, head)
    except CorpusError:
        return None
    return found if _streamed(found) else None


def _checked(path: Path, fmt: str | None, text: str, read: Callable[[], Corpus]) -> Corpus:
    """``read()``; when the user named a format the file is not in, say which they asked for
    and what it looks like (``text``: the file's text, or its head)."""
    if fmt is None:
        return read()
    try:
        return read()
    except CorpusError:
        looks = sniff_format(text, path.suffix.lower())
        if looks is not None and looks != fmt:
            raise _not_that_format(path, fmt, looks) from None
        raise


def _read(path: Path, text: str, fmt: str, strict: bool, title_col: str | None, abstract_col: str | None) -> Corpus:
    return find_reader(fmt).read(path, text, strict=strict, title_col=title_col, abstract_col=abstract_col)


def _not_that_format(path: Path, fmt: str, looks: str) -> CorpusError:
    return CorpusError(
        f"{path}: --format {fmt} was given but this is not {FORMAT_NAMES[fmt]}; the file looks like "
        f"{FORMAT_NAMES[looks]}: give --format {looks} or leave --format out"
    )
