"""What every reader shares: reading the file, turning fields into a Paper, collecting entries
into a corpus (skip or fail on malformed entries, merge duplicates, give ids)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, Union

from ..errors import CorpusError
from ..identity import IDENTIFIER_LIMITS, merge_duplicates
from ..records import Corpus, Paper
from ..records.papers import ENTRY_TYPE, FIELD_NAME
from ..text import MAX_TEXT_CHARS, clean_text, slugify, unique_name
from .formats import FORMATS, find_reader, format_label

__all__ = [
    "Entry",
    "MAX_CORPUS_BYTES",
    "collect",
    "assign_ids",
    "paper_from_fields",
    "open_corpus",
    "read_all",
    "read_bytes",
    "read_text",
]


# The largest corpus file read whole (1 GiB): ACM-CR's 96k papers take ~35 MB, and such a file is
# read whole into memory, so a bigger one is almost surely a mistake. JSON lines and the arXiv
# snapshot are read line by line instead (readers/lines.py): all of arXiv is a 4 GB file.
MAX_CORPUS_BYTES = 1 << 30


def assign_ids(papers: list[Paper], where: list[str]) -> list[Paper]:
    """Give every paper a unique id; explicit ids are kept, others become title slugs.

    Args:
        papers: Papers whose ``id`` is ``""`` where the source had none.
        where: For each paper, its location (``file:line``) for error messages.

    Returns:
        The papers with ids filled in; generated clashes get ``-2``, ``-3``... in file order.

    Raises:
        CorpusError: Two papers carry the same explicit id.
    """
    seen: dict[str, str] = {}
    dupes: list[str] = []
    for paper, loc in zip(papers, where):
        if paper.id:
            if paper.id in seen:
                dupes.append(f"'{paper.id}' ({seen[paper.id]} and {loc})")
            else:
                seen[paper.id] = loc
    if dupes:
        raise CorpusError(
            f"duplicate ids in corpus: {', '.join(dupes[:5])}"
            + (f" and {len(dupes) - 5} more" if len(dupes) > 5 else "")
            + "; give each paper a unique 'id' or drop the 'id' field to use title slugs"
        )
    taken = set(seen)
    out = []
    for paper in papers:
        if not paper.id:
            fallback = "paper-" + hashlib.sha1(paper.title.encode("utf-8")).hexdigest()[:8]
            new_id = unique_name(slugify(paper.title) or fallback, taken)
            taken.add(new_id)
            paper = dataclasses.replace(paper, id=new_id)
        out.append(paper)
    return out


Entry = tuple[str, Union["Paper", CorpusError]]  # (file:line, the paper read there or why it was skipped)


def collect(entries: Iterable[Entry], source: str, *, strict: bool = False, fmt: str | None = None) -> Corpus:
    """Turn the entries a reader produced into a corpus: skip malformed ones (or fail, ``strict``),
    merge duplicates, give every paper its id, and note what was done.

    Args:
        entries: ``(location, Paper or CorpusError)`` in file order; papers may have ``id == ""``.
        source: The file, for messages.
        strict: Raise on the first malformed entry instead of skipping it.
        fmt: The format read (one of :data:`~paperlike.readers.FORMATS`), for the message when
            the file holds no paper.

    Raises:
        CorpusError: No paper at all, a malformed entry under ``strict``, or two different papers
            with the same explicit id.
    """
    source = clean_text(source)
    papers, where, problems = _split(entries, strict)
    papers, overlong = _drop_overlong_identifiers(papers, where)
    if not papers:
        if problems:
            raise CorpusError(f"no paper could be read from {source}; first problem: {problems[0]}")
        raise CorpusError(_nothing_found(source, fmt))
    papers, where, merged = merge_duplicates(papers, where)
    notes = _notes(source, papers, where, problems, merged, overlong)
    explicit = frozenset(p.id for p in papers if p.id)
    return Corpus(assign_ids(papers, where), source, notes, skipped=len(problems), merged=merged, explicit_ids=explicit)


def _notes(
    source: str, papers: list[Paper], where: list[str], problems: list[str], merged: int, overlong: list[str]
) -> list[str]:
    """The notes of a read: what was skipped, changed or merged, and what search will cut."""
    notes = []
    if problems:
        notes.append(
            f"skipped {len(problems)} malformed entr{'y' if len(problems) == 1 else 'ies'}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    if overlong:
        notes.append(
            f"{source}: {len(overlong)} paper(s) have an id, arXiv id, DOI or URL longer than any real one; "
            f"it is left out (first at {overlong[0]})"
        )
    if merged:
        notes.append(f"{source}: merged {merged} duplicate record(s) (same arXiv id, DOI or title)")
    empty = [loc for paper, loc in zip(papers, where) if not paper.abstract.strip()]
    if empty:
        notes.append(
            f"{source}: {len(empty)} paper(s) have an empty abstract and are indexed on their title only (first at {empty[0]})"
        )
    long = [loc for paper, loc in zip(papers, where) if len(paper.title) + len(paper.abstract) > MAX_TEXT_CHARS]
    if long:
        notes.append(
            f"{source}: {len(long)} paper(s) have a title and abstract over {MAX_TEXT_CHARS:,} characters; "
            f"search and explanations use the first {MAX_TEXT_CHARS:,} (first at {long[0]})"
        )
    return notes


def _drop_overlong_identifiers(papers: list[Paper], where: list[str]) -> tuple[list[Paper], list[str]]:
    """The papers with each identifier over its limit (:data:`~paperlike.identity.IDENTIFIER_LIMITS`)
    left out, before any pattern reads them; and where the papers that lost one are."""
    out, dropped = [], []
    for paper, loc in zip(papers, where):
        over = [k for k, most in IDENTIFIER_LIMITS.items() if len(getattr(paper, k) or "") > most]
        if over:
            changes: dict[str, Any] = {k: "" if k == "id" else None for k in over}  # no id: a title slug
            paper = dataclasses.replace(paper, **changes)
            dropped.append(loc)
        out.append(paper)
    return out, dropped


def _split(entries: Iterable[Entry], strict: bool) -> tuple[list[Paper], list[str], list[str]]:
    """The papers read, their locations, and why the other entries were skipped."""
    papers: list[Paper] = []
    where: list[str] = []
    problems: list[str] = []
    for loc, item in entries:
        if isinstance(item, CorpusError):
            if strict:
                raise CorpusError(f"{item} (--strict: nothing was written)")
            problems.append(str(item))
        else:
            papers.append(item if item.source is None else dataclasses.replace(item, source=clean_text(item.source)))
            where.append(loc)
    return papers, where, problems


def _nothing_found(source: str, fmt: str | None) -> str:
    hint = find_reader(fmt).empty_hint if fmt is not None and fmt in FORMATS else None
    if hint:
        return f"{source}: {hint}"
    what = f"this {format_label(fmt)} file" if fmt else "it"
    return f"{source}: no paper found in {what}; check that it holds papers"


def open_corpus(path: Path) -> BinaryIO:
    """A corpus file opened for reading (binary), checked to be a regular file.

    A FIFO, device, socket or folder is refused before anything is read from it (a FIFO would
    block for ever, ``/dev/zero`` would fill the memory).

    Raises:
        CorpusError: Missing, not a regular file, or unreadable.
    """
    try:
        kind = os.stat(path).st_mode
    except FileNotFoundError:
        raise CorpusError(f"corpus file not found: {path}; check the path") from None
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror}; check the path") from None
    _check_kind(path, kind)
    try:
        # Non-blocking: if the path became a FIFO since the stat, opening it must not hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror}; check the path") from None
    handle = open(fd, "rb")
    try:
        _check_kind(path, os.fstat(handle.fileno()).st_mode)
    except BaseException:
        handle.close()
        raise
    return handle


def read_bytes(path: Path, max_bytes: int = MAX_CORPUS_BYTES) -> bytes:
    """The bytes of a corpus file, checked to be a regular file (see :func:`open_corpus`) of at
    most ``max_bytes``; the read itself is bounded too, in case the file grows while it is read.

    Raises:
        CorpusError: Missing, not a regular file, unreadable, or over ``max_bytes``.
    """
    with open_corpus(path) as handle:
        return read_all(handle, path, max_bytes)


def read_all(handle: BinaryIO, path: Path, max_bytes: int = MAX_CORPUS_BYTES) -> bytes:
    """All bytes of an open corpus file (from its start), at most ``max_bytes`` (see :func:`read_bytes`)."""
    _check_size(path, os.fstat(handle.fileno()).st_size, max_bytes)
    handle.seek(0)
    data = handle.read(max_bytes + 1)
    _check_size(path, len(data), max_bytes)
    return data


def _check_kind(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise CorpusError(f"corpus path is a directory: {path}; give a file")
    if stat.S_ISFIFO(mode):
        what = "a named pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    else:
        what = "not a regular file"
    raise CorpusError(f"corpus path is {what}: {path}; save the papers to a regular file and give that")


def _check_size(path: Path, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise CorpusError(
            f"{path}: the file is over {max_bytes:,} bytes, the most a corpus file may hold; "
            "split it into smaller files (paperlike add reads several)"
        )


def read_text(path: Path, max_bytes: int = MAX_CORPUS_BYTES) -> str:
    """The text of a corpus file (UTF-8, a BOM allowed); see :func:`read_bytes` for the checks."""
    return decode_text(read_bytes(path, max_bytes), path)


def decode_text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not valid UTF-8 text; save the file as UTF-8") from None


def _year(value: Any, loc: str) -> int | None:
    """A four-digit year from a number or text such as "2024", " 2024-05-01" or "May 2024"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1000 <= value < 3000:
        return int(value)
    match = re.search(r"(?<!\d)(1\d{3}|2\d{3})(?!\d)", str(value)) if isinstance(value, str) else None
    if match is None:
        raise CorpusError(f"{loc}: 'year' must be a year such as 2024, got {str(value)[:40]!r}; fix or drop the field")
    return int(match.group(1))


_TEXT_KEYS = ("title", "abstract", "id", "url", "arxiv_id", "doi", "source", "venue", "entry_type")


def paper_from_fields(obj: Any, loc: str, src: str) -> Paper:
    """A paper from a dict of fields: title, abstract, id, authors, year, url, arxiv_id, doi,
    source, venue, entry_type, fields (an object of name -> text, or ``[name, text]`` pairs),
    tags and collections (lists, or text separated by ``;``).

    Raises:
        CorpusError: Not a dict, no title, or a field of the wrong kind (names ``loc``).
    """
    if not isinstance(obj, dict):
        raise CorpusError(f"{loc}: expected a JSON object with 'title' and 'abstract', got {type(obj).__name__}")
    for key in _TEXT_KEYS:
        if isinstance(obj.get(key), (dict, list, bool)):
            raise CorpusError(f"{loc}: '{key}' must be text, got {type(obj[key]).__name__}")
    title = clean_text(obj.get("title"))
    if not title:
        raise CorpusError(f"{loc}: paper has no title; add a non-empty 'title' field")
    extra = {k: (clean_text(obj[k]) or None) for k in ("url", "arxiv_id", "doi", "venue") if obj.get(k) is not None}
    return Paper(
        id=clean_text(obj.get("id")),
        title=title,
        abstract=clean_text(obj.get("abstract")),
        authors=_names(obj.get("authors"), loc),
        year=_year(obj.get("year"), loc),
        source=clean_text(obj.get("source")) or src,
        entry_type=_entry_type(obj.get("entry_type")),
        fields=_other_fields(obj.get("fields"), loc),
        tags=_list(obj.get("tags"), "tags", loc),
        collections=_list(obj.get("collections"), "collections", loc),
        **extra,
    )


# " and " between BibTeX names. The match starts only where a run of spaces starts: tried from each
# space of a long run, the search was quadratic (200k spaces: 15 s).
_AND = re.compile(r"(?<!\s)\s+and\s+")
# At most this many authors a paper (the longest real lists, of physics collaborations, hold about
# 3,000), and no name longer than this (longer: not a name, left out).
MAX_AUTHORS = 10_000
MAX_NAME_CHARS = 500


def _names(authors: Any, loc: str) -> tuple[str, ...]:
    if not authors:
        return ()
    if isinstance(authors, str):
        # "A and B" (BibTeX style, names may hold commas), "A; B", else "A, B".
        authors = _AND.split(authors) if _AND.search(authors) else authors.split(";" if ";" in authors else ",")
    elif not isinstance(authors, (list, tuple)):
        raise CorpusError(f"{loc}: 'authors' must be a list of names or a string")
    names = (clean_text(a) for a in authors[: 4 * MAX_AUTHORS])  # (empty pieces are dropped below)
    return tuple(name for name in names if name and len(name) <= MAX_NAME_CHARS)[:MAX_AUTHORS]


def _list(value: Any, key: str, loc: str) -> tuple[str, ...]:
    """Tags or collections: a list of names, or one text separated by ``;``; duplicates dropped."""
    if not value:
        return ()
    if isinstance(value, str):
        value = value.split(";")
    elif not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise CorpusError(f"{loc}: '{key}' must be a list of names or a text separated by ';'")
    return tuple(dict.fromkeys(name for name in (clean_text(v) for v in value) if name))


def _entry_type(value: Any) -> str | None:
    """A BibTeX entry type, lowercase; anything else is dropped (it becomes part of the output)."""
    kind = clean_text(value).lower()
    return kind if ENTRY_TYPE.fullmatch(kind) else None


def _other_fields(value: Any, loc: str) -> tuple[tuple[str, str], ...]:
    """Other bibliographic fields: lowercase names that are valid BibTeX field names, text values
    (numbers allowed: ``"volume": 3``); the first of two equal names wins."""
    if not value:
        return ()
    pairs = list(value.items()) if isinstance(value, dict) else value
    out: dict[str, str] = {}
    for pair in pairs if isinstance(pairs, (list, tuple)) else [None]:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(_scalar(x) for x in pair)):
            raise CorpusError(f"{loc}: 'fields' must be an object of field names and texts")
        name, text = clean_text(pair[0]).lower(), clean_text(pair[1])
        if FIELD_NAME.fullmatch(name) and text:
            out.setdefault(name, text)
    return tuple(out.items())


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
