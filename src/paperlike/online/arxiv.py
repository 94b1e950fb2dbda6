"""The arXiv API (``export.arxiv.org/api/query``): papers by id, and the latest papers of a category.

Its answers are Atom feeds, read by the same reader as a saved arXiv export
(:mod:`paperlike.readers.arxiv`), so a fetched title or abstract is cleaned as a file's is.
Many ids go in one request (``id_list``, :data:`IDS_PER_REQUEST` at a time) and requests are
3 s apart, as arXiv's terms of use ask.

An answer is untrusted: one that declares a DTD (entities, which could expand without end) is
refused before it is parsed; one that is not an Atom feed (a network's login page), that holds
arXiv's error entry, or that is arXiv's plain "Rate exceeded." is an error.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

from ..errors import CorpusError, OnlineError, QueryError
from ..identity import normalize_arxiv_id
from ..readers.arxiv import atom_entries
from ..readers.base import collect
from ..records import Corpus, Paper
from ..settings import ENV_ARXIV_API, Settings
from ..text import clean_text, cut_words
from .fetch import Http, Service

__all__ = [
    "IDS_PER_REQUEST",
    "RECORD_MAX_AGE",
    "LISTING_MAX_AGE",
    "MAX_LISTING",
    "CATEGORY",
    "arxiv_service",
    "fetch_arxiv",
    "arxiv_listing",
    "parse_arxiv_answer",
]

IDS_PER_REQUEST = 100
# How long a cached answer is used: a paper's record changes rarely (a new version), the latest
# listing of a category daily.
RECORD_MAX_AGE = 7 * 24 * 3600.0
LISTING_MAX_AGE = 3600.0
# The most papers of a listing asked for in one request (arXiv's own limit is 2,000 a page).
MAX_LISTING = 1000
# An arXiv category: cs.LG, stat.ML, math.AP, hep-th, astro-ph.CO, cond-mat.mes-hall.
CATEGORY = re.compile(r"[a-z][a-z-]{0,19}(?:\.[A-Za-z][A-Za-z-]{0,19})?")
_SRC = "arXiv API"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ERROR_ID = "/api/errors"
_ATOM = "{http://www.w3.org/2005/Atom}"


def arxiv_service(settings: Settings) -> Service:
    return Service("the arXiv API", settings.arxiv_api, ENV_ARXIV_API, interval=3.0, explains_errors=True)


def _url(base: str, params: dict[str, str | int]) -> str:
    # Commas, slashes and colons stay readable (old-style ids, cat:cs.LG); arXiv reads both forms.
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params, quote_via=quote, safe=',/:')}"


def parse_arxiv_answer(body: bytes) -> list[Paper]:
    """The papers of an arXiv API answer (an Atom feed), with ids made from their titles.

    Raises:
        OnlineError: The answer is a rate limit, declares a DTD, is not an Atom feed, or is
            arXiv's error entry.
    """
    if body.strip() == b"Rate exceeded.":
        raise OnlineError("rate limited by the arXiv API (Rate exceeded.), try again in 30 s")
    if _DTD.search(body):
        raise OnlineError("the arXiv API's answer declares a DTD, which an arXiv feed never does; it was not read")
    try:
        root = ElementTree.fromstring(body)  # bytes: the parser reads the declared encoding
    except (ElementTree.ParseError, LookupError, ValueError) as exc:  # LookupError: an encoding Python lacks
        why = cut_words(clean_text(exc), 100)
        raise OnlineError(f"the arXiv API's answer is not well-formed XML ({why}); try again later") from None
    if root.tag != f"{_ATOM}feed":
        tag = cut_words(clean_text(root.tag), 40)
        raise OnlineError(
            f"the arXiv API's answer is not an Atom feed (root element {tag!r}; a network's login page?); try again later"
        )
    entries = list(atom_entries(root, _SRC))
    for _, item in entries:
        if isinstance(item, Paper) and _ERROR_ID in (item.url or ""):
            raise OnlineError(f"the arXiv API answered with an error: {cut_words(clean_text(item.abstract), 100)}")
    if not entries:
        return []
    try:
        return list(collect(entries, _SRC).papers)
    except CorpusError as exc:
        raise OnlineError(f"the arXiv API's answer holds no readable paper ({cut_words(str(exc), 100)})") from None


def fetch_arxiv(http: Http, ids: list[str]) -> dict[str, Paper]:
    """The arXiv records of ``ids`` (arXiv ids, any version), by normalised id; an id arXiv does
    not know is left out."""
    wanted = sorted({n for i in ids if (n := normalize_arxiv_id(i))})
    service = arxiv_service(http.settings)
    found: dict[str, Paper] = {}
    for start in range(0, len(wanted), IDS_PER_REQUEST):
        chunk = wanted[start : start + IDS_PER_REQUEST]
        url = _url(service.base, {"id_list": ",".join(chunk), "start": 0, "max_results": len(chunk)})
        for paper in http.get(service, url, parse_arxiv_answer, max_age=RECORD_MAX_AGE) or []:
            key = normalize_arxiv_id(paper.arxiv_id)
            if key in chunk:
                found.setdefault(key, paper)
    return found


def arxiv_listing(http: Http, category: str, max_results: int = 100) -> Corpus:
    """The latest ``max_results`` papers submitted to an arXiv category, newest first.

    Raises:
        QueryError: Not a category's name, ``max_results`` out of range, or a category arXiv
            lists no paper in.
        OnlineError: As :meth:`Http.get`.
    """
    name = clean_text(category) if isinstance(category, str) else ""
    if not CATEGORY.fullmatch(name):
        raise QueryError(f"--arxiv takes an arXiv category such as cs.LG, stat.ML or hep-th, got {cut_words(name, 40)!r}")
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= MAX_LISTING:
        raise QueryError(f"--latest must be a whole number from 1 to {MAX_LISTING} (got {max_results!r})")
    service = arxiv_service(http.settings)
    params: dict[str, str | int] = {
        "search_query": f"cat:{name}",
        "sortBy": "submittedDate",
        "sortOrder": "descending",
        "start": 0,
        "max_results": max_results,
    }
    papers = http.get(service, _url(service.base, params), parse_arxiv_answer, max_age=LISTING_MAX_AGE) or []
    if not papers:
        raise QueryError(f"arXiv lists no paper in category {name!r}; check its name (e.g. cs.LG, stat.ML, hep-th, math.AP)")
    return Corpus(papers, f"arXiv {name} (latest {len(papers)})")
