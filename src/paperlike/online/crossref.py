"""Crossref's REST API (``api.crossref.org/works/{doi}``): a paper's record by DOI.

One request per DOI (Crossref has no batch lookup by DOI). The answer is JSON; its abstract,
when the publisher deposited one, is JATS XML (``<jats:p>...</jats:p>``): the tags are dropped
and the text unescaped, never parsed as XML. Every field is checked for its kind before use and
the record goes through :func:`~paperlike.readers.base.paper_from_fields`, as a file's would.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import quote

from ..errors import CorpusError, OnlineError
from ..identity import normalize_doi
from ..readers.base import paper_from_fields
from ..records import Paper
from ..settings import ENV_CROSSREF_API, Settings
from ..text import clean_text, cut_words, slugify
from .fetch import Http, Service

__all__ = ["RECORD_MAX_AGE", "crossref_service", "fetch_crossref", "parse_crossref_work", "jats_text"]

RECORD_MAX_AGE = 7 * 24 * 3600.0
# A tag: no nested angle brackets, bounded, so the scan is linear in the text.
_TAG = re.compile(r"<[^<>]{0,2000}>")
_ABSTRACT_HEADING = re.compile(r"^abstract\b[.:]?\s*", re.IGNORECASE)
_DATE_KEYS = ("issued", "published", "published-print", "published-online", "created")


def crossref_service(settings: Settings) -> Service:
    return Service("Crossref", settings.crossref_api.rstrip("/"), ENV_CROSSREF_API)


def _untagged(value: Any) -> str:
    """Text with markup tags dropped (JATS, or the ``<i>`` of a title) and entities unescaped."""
    return clean_text(html.unescape(_TAG.sub(" ", value))) if isinstance(value, str) else ""


def jats_text(value: Any) -> str:
    """Plain text of a JATS abstract: tags dropped, entities unescaped, a leading "Abstract" heading left out."""
    return _ABSTRACT_HEADING.sub("", _untagged(value))


def _first_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, str) and v.strip()), None)
    return None


def _authors(value: Any) -> list[str]:
    names = []
    for person in value if isinstance(value, list) else []:
        if not isinstance(person, dict):
            continue
        parts = [person.get(k) for k in ("given", "family")]
        name = " ".join(p for p in parts if isinstance(p, str)) or person.get("name")
        if isinstance(name, str) and name.strip():
            names.append(name)
    return names


def _year(message: dict[str, Any]) -> int | None:
    for key in _DATE_KEYS:
        parts = message.get(key, {}).get("date-parts") if isinstance(message.get(key), dict) else None
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = parts[0][0]
            if type(year) is int and 1000 <= year < 3000:
                return year
    return None


def parse_crossref_work(body: bytes, doi: str) -> Paper:
    """The paper of Crossref's answer for ``doi``.

    Raises:
        OnlineError: Not JSON, not a work record, or a record without a title.
    """
    try:
        answer = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise OnlineError(f"Crossref's answer for DOI {doi} is not JSON; try again later") from None
    message = answer.get("message") if isinstance(answer, dict) else None
    if not isinstance(message, dict):
        raise OnlineError(f"Crossref's answer for DOI {doi} is not a work record; try again later")
    record = {
        "title": _untagged(_first_text(message.get("title"))),
        "abstract": jats_text(message.get("abstract")),
        "authors": _authors(message.get("author")),
        "year": _year(message),
        "doi": normalize_doi(_first_text(message.get("DOI"))) or doi,
        "url": _first_text(message.get("URL")) or f"https://doi.org/{doi}",
        "venue": _first_text(message.get("container-title")),
    }
    try:
        paper = paper_from_fields(record, f"Crossref ({doi})", "Crossref")
    except CorpusError as exc:
        raise OnlineError(f"Crossref's record of DOI {doi} cannot be used ({cut_words(str(exc), 80)})") from None
    return replace(paper, id=slugify(paper.title) or "paper")


def fetch_crossref(http: Http, dois: list[str]) -> dict[str, Paper]:
    """The Crossref records of ``dois``, by normalised DOI; a DOI Crossref does not know (HTTP
    404) is left out."""
    service = crossref_service(http.settings)
    found: dict[str, Paper] = {}
    for doi in sorted({n for d in dois if (n := normalize_doi(d))}):
        url = f"{service.base}/works/{quote(doi, safe='/')}"
        paper = http.get(service, url, partial(parse_crossref_work, doi=doi), max_age=RECORD_MAX_AGE, missing_ok=True)
        if paper is not None:
            found[doi] = paper
    return found
