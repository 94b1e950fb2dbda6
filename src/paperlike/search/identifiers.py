"""Identifiers a researcher types for a paper: a DOI, an arXiv id (new or old style, with or
without a version) and arXiv / doi.org / publisher (ACM, Springer, Wiley...) / other URLs, matched against the identifiers an index
stores for each paper (its ``doi``, ``arxiv_id`` and ``url``).

A query is only read as an identifier when the *whole* query has that shape, so a title that
happens to contain digits (``"GPT-4 Technical Report"``) is never taken for one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from ..identity import IDENTIFIER_LIMITS, normalize_arxiv_id, normalize_doi
from ..records import Paper

__all__ = ["Identifier", "parse_identifier", "paper_keys"]


_ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]{0,19}(?:\.[a-z]{2})?/\d{7})"
_ARXIV_QUERY = re.compile(rf"(?:arxiv:\s*)?({_ARXIV_ID})(?:v\d+)?", re.IGNORECASE)
_ARXIV_URL = re.compile(
    rf"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/({_ARXIV_ID})(?:v\d+)?(?:\.pdf)?/?",
    re.IGNORECASE,
)
_DOI_QUERY = re.compile(r"(?:doi:\s*|(?:https?://)?(?:dx\.|www\.)?doi\.org/)?10\.\d{4,9}/\S+", re.IGNORECASE)
# A DOI inside a publisher's URL: ".../doi/[abs|full|pdf|epdf|...]/10.x/y" (ACM, Wiley, Taylor &
# Francis, SAGE, ACS, Science...) and Springer's ".../article|chapter|book/10.x/y" and
# ".../content/pdf/10.x/y.pdf"; up to a query string or fragment. Each part is one character
# class or literal, so matching is linear in the (capped) length.
_PUBLISHER_DOI = re.compile(
    r"(?:https?://)?[^/\s]+/(?:doi/(?:[a-z]+/)?|(?:article|chapter|book|referenceworkentry|protocol)/|(?P<pdf>content/pdf/))"
    r"(?P<doi>10\.\d{4,9}/[^\s?#]+)(?:[?#]\S*)?",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# Longer queries are not identifiers (the longest DOIs and URLs people paste are far shorter);
# capped so no pattern ever runs over a pasted abstract. The one cap: identity's URL limit.
MAX_IDENTIFIER_CHARS = IDENTIFIER_LIMITS["url"]


@dataclass(frozen=True)
class Identifier:
    """A query read as an identifier.

    Attributes:
        kind: ``"arxiv"``, ``"doi"`` or ``"url"``.
        value: The normalised identifier (lowercase arXiv id without version, lowercase DOI, or a
            URL without scheme, ``www.`` and trailing slash).
    """

    kind: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def label(self) -> str:
        return {"arxiv": "arXiv id", "doi": "DOI", "url": "URL"}[self.kind]

    def describe(self) -> str:
        return f"{self.label} {self.value}"


def _normal_url(url: str) -> str:
    text = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE)
    host, _, rest = text.partition("/")
    host = host.lower().removeprefix("www.")
    return f"{host}/{rest}".rstrip("/") if rest else host


def _publisher_doi(url: str) -> str | None:
    """The DOI a publisher's URL names (see :data:`_PUBLISHER_DOI`), lowercase; None if none."""
    match = _PUBLISHER_DOI.fullmatch(url)
    if not match:
        return None
    doi = unquote(match.group("doi")).rstrip("/")
    if match.group("pdf"):  # Springer's PDF link: the DOI is the file name
        doi = re.sub(r"\.pdf$", "", doi, flags=re.IGNORECASE)
    return normalize_doi(doi)


def parse_identifier(query: str) -> Identifier | None:
    """The identifier a whole query is, or None when it is not shaped like one."""
    q = query.strip()
    if len(q) > MAX_IDENTIFIER_CHARS:  # longer than any identifier: free text (and no pattern's work)
        return None
    match = _ARXIV_QUERY.fullmatch(q) or _ARXIV_URL.fullmatch(q)
    if match:
        return Identifier("arxiv", match.group(1).lower())
    if _DOI_QUERY.fullmatch(q):
        doi = normalize_doi(re.sub(r"^(?:https?://)?www\.doi\.org/", "", q, flags=re.IGNORECASE))
        if doi:
            return Identifier("doi", doi)
    doi = _publisher_doi(q)
    if doi:
        return Identifier("doi", doi)
    if _URL.fullmatch(q):
        return Identifier("url", _normal_url(q))
    return None


def paper_keys(paper: Paper) -> Iterable[str]:
    """The identifier keys under which a paper is found (see :attr:`Identifier.key`)."""
    arxiv = normalize_arxiv_id(paper.arxiv_id)
    if arxiv:
        yield f"arxiv:{arxiv}"
    doi = normalize_doi(paper.doi)
    if doi:
        yield f"doi:{doi}"
    if paper.url and len(paper.url) <= IDENTIFIER_LIMITS["url"]:
        found = parse_identifier(paper.url)
        if found is not None:
            yield found.key  # an arxiv.org or doi.org link names the paper's arXiv id or DOI
        if found is None or found.kind != "url":
            yield f"url:{_normal_url(paper.url)}"
