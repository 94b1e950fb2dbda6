"""The same paper arriving twice is one paper: identity keys and merging.

Two records are the same paper when they share an arXiv id (any version: ``2401.01234v2`` is
``2401.01234``), a DOI (case-insensitive, with or without ``https://doi.org/``), or a normalised
title (case, accents, punctuation and spacing ignored, letters of every script kept; titles of at
least 4 words only) unless the records contradict each other (different arXiv ids, DOIs or
explicit ids; see :func:`same_paper`). Sameness is transitive within one import: A = B by DOI and
B = C by arXiv id make one paper of the three (union-find over the keys). Near-duplicates are
listed by :mod:`paperlike.search.dupes`, and merged only when asked (``dupes --merge``, with
:func:`richness` choosing the record kept and :func:`merge_records` the merged fields).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence

from .records import Paper

__all__ = [
    "IDENTIFIER_LIMITS",
    "normalize_arxiv_id",
    "normalize_doi",
    "normalize_title",
    "identity_keys",
    "strong_ids",
    "same_paper",
    "find_same",
    "merge_into",
    "merge_duplicates",
    "is_published",
    "richness",
    "author_key",
    "merge_records",
    "contradict",
]


# The longest identifier read as one (longer: no identifier). Real ones are far shorter (an arXiv
# id: 20 characters, a DOI: rarely 100); the limits keep every pattern's work small whatever a
# file holds, and an over-long value out of the index (issue 23 §3: a 60 KB arXiv id cost minutes).
IDENTIFIER_LIMITS = {"id": 200, "arxiv_id": 200, "doi": 300, "url": 2000}


_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(v\d+)?", re.IGNORECASE)


# Old-style ids (``hep-th/9901001``): an archive name (at most 20 letters, starting where a run of
# letters starts, so a search is linear: an unbounded run was tried from each of its letters).
_ARXIV_OLD = re.compile(r"(?<![a-z\-])([a-z\-]{1,20}(?:\.[a-z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)


def normalize_arxiv_id(value: str | None) -> str | None:
    """``arXiv:2401.01234v2``, ``https://arxiv.org/abs/2401.01234`` -> ``2401.01234``; None if none."""
    text = str(value or "").strip()
    if not text or len(text) > IDENTIFIER_LIMITS["arxiv_id"]:
        return None
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.search(text)
        if match:
            return match.group(1).lower()
    return None


def normalize_doi(value: str | None) -> str | None:
    """``https://doi.org/10.1000/ABC`` and ``doi:10.1000/abc`` -> ``10.1000/abc``; None if none."""
    text = str(value or "").strip().lower()
    if not text or len(text) > IDENTIFIER_LIMITS["doi"]:
        return None
    text = re.sub(r"^(https?://)?(dx\.)?doi\.org/", "", text)
    text = re.sub(r"^doi:\s*", "", text)
    return text if text.startswith("10.") and "/" in text else None


def normalize_title(title: str) -> str | None:
    """Case-folded words of a title without accents or punctuation, single-spaced; None for
    titles under 4 words.

    Accents are dropped (``für`` is ``fur``: a source that lost its accents names the same paper)
    but letters are kept in every script: ``α-helix ...`` and ``β-helix ...``, or two Chinese
    titles, stay apart (they were merged, and one paper lost, when only ASCII letters counted).
    """
    decomposed = unicodedata.normalize("NFKD", title)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", bare).casefold())
    return " ".join(words) if len(words) >= 4 else None


def identity_keys(paper: Paper) -> list[str]:
    """The keys under which two records are the same paper."""
    keys = []
    arxiv, doi = strong_ids(paper)
    if arxiv:
        keys.append(f"arxiv:{arxiv}")
    if doi:
        keys.append(f"doi:{doi}")
    title = normalize_title(paper.title)
    if title:
        keys.append(f"title:{title}")
    return keys


def strong_ids(paper: Paper) -> tuple[str | None, str | None]:
    """The paper's normalised arXiv id (from its arxiv_id or an arxiv.org URL) and DOI."""
    arxiv = normalize_arxiv_id(paper.arxiv_id) or normalize_arxiv_id(
        paper.url if paper.url and "arxiv.org" in paper.url else None
    )
    return arxiv, normalize_doi(paper.doi)


def same_paper(a: Paper, b: Paper, key: str) -> bool:
    """Whether two records sharing identity ``key`` are one paper.

    A shared arXiv id or DOI decides. A shared title alone does not when the records contradict
    each other: different arXiv ids, different DOIs, or different explicit ids (two papers may
    well be called "Introduction to the Special Issue").
    """
    if not key.startswith("title:"):
        return True
    (arxiv_a, doi_a), (arxiv_b, doi_b) = strong_ids(a), strong_ids(b)
    if (arxiv_a and arxiv_b and arxiv_a != arxiv_b) or (doi_a and doi_b and doi_a != doi_b):
        return False
    return not (a.id and b.id and a.id != b.id)


def find_same(paper: Paper, owner: dict[str, int], papers: Sequence[Paper]) -> int | None:
    """Position in ``papers`` of the record ``paper`` is the same paper as, via ``owner`` (key -> position)."""
    for key in identity_keys(paper):
        if key in owner and same_paper(papers[owner[key]], paper, key):
            return owner[key]
    return None


def merge_into(first: Paper, later: Paper) -> Paper:
    """``first`` with its empty fields filled from ``later``; ``first``'s id and text win otherwise.

    Every field is filled this way (url, DOI, venue, year...); ``fields`` gains the names
    ``first`` lacks, and ``tags`` and ``collections`` are the union of both. A missing abstract
    is taken from ``later`` (so the merged paper may embed differently).
    """
    data = {f.name: getattr(first, f.name) for f in dataclasses.fields(Paper)}
    for name, value in data.items():
        other = getattr(later, name)
        if name == "fields":
            known = {key for key, _ in value}
            data[name] = value + tuple(pair for pair in other if pair[0] not in known)
        elif name in ("tags", "collections"):
            data[name] = value + tuple(v for v in dict.fromkeys(other) if v not in value)
        elif value in (None, "", ()) and other not in (None, "", ()):
            data[name] = other
    return Paper(**data)


class _Groups:
    """Union-find over record positions; each group remembers its strong ids, to refuse a title
    match between records that contradict each other."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        self.parent = list(range(len(papers)))
        self.ids: list[tuple[set[str], set[str], set[str]]] = []
        for paper in papers:
            arxiv, doi = strong_ids(paper)
            self.ids.append(({arxiv} if arxiv else set(), {doi} if doi else set(), {paper.id} if paper.id else set()))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def contradict(self, a: int, b: int) -> bool:
        return any(x and y and x.isdisjoint(y) for x, y in zip(self.ids[a], self.ids[b]))

    def union(self, a: int, b: int) -> None:
        keep, drop = min(a, b), max(a, b)  # the earliest record stays the group's root
        self.parent[drop] = keep
        for mine, theirs in zip(self.ids[keep], self.ids[drop]):
            mine |= theirs


def merge_duplicates(papers: Sequence[Paper], where: Sequence[str]) -> tuple[list[Paper], list[str], int]:
    """Merge records of the same paper, keeping the first one's position and id (even when a
    later record carries another explicit id, e.g. ``smith2020a`` for a second copy in a .bib).

    Sameness is transitive: records joined by any chain of shared arXiv ids or DOIs are one paper;
    a shared title joins two groups only when they do not contradict each other (different
    arXiv ids, DOIs or explicit ids).

    Returns:
        ``(papers, where, merged)``: the distinct papers, their locations, how many were merged.
    """
    groups = _Groups(papers)
    owner: dict[str, int] = {}
    for i, paper in enumerate(papers):
        for key in identity_keys(paper):
            j = owner.setdefault(key, i)
            a, b = groups.find(i), groups.find(j)
            if a != b and not (key.startswith("title:") and groups.contradict(a, b)):
                groups.union(a, b)
    members: dict[int, list[int]] = {}
    for i in range(len(papers)):
        members.setdefault(groups.find(i), []).append(i)
    out, out_where = [], []
    for root, positions in members.items():
        paper = papers[root]
        for i in positions[1:]:
            paper = merge_into(paper, papers[i])
        out.append(paper)
        out_where.append(where[root])
    return out, out_where, len(papers) - len(out)


# arXiv's own DOIs (``10.48550/arXiv.2401.01234``) name the preprint, not a publication.
_ARXIV_DOI_PREFIX = "10.48550/"


def is_published(paper: Paper) -> bool:
    """Whether a record is of a published version: it has a venue, or a DOI that is not arXiv's."""
    doi = normalize_doi(paper.doi)
    return bool(paper.venue) or bool(doi and not doi.startswith(_ARXIV_DOI_PREFIX))


def richness(paper: Paper) -> tuple[int, int, int]:
    """How complete a record is, compared in this order: published (:func:`is_published`) over
    a preprint, then more known fields (abstract, authors, year, URL, arXiv id, DOI, venue, entry
    type, and each other field), then the longer abstract. The larger tuple is the richer record."""
    abstract = paper.abstract.strip()
    known = (abstract, paper.authors, paper.year, paper.url, paper.arxiv_id, paper.doi, paper.venue, paper.entry_type)
    return int(is_published(paper)), sum(1 for v in known if v) + len(paper.fields), len(abstract)


def _folded_words(text: str) -> list[str]:
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return re.findall(r"[^\W_]+", bare.casefold())


def author_key(name: str) -> str:
    """An author as compared when two author lists are joined: the last name and the first
    initial, case, accents and punctuation aside (``Smith, John``, ``John Smith`` and ``J. Smith``
    are one author)."""
    if "," in name:
        last, first = name.split(",", 1)
    else:
        parts = name.split()
        last, first = (parts[-1], " ".join(parts[:-1])) if parts else ("", "")
    initials = _folded_words(first)
    return " ".join(_folded_words(last)) + (f" {initials[0][0]}" if initials else "")


def merge_records(keep: Paper, other: Paper) -> Paper:
    """The record of two versions of one paper (``dupes --merge``): ``keep``'s id, title and fields,
    each empty one filled from ``other`` (so both identifiers are kept: the DOI of the published
    version and the arXiv id of the preprint), tags, collections and other fields joined
    (:func:`merge_into`), the longer abstract (``keep``'s on a tie), and ``keep``'s authors
    followed by those of ``other`` it lacks (compared by :func:`author_key`, so one author written
    two ways is not listed twice)."""
    merged = merge_into(keep, other)
    abstract = other.abstract if len(other.abstract.strip()) > len(merged.abstract.strip()) else merged.abstract
    known = {author_key(a) for a in merged.authors}
    extra = []
    for author in other.authors:
        if author_key(author) not in known:
            known.add(author_key(author))
            extra.append(author)
    return dataclasses.replace(merged, abstract=abstract, authors=merged.authors + tuple(extra))


def contradict(a: Sequence[Paper], b: Sequence[Paper]) -> bool:
    """Whether two groups of records name different papers: different arXiv ids, or different DOIs
    that are not arXiv's (a preprint's arXiv DOI and its journal DOI are one paper's)."""
    ids = []
    for group in (a, b):
        arxiv = {x for p in group if (x := strong_ids(p)[0])}
        dois = {d for p in group if (d := strong_ids(p)[1]) and not d.startswith(_ARXIV_DOI_PREFIX)}
        ids.append((arxiv, dois))
    return any(x and y and x.isdisjoint(y) for x, y in zip(ids[0], ids[1]))
