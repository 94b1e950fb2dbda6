"""What every reader shares: reading the file, turning fields into a Paper, collecting entries
into a corpus (skip or fail on malformed entries, merge duplicates, give ids)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Union

from ..errors import CorpusError
from ..identity import merge_duplicates
from ..records import Corpus, Paper
from ..text import clean_text, slugify

__all__ = ["Entry", "collect", "assign_ids", "paper_from_fields", "read_text"]

_clean = clean_text


def assign_ids(papers: list[Paper], where: list[str]) -> list[Paper]:
    """Give every paper a unique id; explicit ids are kept, others become title slugs.

    Args:
        papers: Papers whose ``id`` is ``""`` where the source had none.
        where: For each paper, its location (``file:line``) for error messages.

    Returns:
        The papers with ids filled in; generated clashes get ``-2``, ``-3``... in file order.

    Raises:
        CorpusError: Two papers carry the same explicit id.
    """
    seen: dict[str, str] = {}
    dupes: list[str] = []
    for paper, loc in zip(papers, where):
        if paper.id:
            if paper.id in seen:
                dupes.append(f"'{paper.id}' ({seen[paper.id]} and {loc})")
            else:
                seen[paper.id] = loc
    if dupes:
        raise CorpusError(
            f"duplicate ids in corpus: {', '.join(dupes[:5])}"
            + (f" and {len(dupes) - 5} more" if len(dupes) > 5 else "")
            + "; give each paper a unique 'id' or drop the 'id' field to use title slugs"
        )
    taken = set(seen)
    out = []
    for paper in papers:
        if not paper.id:
            base = slugify(paper.title) or "paper-" + hashlib.sha1(paper.title.encode("utf-8")).hexdigest()[:8]
            new_id, n = base, 1
            while new_id in taken:
                n += 1
                new_id = f"{base}-{n}"
            taken.add(new_id)
            paper = Paper(**{**asdict(paper), "id": new_id})
        out.append(paper)
    return out


def finish(papers: list[Paper], where: list[str], source: str) -> Corpus:
    return collect(list(zip(where, papers)), source)


Entry = tuple[str, Union["Paper", CorpusError]]  # (file:line, the paper read there or why it was skipped)


def collect(entries: Iterable[Entry], source: str, *, strict: bool = False) -> Corpus:
    """Turn the entries a reader produced into a corpus: skip malformed ones (or fail, ``strict``),
    merge duplicates, give every paper its id, and note what was done.

    Args:
        entries: ``(location, Paper or CorpusError)`` in file order; papers may have ``id == ""``.
        source: The file, for messages.
        strict: Raise on the first malformed entry instead of skipping it.

    Raises:
        CorpusError: No paper at all, a malformed entry under ``strict``, or two different papers
            with the same explicit id.
    """

    papers, where, problems = [], [], []
    source = clean_text(source)
    for loc, item in entries:
        if isinstance(item, CorpusError):
            if strict:
                raise CorpusError(f"{item} (--strict: nothing was written)")
            problems.append(str(item))
        else:
            papers.append(item if item.source is None else Paper(**{**asdict(item), "source": clean_text(item.source)}))
            where.append(loc)
    if not papers:
        if problems:
            raise CorpusError(f"no paper could be read from {source}; first problem: {problems[0]}")
        raise CorpusError(f"{source}: no papers found, only a page header; add each paper's title and abstract as paragraphs")
    papers, where, merged = merge_duplicates(papers, where)
    notes = []
    if problems:
        notes.append(
            f"skipped {len(problems)} malformed entr{'y' if len(problems) == 1 else 'ies'}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    if merged:
        notes.append(f"{source}: merged {merged} duplicate record(s) (same arXiv id, DOI or title)")
    empty = [loc for paper, loc in zip(papers, where) if not paper.abstract.strip()]
    if empty:
        notes.append(
            f"{source}: {len(empty)} paper(s) have an empty abstract and are indexed on their title only (first at {empty[0]})"
        )
    explicit = frozenset(p.id for p in papers if p.id)
    return Corpus(assign_ids(papers, where), source, notes, skipped=len(problems), merged=merged, explicit_ids=explicit)


def read_text(path: Path) -> str:
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path}; check the path")
    if path.is_dir():
        raise CorpusError(f"corpus path is a directory: {path}; give a file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not valid UTF-8 text; save the file as UTF-8") from None


def _year(value: Any, loc: str) -> int | None:
    """A four-digit year from a number or text such as "2024", " 2024-05-01" or "May 2024"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1000 <= value < 3000:
        return int(value)
    match = re.search(r"(?<!\d)(1\d{3}|2\d{3})(?!\d)", str(value)) if isinstance(value, str) else None
    if match is None:
        raise CorpusError(f"{loc}: 'year' must be a year such as 2024, got {str(value)[:40]!r}; fix or drop the field")
    return int(match.group(1))


def paper_from_fields(obj: Any, loc: str, src: str) -> Paper:
    """A paper from a dict of fields (title, abstract, id, authors, year, url, arxiv_id, doi, source).

    Raises:
        CorpusError: Not a dict, no title, or a field of the wrong kind (names ``loc``).
    """
    if not isinstance(obj, dict):
        raise CorpusError(f"{loc}: expected a JSON object with 'title' and 'abstract', got {type(obj).__name__}")
    for key in ("title", "abstract", "id", "url", "arxiv_id", "doi", "source"):
        if isinstance(obj.get(key), (dict, list, bool)):
            raise CorpusError(f"{loc}: '{key}' must be text, got {type(obj[key]).__name__}")
    title = _clean(obj.get("title"))
    if not title:
        raise CorpusError(f"{loc}: paper has no title; add a non-empty 'title' field")
    authors = obj.get("authors") or ()
    if isinstance(authors, str):
        # "A and B" (BibTeX style, names may hold commas), "A; B", else "A, B".
        sep = r"\s+and\s+" if re.search(r"\s+and\s+", authors) else ";" if ";" in authors else ","
        authors = [a.strip() for a in re.split(sep, authors) if a.strip()]
    elif not isinstance(authors, (list, tuple)):
        raise CorpusError(f"{loc}: 'authors' must be a list of names or a string")
    year = _year(obj.get("year"), loc)
    extra = {k: (_clean(obj[k]) or None) for k in ("url", "arxiv_id", "doi") if obj.get(k) is not None}
    return Paper(
        id=_clean(obj.get("id")),
        title=title,
        abstract=_clean(obj.get("abstract")),
        authors=tuple(_clean(a) for a in authors),
        year=year,
        source=_clean(obj.get("source")) or src,
        **extra,
    )
