"""Paper and Corpus: the plain records every layer passes around (no I/O here)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from ..text import clip_text, plain_text

__all__ = [
    "Paper",
    "Corpus",
    "FIELD_NAME",
    "ENTRY_TYPE",
    "VERBATIM_FIELDS",
    "venue_field",
    "venue_fields",
    "text_hash",
    "embedded_text",
    "paper_text_hash",
    "remember_text_hash",
]


# Names of the other bibliographic fields a paper may carry (BibTeX-style, lowercase).
FIELD_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


# Entry types: BibTeX's (article, inproceedings, misc...) or biblatex's (online, report...).
ENTRY_TYPE = re.compile(r"[a-z]{1,30}")


# Fields whose values are identifiers, numbers or dates: read and written exactly as they are
# (LaTeX decoding would eat "%" and "~" in a URL); every other field is prose, LaTeX-decoded on
# reading a .bib and LaTeX-encoded on export.
VERBATIM_FIELDS = frozenset(
    "url doi eprint eprinttype archiveprefix primaryclass eprintclass arxivid pages volume number issue "
    "year month date urldate isbn issn pmid pmcid lccn mrnumber zbl numpages articleno file timestamp "
    "biburl bibsource crossref langid".split()
)


# Where an entry type keeps its venue (BibTeX's standard fields); other types use "journal".
_VENUE_FIELD = {
    "inproceedings": "booktitle",
    "incollection": "booktitle",
    "inbook": "booktitle",
    "conference": "booktitle",
    "phdthesis": "school",
    "mastersthesis": "school",
    "thesis": "institution",
    "techreport": "institution",
    "report": "institution",
}


def venue_field(entry_type: str | None) -> str:
    """The BibTeX field that holds the venue of an entry of this type."""
    return _VENUE_FIELD.get(entry_type or "", "journal")


def venue_fields(entry_type: str | None) -> tuple[str, ...]:
    """Fields a venue is read from, best first: the type's own (and biblatex's ``journaltitle``
    for ``journal``). A field of another name stays in :attr:`Paper.fields`, so that an export
    writes each field back under its own name."""
    own = venue_field(entry_type)
    return (own, "journaltitle") if own == "journal" else (own,)


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
        venue: Journal, proceedings, book, school or institution the paper appeared in, if known
            (BibTeX ``journal``/``booktitle``, CSL ``container-title``, Zotero ``publicationTitle``...).
        entry_type: BibTeX entry type (``article``, ``inproceedings``, ``misc``...), if known.
        fields: Other bibliographic fields as ``(name, value)`` pairs in source order, with
            lowercase BibTeX names (``volume``, ``number``, ``pages``, ``publisher``, ``note``...).
        tags: Tags (Zotero tags, BibTeX ``keywords``, CSL ``keyword``).
        collections: Zotero collections holding the paper, as paths (``Thesis/Chapter 2``).
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
    venue: str | None = None
    entry_type: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()

    @cached_property
    def text(self) -> str:
        """The text that is embedded and searched: ``title + ". " + abstract`` (the title alone if
        no abstract), with LaTeX markup turned into plain text (``f{\\"u}r`` -> ``für``, ``{\\em x}``
        -> ``x``), at most :data:`~paperlike.text.MAX_TEXT_CHARS` characters (see
        :func:`~paperlike.text.clip_text`). The title and abstract themselves keep the source's
        text for display."""
        return _make_text(self)

    def field(self, name: str) -> str | None:
        """The value of the other bibliographic field ``name`` (see :attr:`fields`), if any."""
        return next((value for key, value in self.fields if key == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that drops empty optional fields (``fields`` becomes an object)."""
        data = asdict(self)
        for key in ("authors", "tags", "collections"):
            data[key] = list(data[key])
        data["fields"] = dict(self.fields)
        return {k: v for k, v in data.items() if v not in (None, [], (), {}) or k in ("id", "title", "abstract")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        """Inverse of :meth:`to_dict`; unknown keys are ignored (records written before a field
        existed load with its default).

        Raises:
            ValueError: A field has the wrong type (the record did not come from :meth:`to_dict`).
        """
        if not isinstance(data, dict):
            raise ValueError("paper record is not a JSON object")
        for key in ("id", "title"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"paper record has no string '{key}'")
        for key in ("abstract", "url", "arxiv_id", "doi", "source", "venue", "entry_type"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"paper field '{key}' is not a string")
        if data.get("entry_type") is not None and not ENTRY_TYPE.fullmatch(data["entry_type"]):
            raise ValueError("paper field 'entry_type' is not a lowercase BibTeX entry type")
        year = data.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise ValueError("paper field 'year' is not an integer")
        return cls(
            id=data["id"],
            title=data["title"],
            abstract=data.get("abstract") or "",
            authors=_strings(data, "authors"),
            year=year,
            url=data.get("url"),
            arxiv_id=data.get("arxiv_id"),
            doi=data.get("doi"),
            source=data.get("source"),
            venue=data.get("venue"),
            entry_type=data.get("entry_type"),
            fields=_field_pairs(data.get("fields")),
            tags=_strings(data, "tags"),
            collections=_strings(data, "collections"),
        )


def _make_text(paper: Paper) -> str:
    # Clip before decoding too: decoding LaTeX of a 50 MB abstract alone takes minutes.
    title = plain_text(clip_text(paper.title))
    if not paper.abstract.strip():
        return clip_text(title)
    return clip_text(f"{title}. {plain_text(clip_text(paper.abstract))}")


def embedded_text(paper: Paper) -> str:
    """``paper.text``, without keeping it on the record when it was not made before.

    A build makes every paper's text once, to hash it (and to embed it when new); kept on the
    records, a million texts held 1.2 GB through the rest of the build for nothing.
    """
    made = paper.__dict__.get("text")
    return made if isinstance(made, str) else _make_text(paper)


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    values = data.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"paper field '{key}' is not a list of strings")
    return tuple(values)


def _field_pairs(value: Any) -> tuple[tuple[str, str], ...]:
    """``fields`` as stored (an object of name -> text) back to ``(name, value)`` pairs."""
    if not value:
        return ()
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("paper field 'fields' is not an object of strings")
    bad = next((k for k in value if not FIELD_NAME.fullmatch(k)), None)
    if bad is not None:
        raise ValueError(f"paper field 'fields' has a bad name {bad[:40]!r}")
    return tuple(value.items())


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


def paper_text_hash(paper: Paper) -> str:
    """``text_hash(paper.text)``, without rebuilding the text of a paper seen before."""
    key = (paper.title, paper.abstract)
    found = _HASHES.get(key)
    if found is None:
        found = _HASHES[key] = text_hash(embedded_text(paper))
    return found


def remember_text_hash(title: str, abstract: str, digest: str) -> None:
    """Record the hash an index stored for a paper's text."""
    _HASHES[(title, abstract)] = digest
