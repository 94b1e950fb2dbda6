"""BibTeX files (Zotero, Google Scholar, JabRef exports), read with bibtexparser 2."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus
from ..text import plain_text
from .base import Entry, collect, paper_from_fields

__all__ = ["read_bibtex"]


def _bib_names(value: Any) -> list[str]:
    names = []
    for part in value if isinstance(value, list) else [value]:
        if hasattr(part, "first"):  # bibtexparser NameParts
            names.append(" ".join(part.first + part.von + part.last + part.jr).strip())
        else:
            names.append(" ".join(str(part).split()))
    return [n for n in names if n]


def read_bibtex(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read a BibTeX file (entries without an abstract are indexed on their title)."""
    import bibtexparser
    from bibtexparser import middlewares as mw

    # bibtexparser logs each broken block on its own; we report them as skipped entries instead.
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    src = str(path)
    # No LaTeX decoding in the parser: it would also "decode" URLs and DOIs (% starts a comment,
    # ~ becomes a space). Titles, abstracts and names are decoded below, field by field.
    library = bibtexparser.parse_string(text, append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts()])
    entries: list[tuple[int, Entry]] = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        first = (block.raw or "").strip().splitlines()[0][:40] if (block.raw or "").strip() else ""
        reason = getattr(block, "error", None)
        if "Duplicate" in type(block).__name__:
            why = "a duplicate entry key or field"
        else:
            why = "unbalanced braces or quotes?"
        del reason
        entries.append((line, (f"{src}:{line}", CorpusError(f"{src}:{line}: malformed BibTeX entry '{first}' ({why})"))))
    for entry in library.entries:
        line = (entry.start_line or 0) + 1
        loc = f"{src}:{line} ({entry.key})"
        fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
        eprint = fields.get("eprint") if str(fields.get("archiveprefix", "arxiv")).lower() == "arxiv" else None
        year = fields.get("year")
        record = {
            "id": entry.key,
            "title": plain_text(str(fields.get("title") or "")),
            "abstract": plain_text(str(fields.get("abstract") or "")),
            "authors": [plain_text(n) for n in _bib_names(fields.get("author", []))],
            # "in press", "forthcoming": a year BibTeX allows but that is no year; drop it, keep the paper.
            "year": year if year is None or re.search(r"(1|2)\d{3}", str(year)) else None,
            "url": fields.get("url"),
            "doi": fields.get("doi"),
            "arxiv_id": eprint or fields.get("arxivid") or fields.get("arxiv"),
        }
        try:
            entries.append((line, (loc, paper_from_fields(record, loc, src))))
        except CorpusError as exc:
            entries.append((line, (loc, exc)))
    entries.sort(key=lambda e: e[0])
    return collect([e for _, e in entries], src, strict=strict)
