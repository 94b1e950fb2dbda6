"""arXiv exports: the Atom feed of the arXiv API, and the arXiv metadata JSON (lines or a list)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from ..errors import CorpusError
from ..records import Corpus, Paper
from .base import Entry, collect, paper_from_fields
from .jsonl import jsonl_entries

__all__ = ["read_arxiv_atom", "read_arxiv_json", "parse_atom_feed", "atom_entries"]


_ATOM = "{http://www.w3.org/2005/Atom}"


_ARXIV = "{http://arxiv.org/schemas/atom}"


def parse_atom_feed(text: str, src: str) -> ElementTree.Element:
    """The root of an arXiv API answer (Atom XML), checked to be an Atom feed.

    Raises:
        CorpusError: Not well-formed XML, or not an Atom feed.
    """
    try:
        # Bytes, not str: the parser must see the declared encoding, and lone surrogates
        # (possible in text handed over from Python) become replacement characters.
        root = ElementTree.fromstring(text.encode("utf-8", "replace"))
    except ElementTree.ParseError as exc:
        line = exc.position[0] if exc.position else 1
        raise CorpusError(
            f"{src}:{line}: not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc}); "
            "save the arXiv API response as it came"
        ) from None
    except LookupError as exc:  # the XML declares an encoding Python does not know
        raise CorpusError(f"{src}: {exc} (declared in the XML); save the arXiv API response as UTF-8") from None
    if root.tag != f"{_ATOM}feed":
        raise CorpusError(f"{src}: not an Atom feed (root element {root.tag!r}); expected an arXiv API response")
    return root


def atom_entries(root: ElementTree.Element, src: str) -> Iterable[Entry]:
    """The papers of a parsed arXiv Atom feed (see :func:`parse_atom_feed`), each with where it is."""
    for number, entry in enumerate(root.findall(f"{_ATOM}entry"), 1):
        raw_id = (entry.findtext(f"{_ATOM}id") or "").strip()
        loc = f"{src} (entry {number}{', ' + raw_id if raw_id else ''})"
        link = next((ln.get("href") for ln in entry.findall(f"{_ATOM}link") if ln.get("rel") == "alternate"), None)
        record = {
            "title": entry.findtext(f"{_ATOM}title"),
            "abstract": entry.findtext(f"{_ATOM}summary"),
            "authors": [a.findtext(f"{_ATOM}name") or "" for a in entry.findall(f"{_ATOM}author")],
            "year": (entry.findtext(f"{_ATOM}published") or "")[:4] or None,
            "url": link or raw_id or None,
            "doi": entry.findtext(f"{_ARXIV}doi"),
            "venue": entry.findtext(f"{_ARXIV}journal_ref"),
            "arxiv_id": raw_id.rsplit("/abs/", 1)[-1] if "/abs/" in raw_id else None,
        }
        try:
            yield loc, paper_from_fields(record, loc, src)
        except CorpusError as exc:
            yield loc, exc


def read_arxiv_atom(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read a saved arXiv API search result (Atom XML)."""
    src = str(path)
    return collect(atom_entries(parse_atom_feed(text, src), src), src, strict=strict, fmt="arxiv-atom")


def _arxiv_record(obj: Any, loc: str, src: str) -> Paper:
    if not isinstance(obj, dict):
        raise CorpusError(f"{loc}: expected a JSON object of the arXiv metadata snapshot")
    versions = obj.get("versions") or []
    year = None
    if obj.get("update_date"):
        year = str(obj["update_date"])[:4]
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        match = re.search(r"\b(19|20)\d\d\b", str(versions[0].get("created", "")))
        year = match.group(0) if match else year
    arxiv_id = str(obj.get("id") or "").strip() or None
    return paper_from_fields(
        {
            "title": obj.get("title"),
            "abstract": obj.get("abstract"),
            "authors": obj.get("authors") or [],
            "year": year,
            "doi": obj.get("doi"),
            "venue": obj.get("journal-ref"),
            "arxiv_id": arxiv_id,
            "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
        },
        loc,
        src,
    )


def read_arxiv_json(path: Path, text: str | Iterable[str | None], *, strict: bool = False, **_: Any) -> Corpus:
    """Read arXiv metadata snapshot JSON lines (``text``: the file's text, or its lines as
    :func:`~paperlike.readers.lines.file_lines` gives them)."""
    src = str(path)
    return collect(jsonl_entries(text, src, _arxiv_record), src, strict=strict, fmt="arxiv-json")
