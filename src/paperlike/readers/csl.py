"""CSL-JSON (Zotero's "Better CSL JSON", citeproc exports)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus
from .base import Entry, collect, paper_from_fields

__all__ = ["read_csl_json"]


def _csl_record(item: Any, loc: str, src: str):
    if not isinstance(item, dict):
        raise CorpusError(f"{loc}: expected a CSL-JSON item (an object)")
    authors = []
    people = item.get("author") or []
    if not isinstance(people, list):
        raise CorpusError(f"{loc}: 'author' must be a list of people")
    for person in people:
        if isinstance(person, dict):
            name = person.get("literal") or " ".join(str(person.get(k, "")) for k in ("given", "family")).strip()
            if name:
                authors.append(name)
    year = None
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = parts[0][0]
        elif issued.get("raw"):
            year = str(issued["raw"])[:4]
    raw_id = str(item.get("id") or "")
    # Zotero ids are often URLs or numbers: keep only ids that work as short command-line names.
    explicit = raw_id if re.fullmatch(r"[A-Za-z][\w.:-]{0,39}", raw_id) else ""
    return paper_from_fields(
        {
            "id": explicit,
            "title": item.get("title"),
            "abstract": item.get("abstract"),
            "authors": authors,
            "year": year,
            "url": item.get("URL"),
            "doi": item.get("DOI"),
        },
        loc,
        src,
    )


def read_csl_json(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read CSL-JSON: an array of items (a single item object is accepted too)."""
    src = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{src}:{exc.lineno}: not valid JSON ({exc.msg}); export the library again as CSL JSON") from None
    except RecursionError:
        raise CorpusError(f"{src}: JSON nested too deeply; export the library again as CSL JSON") from None
    items = data if isinstance(data, list) else [data]

    def entries() -> Iterable[Entry]:
        for number, item in enumerate(items, 1):
            key = item.get("id") if isinstance(item, dict) else None
            loc = f"{src} (item {number}{', ' + str(key) if key else ''})"
            try:
                yield loc, _csl_record(item, loc, src)
            except CorpusError as exc:
                yield loc, exc

    return collect(entries(), src, strict=strict)
