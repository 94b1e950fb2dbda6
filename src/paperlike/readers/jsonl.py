"""JSON lines: one paper object a line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus, Paper
from ..text import clean_text
from . import lines
from .base import Entry, collect, open_corpus, paper_from_fields
from .lines import file_lines, split_lines

__all__ = ["read_jsonl", "read_jsonl_text", "jsonl_entries"]


def read_jsonl(path: str | Path, *, text: str | Iterable[str | None] | None = None, strict: bool = False) -> Corpus:
    """Read a JSON-lines corpus: one object a line with ``title``, ``abstract`` and optional
    ``id``, ``authors``, ``year``, ``url``, ``arxiv_id``, ``doi``, ``source``, ``venue``,
    ``entry_type``, ``fields``, ``tags``, ``collections`` (as ``export --format jsonl`` writes them). Blank lines are
    skipped; so are malformed lines, with a note (``strict`` makes them an error).

    Without ``text`` the file is read line by line, never whole (``text``: the file's text, or
    its lines as :func:`~paperlike.readers.lines.file_lines` gives them).

    Raises:
        CorpusError: The file is missing or holds no readable paper (or any bad line, ``strict``).
    """
    path = Path(path)
    src = str(path)
    if text is None:
        with open_corpus(path) as handle:
            return collect(jsonl_entries(file_lines(handle, path), src, paper_from_fields), src, strict=strict, fmt="jsonl")
    return collect(jsonl_entries(text, src, paper_from_fields), src, strict=strict, fmt="jsonl")


def read_jsonl_text(path: Path, text: str | Iterable[str | None], *, strict: bool = False, **_: Any) -> Corpus:
    """:func:`read_jsonl` with the readers' common signature (``text``: the whole text, or the
    lines of a file read line by line); the format's record names it."""
    return read_jsonl(path, text=text, strict=strict)


def jsonl_entries(text: str | Iterable[str | None], src: str, convert: Callable[[Any, str, str], Paper]) -> Iterable[Entry]:
    """``(file:line, paper or why not)`` of each non-blank line of ``text`` (the whole text, or
    the lines of :func:`~paperlike.readers.lines.file_lines`)."""
    # split("\n"), not splitlines(): U+2028 and other separators are legal inside JSON strings.
    for lineno, line in enumerate(split_lines(text), 1):
        loc = f"{src}:{lineno}"
        if line is None:
            yield (
                loc,
                CorpusError(f"{loc}: a line of over {lines.MAX_LINE_BYTES:,} bytes; each line must be one paper's JSON object"),
            )
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield loc, CorpusError(f"{loc}: not valid JSON ({exc.msg}); each line must be one JSON object")
            continue
        except ValueError as exc:  # e.g. an integer too long to convert
            yield loc, CorpusError(f"{loc}: not usable JSON ({clean_text(exc)[:80]}); each line must be one JSON object")
            continue
        except RecursionError:
            yield loc, CorpusError(f"{loc}: JSON nested too deeply; each line must be one flat JSON object")
            continue
        try:
            yield loc, convert(obj, loc, src)
        except CorpusError as exc:
            yield loc, exc
