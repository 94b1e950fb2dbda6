"""Write papers out: BibTeX (for reference managers), JSONL (round-trips through
``paperlike index build``) and CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

from .identity import normalize_doi
from .records import Paper

__all__ = ["EXPORT_FORMATS", "export_papers"]

EXPORT_FORMATS = ("bibtex", "jsonl", "csv")
_CSV_COLUMNS = ("id", "title", "abstract", "authors", "year", "url", "doi", "arxiv_id", "source")


def _bib_key(paper_id: str, taken: set[str]) -> str:
    # BibTeX keys cannot hold spaces, commas, braces or quotes.
    key = re.sub(r"[^A-Za-z0-9_:.\-]+", "-", paper_id).strip("-") or "paper"
    base, n = key, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    taken.add(key)
    return key


def _bibtex(papers: Sequence[Paper]) -> str:
    import bibtexparser
    from bibtexparser import middlewares as mw
    from bibtexparser.model import Entry, Field  # noqa: F811 - Field is used after encoding too

    library = bibtexparser.Library()
    taken: set[str] = set()
    for paper in papers:
        fields = [Field("title", paper.title)]
        if paper.authors:
            fields.append(Field("author", " and ".join(paper.authors)))
        if paper.year is not None:
            fields.append(Field("year", str(paper.year)))
        if paper.abstract:
            fields.append(Field("abstract", paper.abstract))
        if paper.doi:
            fields.append(Field("doi", normalize_doi(paper.doi) or paper.doi))
        if paper.url:
            fields.append(Field("url", paper.url))
        if paper.arxiv_id:
            fields += [Field("eprint", paper.arxiv_id), Field("archiveprefix", "arXiv")]
        entry_type = "misc" if paper.arxiv_id or not paper.doi else "article"
        library.add(Entry(entry_type, _bib_key(paper.id, taken), fields))
    # LaTeX-encode: "ü" -> {\"u}, "%" -> \%, braces escaped, so any reference manager reads it.
    encoded = mw.LatexEncodingMiddleware(keep_math=True, enclose_urls=False).transform(library)
    # Identifiers are not prose: DOIs, URLs and arXiv ids go out exactly as they are.
    raw = {p_key: p for p_key, p in zip((e.key for e in library.entries), papers)}
    for entry in encoded.entries:
        paper = raw[entry.key]
        for name, value in (("doi", normalize_doi(paper.doi) or paper.doi), ("url", paper.url), ("eprint", paper.arxiv_id)):
            if value:
                entry.set_field(Field(name, value))
    return bibtexparser.write_string(encoded)


def export_papers(papers: Sequence[Paper], fmt: str) -> str:
    """The papers as text in ``fmt`` (one of :data:`EXPORT_FORMATS`).

    Raises:
        ValueError: Unknown format.
    """
    if fmt == "jsonl":
        return "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in papers)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for p in papers:
            row = {k: v for k, v in p.to_dict().items() if k in _CSV_COLUMNS}
            row["authors"] = ", ".join(p.authors)
            writer.writerow(row)
        return out.getvalue()
    if fmt == "bibtex":
        return _bibtex(papers)
    raise ValueError(f"unknown export format '{fmt}'; known: {', '.join(EXPORT_FORMATS)}")
