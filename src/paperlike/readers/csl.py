"""CSL-JSON (Zotero's "Better CSL JSON", citeproc exports)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus, Paper
from .base import Entry, collect, paper_from_fields

__all__ = ["read_csl_json"]


# CSL item types -> BibTeX entry types (the rest are "misc").
_ENTRY_TYPES = {
    "article-journal": "article",
    "article": "article",
    "paper-conference": "inproceedings",
    "chapter": "incollection",
    "book": "book",
    "thesis": "phdthesis",
    "report": "techreport",
    "manuscript": "unpublished",
}


# CSL variables kept as BibTeX fields.
_FIELDS = {
    "volume": "volume",
    "issue": "number",
    "page": "pages",
    "publisher": "publisher",
    "publisher-place": "address",
    "edition": "edition",
    "collection-title": "series",
    "ISBN": "isbn",
    "ISSN": "issn",
    "note": "note",
}


def _authors(item: dict[str, Any], loc: str) -> list[str]:
    people = item.get("author") or []
    if not isinstance(people, list):
        raise CorpusError(f"{loc}: 'author' must be a list of people")
    names = []
    for person in people:
        if isinstance(person, dict):
            name = person.get("literal") or " ".join(str(person.get(k, "")) for k in ("given", "family")).strip()
            if name:
                names.append(name)
    return names


def _year(item: dict[str, Any]) -> Any:
    issued = item.get("issued")
    if not isinstance(issued, dict):
        return None
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return parts[0][0]
    return str(issued["raw"])[:4] if issued.get("raw") else None


def _csl_record(item: Any, loc: str, src: str) -> Paper:
    if not isinstance(item, dict):
        raise CorpusError(f"{loc}: expected a CSL-JSON item (an object)")
    raw_id = str(item.get("id") or "")
    keywords = item.get("keyword")
    return paper_from_fields(
        {
            # Zotero ids are often URLs or numbers: keep only ids that work as short command-line names.
            "id": raw_id if re.fullmatch(r"[A-Za-z][\w.:-]{0,39}", raw_id) else "",
            "title": item.get("title"),
            "abstract": item.get("abstract"),
            "authors": _authors(item, loc),
            "year": _year(item),
            "url": item.get("URL"),
            "doi": item.get("DOI"),
            "venue": _text(item.get("container-title")),
            "entry_type": _ENTRY_TYPES.get(str(item.get("type")), "misc") if item.get("type") else None,
            "fields": [(name, _text(item[key])) for key, name in _FIELDS.items() if _text(item.get(key))],
            "tags": re.split(r"[,;]", keywords) if isinstance(keywords, str) else None,
        },
        loc,
        src,
    )


def _text(value: Any) -> str | None:
    """A CSL text or number variable as text (anything else is ignored)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value)


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

    return collect(entries(), src, strict=strict, fmt="csl-json")
