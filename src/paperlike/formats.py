"""Readers for the corpus formats beyond Daily Papers text and JSONL (see :mod:`paperlike.corpus`).

* BibTeX (``.bib``; Zotero, Google Scholar, ACM): parsed with ``bibtexparser`` v2, ``@string``
  macros resolved, LaTeX accents decoded; the entry key becomes the paper id.
* CSV / TSV with a header: title and abstract columns found by name (or chosen).
* arXiv API Atom XML (a saved search result).
* arXiv metadata JSON lines (the public snapshot: ``id``, ``title``, ``abstract``, ``authors``,
  ``categories``, ``versions``, ``update_date``).
* CSL-JSON (Zotero's "CSL JSON" export): an array of items.

Each reader returns a :class:`~paperlike.corpus.Corpus`; malformed entries are skipped with a
note naming file and line (or entry key), or raise under ``strict``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from pathlib import Path
from typing import Any, Callable, Iterable
from xml.etree import ElementTree

from .corpus import FORMATS, Corpus, Entry, collect, paper_from_fields, plain_text
from .errors import CorpusError

__all__ = ["detect_format", "read_bibtex", "read_csv", "read_arxiv_atom", "read_arxiv_json", "read_csl_json", "READERS"]

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
}
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"


def detect_format(path: Path, text: str) -> str:
    """Guess a file's format from its extension, then from its first characters.

    Raises:
        CorpusError: The content matches no known format (names the formats known).
    """
    suffix = path.suffix.lower()
    by_suffix = {".bib": "bibtex", ".bibtex": "bibtex", ".csv": "csv", ".tsv": "tsv", ".xml": "arxiv-atom",
                 ".atom": "arxiv-atom", ".txt": "daily", ".md": "daily"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    head = text.lstrip()[:4000]
    if suffix in (".jsonl", ".ndjson", ".json") or head.startswith(("{", "[")):
        if head.startswith("[") and suffix not in (".jsonl", ".ndjson"):
            return "csl-json"
        first = head.splitlines()[0] if head else ""
        try:
            obj = json.loads(first)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict) and "title" not in obj and ("type" in obj or "issued" in obj):
            return "csl-json"
        # The arXiv snapshot: an arXiv id, versions and an abstract (a user's own "id" is not enough).
        if (
            isinstance(obj, dict)
            and "versions" in obj
            and "abstract" in obj
            and re.fullmatch(r"\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7}", str(obj.get("id", "")))
        ):
            return "arxiv-json"
        return "jsonl" if suffix != ".json" or isinstance(obj, dict) else "csl-json"
    if suffix in by_suffix:
        return by_suffix[suffix]
    if head.startswith("<"):
        return "arxiv-atom"
    if head.startswith("@") or re.search(r"^\s*@\w+\s*\{", head, re.MULTILINE):
        return "bibtex"
    first_line = head.splitlines()[0].lower() if head else ""
    if "\t" in first_line and "title" in first_line:
        return "tsv"
    if "," in first_line and "title" in first_line:
        return "csv"
    # A Daily Papers page is printable text in paragraphs separated by blank lines.
    if "\n\n" in head.replace("\r\n", "\n") and not re.search(r"[\x00-\x08\x0e-\x1f\x7f]", head):
        return "daily"
    raise CorpusError(f"{path}: unknown corpus format; known formats: {', '.join(FORMATS)} (use --format)")


# -- BibTeX ----------------------------------------------------------------------------------------


def _bib_names(value: Any) -> list[str]:
    names = []
    for part in value if isinstance(value, list) else [value]:
        if hasattr(part, "first"):  # bibtexparser NameParts
            names.append(" ".join(part.first + part.von + part.last + part.jr).strip())
        else:
            names.append(" ".join(str(part).split()))
    return [n for n in names if n]


def read_bibtex(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read a BibTeX file (entries without an abstract are indexed on their title)."""
    import bibtexparser
    from bibtexparser import middlewares as mw

    # bibtexparser logs each broken block on its own; we report them as skipped entries instead.
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    src = str(path)
    # No LaTeX decoding in the parser: it would also "decode" URLs and DOIs (% starts a comment,
    # ~ becomes a space). Titles, abstracts and names are decoded below, field by field.
    library = bibtexparser.parse_string(text, append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts()])
    entries: list[tuple[int, Entry]] = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        first = (block.raw or "").strip().splitlines()[0][:40] if (block.raw or "").strip() else ""
        reason = getattr(block, "error", None)
        if "Duplicate" in type(block).__name__:
            why = "a duplicate entry key or field"
        else:
            why = "unbalanced braces or quotes?"
        del reason
        entries.append((line, (f"{src}:{line}", CorpusError(f"{src}:{line}: malformed BibTeX entry '{first}' ({why})"))))
    for entry in library.entries:
        line = (entry.start_line or 0) + 1
        loc = f"{src}:{line} ({entry.key})"
        fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
        eprint = fields.get("eprint") if str(fields.get("archiveprefix", "arxiv")).lower() == "arxiv" else None
        year = fields.get("year")
        record = {
            "id": entry.key,
            "title": plain_text(str(fields.get("title") or "")),
            "abstract": plain_text(str(fields.get("abstract") or "")),
            "authors": [plain_text(n) for n in _bib_names(fields.get("author", []))],
            # "in press", "forthcoming": a year BibTeX allows but that is no year; drop it, keep the paper.
            "year": year if year is None or re.search(r"(1|2)\d{3}", str(year)) else None,
            "url": fields.get("url"),
            "doi": fields.get("doi"),
            "arxiv_id": eprint or fields.get("arxivid") or fields.get("arxiv"),
        }
        try:
            entries.append((line, (loc, paper_from_fields(record, loc, src))))
        except CorpusError as exc:
            entries.append((line, (loc, exc)))
    entries.sort(key=lambda e: e[0])
    return collect([e for _, e in entries], src, strict=strict)


# -- CSV / TSV -------------------------------------------------------------------------------------


def _pick_column(header: list[str], wanted: str | None, names: tuple[str, ...], what: str, src: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    if wanted is not None:
        if wanted.strip().lower() not in lowered:
            raise CorpusError(f"{src}: no column '{wanted}'; columns are: {', '.join(header)}")
        return lowered[wanted.strip().lower()]
    for name in names:
        if name in lowered:
            return lowered[name]
    if what == "title":
        raise CorpusError(
            f"{src}: no title column among: {', '.join(header)}; name it with --title-col"
        )
    return None


def read_csv(path: Path, text: str, *, strict: bool = False, title_col: str | None = None,
             abstract_col: str | None = None, delimiter: str | None = None) -> Corpus:
    """Read CSV or TSV with a header row; other known columns (id, authors, year, url, doi,
    arxiv_id) are used when present."""
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
                    yield loc, CorpusError(f"{loc}: {len(header) + len(row[None])} cells for {len(header)} columns; quote cells that hold '{delimiter}'")
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

    return collect(entries(), src, strict=strict)


def read_tsv(path: Path, text: str, **kwargs: Any) -> Corpus:
    """Read tab-separated values with a header row."""
    return read_csv(path, text, delimiter="\t", **kwargs)


# -- arXiv -----------------------------------------------------------------------------------------


def read_arxiv_atom(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read a saved arXiv API search result (Atom XML)."""
    src = str(path)
    try:
        # Bytes, not str: the parser must see the declared encoding, and lone surrogates
        # (possible in text handed over from Python) become replacement characters.
        root = ElementTree.fromstring(text.encode("utf-8", "replace"))
    except ElementTree.ParseError as exc:
        line = exc.position[0] if exc.position else 1
        raise CorpusError(f"{src}:{line}: not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc}); "
                          "save the arXiv API response as it came") from None
    if root.tag != f"{_ATOM}feed":
        raise CorpusError(f"{src}: not an Atom feed (root element {root.tag!r}); expected an arXiv API response")

    def entries() -> Iterable[Entry]:
        for number, entry in enumerate(root.findall(f"{_ATOM}entry"), 1):
            raw_id = (entry.findtext(f"{_ATOM}id") or "").strip()
            loc = f"{src} (entry {number}{', ' + raw_id if raw_id else ''})"
            link = next((l.get("href") for l in entry.findall(f"{_ATOM}link") if l.get("rel") == "alternate"), None)
            record = {
                "title": entry.findtext(f"{_ATOM}title"),
                "abstract": entry.findtext(f"{_ATOM}summary"),
                "authors": [a.findtext(f"{_ATOM}name") or "" for a in entry.findall(f"{_ATOM}author")],
                "year": (entry.findtext(f"{_ATOM}published") or "")[:4] or None,
                "url": link or raw_id or None,
                "doi": entry.findtext(f"{_ARXIV}doi"),
                "arxiv_id": raw_id.rsplit("/abs/", 1)[-1] if "/abs/" in raw_id else None,
            }
            try:
                yield loc, paper_from_fields(record, loc, src)
            except CorpusError as exc:
                yield loc, exc

    return collect(entries(), src, strict=strict)


def _arxiv_record(obj: Any, loc: str, src: str):
    if not isinstance(obj, dict):
        raise CorpusError(f"{loc}: expected a JSON object of the arXiv metadata snapshot")
    versions = obj.get("versions") or []
    year = None
    if obj.get("update_date"):
        year = str(obj["update_date"])[:4]
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        match = re.search(r"\b(19|20)\d\d\b", str(versions[0].get("created", "")))
        year = match.group(0) if match else year
    arxiv_id = str(obj.get("id") or "").strip() or None
    return paper_from_fields(
        {
            "title": obj.get("title"),
            "abstract": obj.get("abstract"),
            "authors": obj.get("authors") or [],
            "year": year,
            "doi": obj.get("doi"),
            "arxiv_id": arxiv_id,
            "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
        },
        loc,
        src,
    )


def read_arxiv_json(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read arXiv metadata snapshot JSON lines."""
    from .corpus import _jsonl_entries

    src = str(path)
    return collect(_jsonl_entries(text, src, _arxiv_record), src, strict=strict)


# -- CSL-JSON --------------------------------------------------------------------------------------


def _csl_record(item: Any, loc: str, src: str):
    if not isinstance(item, dict):
        raise CorpusError(f"{loc}: expected a CSL-JSON item (an object)")
    authors = []
    people = item.get("author") or []
    if not isinstance(people, list):
        raise CorpusError(f"{loc}: 'author' must be a list of people")
    for person in people:
        if isinstance(person, dict):
            name = person.get("literal") or " ".join(str(person.get(k, "")) for k in ("given", "family")).strip()
            if name:
                authors.append(name)
    year = None
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = parts[0][0]
        elif issued.get("raw"):
            year = str(issued["raw"])[:4]
    raw_id = str(item.get("id") or "")
    # Zotero ids are often URLs or numbers: keep only ids that work as short command-line names.
    explicit = raw_id if re.fullmatch(r"[A-Za-z][\w.:-]{0,39}", raw_id) else ""
    return paper_from_fields(
        {"id": explicit, "title": item.get("title"), "abstract": item.get("abstract"), "authors": authors,
         "year": year, "url": item.get("URL"), "doi": item.get("DOI")},
        loc,
        src,
    )


def read_csl_json(path: Path, text: str, *, strict: bool = False, **_: Any) -> Corpus:
    """Read CSL-JSON: an array of items (a single item object is accepted too)."""
    src = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{src}:{exc.lineno}: not valid JSON ({exc.msg}); export the library again as CSL JSON") from None
    except RecursionError:
        raise CorpusError(f"{src}: JSON nested too deeply; export the library again as CSL JSON") from None
    items = data if isinstance(data, list) else [data]

    def entries() -> Iterable[Entry]:
        for number, item in enumerate(items, 1):
            key = item.get("id") if isinstance(item, dict) else None
            loc = f"{src} (item {number}{', ' + str(key) if key else ''})"
            try:
                yield loc, _csl_record(item, loc, src)
            except CorpusError as exc:
                yield loc, exc

    return collect(entries(), src, strict=strict)


READERS: dict[str, Callable[..., Corpus]] = {
    "bibtex": read_bibtex,
    "csv": read_csv,
    "tsv": read_tsv,
    "arxiv-atom": read_arxiv_atom,
    "arxiv-json": read_arxiv_json,
    "csl-json": read_csl_json,
}
