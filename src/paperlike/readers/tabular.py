"""CSV and TSV files with a header row (title and abstract columns found by name)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus
from .base import Entry, collect, paper_from_fields

__all__ = ["read_csv", "read_tsv"]


_TITLE_COLUMNS = ("title", "paper title", "paper_title", "name", "article title")


_ABSTRACT_COLUMNS = ("abstract", "summary", "description", "abstract note", "abstractnote", "paper abstract")


# Other columns, by the names spreadsheets and Zotero's CSV export give them.
_OTHER_COLUMNS = {
    "id": ("id", "paper id", "paper_id"),
    "authors": ("authors", "author", "creators"),
    "year": ("year", "publication year", "pub year"),
    "url": ("url", "link"),
    "doi": ("doi",),
    "arxiv_id": ("arxiv_id", "arxiv id", "arxiv", "eprint"),
    "venue": ("venue", "publication title", "journal", "booktitle", "container-title"),
    "tags": ("tags", "manual tags", "keywords"),
    "collections": ("collections",),
}


def _pick_column(header: Sequence[str], wanted: str | None, names: tuple[str, ...], what: str, src: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    if wanted is not None:
        if wanted.strip().lower() not in lowered:
            raise CorpusError(f"{src}: no column '{wanted}'; columns are: {', '.join(header)}")
        return lowered[wanted.strip().lower()]
    for name in names:
        if name in lowered:
            return lowered[name]
    if what == "title":
        raise CorpusError(f"{src}: no title column among: {', '.join(header)}; name it with --title-col")
    return None


def read_csv(
    path: Path,
    text: str,
    *,
    strict: bool = False,
    title_col: str | None = None,
    abstract_col: str | None = None,
    delimiter: str | None = None,
) -> Corpus:
    """Read CSV or TSV with a header row; other known columns (id, authors, year, url, doi,
    arxiv_id, venue, tags, collections) are used when present."""
    src = str(path)
    if delimiter is None:
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        delimiter = "\t" if path.suffix.lower() == ".tsv" or first.count("\t") > first.count(",") else ","
    csv.field_size_limit(1 << 30)  # abstracts can be long; the default limit is 128 KB
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    if not header:
        raise CorpusError(f"{src}: no header row; the first line must name the columns (title, abstract, ...)")
    tcol = _pick_column(header, title_col, _TITLE_COLUMNS, "title", src)
    acol = _pick_column(header, abstract_col, _ABSTRACT_COLUMNS, "abstract", src)
    lowered = {h.strip().lower(): h for h in header}
    others = {key: next((lowered[n] for n in names if n in lowered), None) for key, names in _OTHER_COLUMNS.items()}

    def entries() -> Iterable[Entry]:
        start = 2
        try:
            for row in reader:
                loc = f"{src}:{start}"
                start = reader.line_num + 1
                if None in row:  # more cells than header names
                    yield (
                        loc,
                        CorpusError(
                            f"{loc}: {len(header) + len(row[None])} cells for {len(header)} columns; quote cells that hold '{delimiter}'"
                        ),
                    )
                    continue
                record = {key: row.get(column) for key, column in others.items() if column}
                if "authors" in record:  # Zotero: "Doe, Jane; Roe, Rick": commas are inside names
                    record["authors"] = [a.strip() for a in (record["authors"] or "").split(";") if a.strip()]
                record["title"] = row.get(tcol)
                record["abstract"] = row.get(acol) if acol else ""
                try:
                    yield loc, paper_from_fields(record, loc, src)
                except CorpusError as exc:
                    yield loc, exc
        except csv.Error as exc:
            yield f"{src}:{start}", CorpusError(f"{src}:{start}: broken CSV ({exc}); the rest of the file was not read")

    return collect(entries(), src, strict=strict, fmt="tsv" if delimiter == "\t" else "csv")


def read_tsv(path: Path, text: str, **kwargs: Any) -> Corpus:
    """Read tab-separated values with a header row."""
    return read_csv(path, text, delimiter="\t", **kwargs)
