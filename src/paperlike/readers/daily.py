"""The text of a copied Hugging Face "Daily Papers" page, and the bundled one.

Title and abstract paragraphs separated by blank lines, after a short header.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus, Paper
from ..text import clean_text
from .base import collect, read_text

__all__ = ["read_daily_papers", "read_daily", "bundled_corpus", "bundled_file_sha256", "BUNDLED_SOURCE"]

# A title paragraph longer than this is almost surely an abstract: the page lost a blank line or
# split an abstract in two, and pairing would silently shift every later paper.
_MAX_TITLE_CHARS = 400


# Boilerplate lines of a copied "Daily Papers" page, compared case-insensitively.
_DAILY_HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}


_DATE_LINE = re.compile(r"^[A-Z][a-z]{2,8}\.? \d{1,2}(, \d{4})?$")


def read_daily_papers(path: str | Path, *, text: str | None = None, source: str | None = None) -> Corpus:
    """Read the text of a copied Hugging Face "Daily Papers" page.

    The page header (``New``, ``Subscribe``, ``Daily Papers``, a date...) is skipped; the rest
    must alternate title and abstract paragraphs, separated by blank lines.

    Args:
        path: The text file.
        text: The file's content, when already read.
        source: Name to record as the papers' source (defaults to the path).

    Returns:
        The corpus, papers in page order.

    Raises:
        CorpusError: The file is missing, empty, or its paragraphs do not pair up.
    """
    path = Path(path)
    src = source or str(path)
    if text is None:
        text = read_text(path)
    paragraphs: list[tuple[int, str]] = []  # (first line number, text)
    start = 0
    buf: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = clean_text(line)
        if line:
            if not buf:
                start = lineno
            buf.append(line)
        elif buf:
            paragraphs.append((start, " ".join(buf)))
            buf = []
    if buf:
        paragraphs.append((start, " ".join(buf)))
    while paragraphs and (paragraphs[0][1].casefold() in _DAILY_HEADER_LINES or _DATE_LINE.match(paragraphs[0][1])):
        paragraphs.pop(0)
    papers, where = [], []
    for (t_line, title), (_, abstract) in zip(paragraphs[0::2], paragraphs[1::2]):
        if len(title) > _MAX_TITLE_CHARS:
            raise CorpusError(
                f"{src}:{t_line}: expected a title but found a {len(title)}-character paragraph; "
                "check that every title and abstract is one paragraph separated by a blank line"
            )
        papers.append(Paper(id="", title=title, abstract=abstract, source=src))
        where.append(f"{src}:{t_line}")
    if len(paragraphs) % 2:
        lineno, para = paragraphs[-1]
        raise CorpusError(
            f"{src}:{lineno}: title without an abstract ('{para[:60]}'); "
            "each title must be followed by a blank line and its abstract"
        )
    return collect(list(zip(where, papers)), src, fmt="daily")


BUNDLED_SOURCE = "bundled:daily_papers_seed.txt"


def read_daily(path: Path, text: str, **_: Any) -> Corpus:
    """:func:`read_daily_papers` with the readers' common signature (the format's record names it)."""
    return read_daily_papers(path, text=text)


def bundled_file_sha256() -> str:
    """SHA-256 of the bundled corpus file (cheap: no parsing)."""
    return hashlib.sha256(resources.files("paperlike").joinpath("data/daily_papers_seed.txt").read_bytes()).hexdigest()


def bundled_corpus() -> Corpus:
    """The 75 seed papers that ship with paperlike (a "Daily Papers" page)."""
    text = resources.files("paperlike").joinpath("data/daily_papers_seed.txt").read_text(encoding="utf-8")
    corpus = read_daily_papers(BUNDLED_SOURCE, text=text, source=BUNDLED_SOURCE)
    corpus.file_sha256 = bundled_file_sha256()
    return corpus
