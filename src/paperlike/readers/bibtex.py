"""BibTeX files (Zotero, Google Scholar, JabRef exports), read with bibtexparser 2.

Every field of an entry is kept: title, abstract, authors, year, DOI, URL and the arXiv eprint
become the paper's own fields, ``journal``/``booktitle``/``school``... its ``venue``, the entry
type its ``entry_type``, ``keywords`` its ``tags``, and the rest (volume, number, pages,
publisher, note...) its ``fields``, so an export gives the entry back.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus
from ..records.papers import VERBATIM_FIELDS, venue_fields
from ..text import collapse_spaces, plain_text
from .base import Entry, collect, paper_from_fields

__all__ = ["read_bibtex"]


def _author_names(value: str) -> list[str]:
    """Names of a BibTeX author list, LaTeX decoded: ``Müller, Jörg and Smith, Anna`` ->
    ``["Jörg Müller", "Anna Smith"]``."""
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts, split_multiple_persons_names

    names = []
    for raw in split_multiple_persons_names(value):
        try:
            part = parse_single_name_into_parts(raw)
            name = " ".join(part.first + part.von + part.last + part.jr)
        except InvalidNameError:
            name = raw
        names.append(plain_text(collapse_spaces(name)))
    return [n for n in names if n]


def _arxiv_id(raw: dict[str, str]) -> str | None:
    """The arXiv id (eprint with an arXiv or no archive prefix, or arxivid/arxiv); the fields
    used are taken out of ``raw``."""
    archive = (raw.get("archiveprefix") or raw.get("eprinttype") or "arxiv").lower()
    if raw.get("eprint") and archive == "arxiv":
        raw.pop("archiveprefix", None)
        raw.pop("eprinttype", None)
        return raw.pop("eprint")
    for key in ("arxivid", "arxiv"):
        if raw.get(key):
            return raw.pop(key)
    return None


def _record(entry: Any) -> dict[str, Any]:
    """The fields of one parsed entry as :func:`paper_from_fields` takes them."""
    raw: dict[str, str] = {}
    for key, found in entry.fields_dict.items():
        raw.setdefault(key.lower(), str(found.value))
    kind = entry.entry_type.lower()
    venue_key = next((k for k in venue_fields(kind) if raw.get(k)), None)
    year = raw.pop("year", None)
    record = {
        "id": entry.key,
        "entry_type": kind,
        "title": plain_text(raw.pop("title", "")),
        "abstract": plain_text(raw.pop("abstract", "")),
        "authors": _author_names(raw.pop("author", "")),
        # "in press", "forthcoming": a year BibTeX allows but that is no year; drop it, keep the paper.
        "year": year if year is None or re.search(r"(1|2)\d{3}", year) else None,
        "url": raw.pop("url", None),
        "doi": raw.pop("doi", None),
        "arxiv_id": _arxiv_id(raw),
        "venue": plain_text(raw.pop(venue_key)) if venue_key else None,
        "tags": [plain_text(t) for t in re.split(r"[,;]", raw.pop("keywords", ""))],
    }
    # Identifiers and numbers stay as written (LaTeX decoding would eat "%" and "~" in URLs);
    # prose fields (note, publisher, series...) are decoded like the title.
    record["fields"] = [(k, v if k in VERBATIM_FIELDS else plain_text(v)) for k, v in raw.items()]
    return record


def _failed(block: Any, src: str) -> tuple[int, Entry]:
    line = (block.start_line or 0) + 1
    first = (block.raw or "").strip().splitlines()[0][:40] if (block.raw or "").strip() else ""
    why = "a duplicate entry key or field" if "Duplicate" in type(block).__name__ else "unbalanced braces or quotes?"
    return line, (f"{src}:{line}", CorpusError(f"{src}:{line}: malformed BibTeX entry '{first}' ({why})"))


def read_bibtex(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read a BibTeX file (entries without an abstract are indexed on their title)."""
    import bibtexparser

    # bibtexparser logs each broken block on its own; we report them as skipped entries instead.
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    src = str(path)
    # No LaTeX decoding in the parser: it would also "decode" URLs and DOIs (% starts a comment,
    # ~ becomes a space). Prose fields and names are decoded field by field in _record.
    library = bibtexparser.parse_string(text)
    entries = [_failed(block, src) for block in library.failed_blocks]
    for entry in library.entries:
        line = (entry.start_line or 0) + 1
        loc = f"{src}:{line} ({entry.key})"
        try:
            entries.append((line, (loc, paper_from_fields(_record(entry), loc, src))))
        except CorpusError as exc:
            entries.append((line, (loc, exc)))
    entries.sort(key=lambda e: e[0])
    return collect([e for _, e in entries], src, strict=strict, fmt="bibtex")
