"""The same paper arriving twice is one paper: identity keys and merging.

Two records are the same paper when they share an arXiv id (any version: ``2401.01234v2`` is
``2401.01234``), a DOI (case-insensitive, with or without ``https://doi.org/``), or a normalised
title (case, accents, punctuation and spacing ignored; titles of at least 4 words only) unless
the records contradict each other (different arXiv ids, DOIs or explicit ids; see
:func:`same_paper`). Near-duplicates are listed by :mod:`paperlike.search.dupes`, never merged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict

from .records import Paper

__all__ = [
    "normalize_arxiv_id",
    "normalize_doi",
    "normalize_title",
    "identity_keys",
    "same_paper",
    "find_same",
    "merge_into",
    "merge_duplicates",
]


_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(v\d+)?", re.IGNORECASE)


_ARXIV_OLD = re.compile(r"([a-z\-]+(?:\.[a-z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)


def normalize_arxiv_id(value: str | None) -> str | None:
    """``arXiv:2401.01234v2``, ``https://arxiv.org/abs/2401.01234`` -> ``2401.01234``; None if none."""
    if not value:
        return None
    text = str(value).strip()
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.search(text)
        if match:
            return match.group(1).lower()
    return None


def normalize_doi(value: str | None) -> str | None:
    """``https://doi.org/10.1000/ABC`` and ``doi:10.1000/abc`` -> ``10.1000/abc``; None if none."""
    if not value:
        return None
    text = str(value).strip().lower()
    text = re.sub(r"^(https?://)?(dx\.)?doi\.org/", "", text)
    text = re.sub(r"^doi:\s*", "", text)
    return text if text.startswith("10.") and "/" in text else None


def normalize_title(title: str) -> str | None:
    """Lowercase ASCII words of a title, single-spaced; None for titles under 4 words."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_title)
    return " ".join(words) if len(words) >= 4 else None


def identity_keys(paper: Paper) -> list[str]:
    """The keys under which two records are the same paper."""
    keys = []
    arxiv, doi = _strong(paper)
    if arxiv:
        keys.append(f"arxiv:{arxiv}")
    if doi:
        keys.append(f"doi:{doi}")
    title = normalize_title(paper.title)
    if title:
        keys.append(f"title:{title}")
    return keys


def _strong(paper: Paper) -> tuple[str | None, str | None]:
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
    (arxiv_a, doi_a), (arxiv_b, doi_b) = _strong(a), _strong(b)
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

    A missing abstract is taken from ``later`` (so the merged paper may embed differently).
    """
    data = asdict(first)
    for key, value in asdict(later).items():
        if key == "id":
            continue
        if data.get(key) in (None, "", ()) and value not in (None, "", ()):
            data[key] = value
    if not first.id and later.id:
        data["id"] = later.id
    return Paper(**data)


def merge_duplicates(papers: Sequence[Paper], where: Sequence[str]) -> tuple[list[Paper], list[str], int]:
    """Merge records of the same paper, keeping the first one's position and id (even when the
    later record carries another explicit id, e.g. ``smith2020a`` for a second copy in a .bib).

    Returns:
        ``(papers, where, merged)``: the distinct papers, their locations, how many were merged.
    """
    owner: dict[str, int] = {}
    out: list[Paper] = []
    out_where: list[str] = []
    merged = 0
    for paper, loc in zip(papers, where):
        keys = identity_keys(paper)
        hit = find_same(paper, owner, out)
        if hit is not None:
            out[hit] = merge_into(out[hit], paper)
            merged += 1
            for k in identity_keys(out[hit]):
                owner.setdefault(k, hit)
            continue
        for k in keys:
            owner.setdefault(k, len(out))
        out.append(paper)
        out_where.append(loc)
    return out, out_where, merged
