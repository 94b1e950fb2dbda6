"""The reader of each corpus format, and :func:`read_corpus`, which picks one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import CorpusError
from ..records import Corpus
from .arxiv import read_arxiv_atom, read_arxiv_json
from .base import read_text
from .bibtex import read_bibtex
from .csl import read_csl_json
from .daily import read_daily_papers
from .detect import FORMATS, detect_format
from .jsonl import read_jsonl
from .tabular import read_csv, read_tsv

__all__ = ["FORMATS", "READERS", "read_corpus"]


READERS: dict[str, Callable[..., Corpus]] = {
    "bibtex": read_bibtex,
    "csv": read_csv,
    "tsv": read_tsv,
    "arxiv-atom": read_arxiv_atom,
    "arxiv-json": read_arxiv_json,
    "csl-json": read_csl_json,
}


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
        path: The corpus file.
        fmt: One of :data:`FORMATS` to skip detection.
        strict: Fail on the first malformed entry instead of skipping it with a note.
        title_col: CSV/TSV: the title column (default: found by name).
        abstract_col: CSV/TSV: the abstract column (default: found by name).

    Returns:
        The corpus; duplicates (same arXiv id, DOI or normalised title) merged into one paper.

    Raises:
        CorpusError: Unknown format, or the file cannot be read (see the readers).
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise CorpusError(f"unknown corpus format '{fmt}'; known formats: {', '.join(FORMATS)}")
    text = read_text(path)
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty; give a corpus with at least one paper")
    fmt = fmt or detect_format(path, text)
    if fmt == "daily":
        return read_daily_papers(path, text=text)
    if fmt == "jsonl":
        return read_jsonl(path, text=text, strict=strict)
    return READERS[fmt](path, text, strict=strict, title_col=title_col, abstract_col=abstract_col)
