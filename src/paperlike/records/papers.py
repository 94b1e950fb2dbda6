"""Paper and Corpus: the plain records every layer passes around (no I/O here)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from ..text import plain_text

__all__ = ["Paper", "Corpus", "text_hash", "paper_text_hash", "remember_text_hash"]


@dataclass(frozen=True)
class Paper:
    """One paper of a corpus.

    Attributes:
        id: Short unique id, usable on the command line.
        title: Title as written in the source.
        abstract: Abstract as written in the source; may be empty.
        authors: Author names, in order.
        year: Publication year, if known.
        url: Link to the paper, if known.
        arxiv_id: arXiv identifier, if known.
        doi: DOI, if known.
        source: Where the record came from (file name or collection).
    """

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    url: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    source: str | None = None

    @cached_property
    def text(self) -> str:
        """The text that is embedded: ``title + ". " + abstract`` (the title alone if no abstract),
        with LaTeX markup turned into plain text (``f{\\"u}r`` -> ``für``, ``{\\em x}`` -> ``x``).
        The title and abstract themselves keep the source's text for display."""
        title = plain_text(self.title)
        if not self.abstract.strip():
            return title
        return f"{title}. {plain_text(self.abstract)}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that drops empty optional fields."""
        data = asdict(self)
        data["authors"] = list(self.authors)
        return {k: v for k, v in data.items() if v not in (None, [], ()) or k in ("id", "title", "abstract")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        """Inverse of :meth:`to_dict`; unknown keys are ignored.

        Raises:
            ValueError: A field has the wrong type (the record did not come from :meth:`to_dict`).
        """
        if not isinstance(data, dict):
            raise ValueError("paper record is not a JSON object")
        for key in ("id", "title"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"paper record has no string '{key}'")
        for key in ("abstract", "url", "arxiv_id", "doi", "source"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"paper field '{key}' is not a string")
        authors = data.get("authors") or []
        if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
            raise ValueError("paper field 'authors' is not a list of strings")
        year = data.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise ValueError("paper field 'year' is not an integer")
        return cls(
            id=data["id"],
            title=data["title"],
            abstract=data.get("abstract") or "",
            authors=tuple(authors),
            year=year,
            url=data.get("url"),
            arxiv_id=data.get("arxiv_id"),
            doi=data.get("doi"),
            source=data.get("source"),
        )


@dataclass
class Corpus:
    """Papers read from one file, with the notes the reader made.

    Attributes:
        papers: The papers, in file order.
        source: Path of the file (or ``bundled:...`` for the bundled corpus).
        notes: Human-readable notes about what was repaired or skipped (e.g. empty abstracts).
        skipped: Malformed entries that were skipped.
        merged: Records merged into an earlier record of the same paper (same arXiv id, DOI or title).
        explicit_ids: Ids the source gave (the others were made from titles).
        file_sha256: SHA-256 of the source file's bytes, when known (lets the default index
            see that the bundled papers are unchanged without parsing them).
    """

    papers: list[Paper]
    source: str
    notes: list[str] = field(default_factory=list)
    skipped: int = 0
    merged: int = 0
    explicit_ids: frozenset[str] = frozenset()
    file_sha256: str | None = None

    def __len__(self) -> int:
        return len(self.papers)

    def sha256(self) -> str:
        """Hash of ids and embedded texts: equal hashes mean the same vectors would be built
        (other fields, such as authors or year, are not part of it)."""

        digest = hashlib.sha256()
        for paper in self.papers:
            digest.update(json.dumps([paper.id, paper_text_hash(paper)], ensure_ascii=False).encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()


def text_hash(text: str) -> str:
    """Key of one embedded text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# (title, abstract) -> text_hash(paper.text). Making the embedded text decodes LaTeX, which costs
# ~10 ms for some abstracts; indexes store each paper's hash, so known papers never pay it again.
_HASHES: dict[tuple[str, str], str] = {}


def paper_text_hash(paper) -> str:
    """``text_hash(paper.text)``, without rebuilding the text of a paper seen before."""
    key = (paper.title, paper.abstract)
    found = _HASHES.get(key)
    if found is None:
        found = _HASHES[key] = text_hash(paper.text)
    return found


def remember_text_hash(title: str, abstract: str, digest: str) -> None:
    """Record the hash an index stored for a paper's text."""
    _HASHES[(title, abstract)] = digest
