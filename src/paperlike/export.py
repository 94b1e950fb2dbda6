"""Write papers out: BibTeX (for reference managers), JSONL (round-trips through
``paperlike index build``) and CSV.

All three are safe whatever the papers hold (paper text is untrusted: it comes from files and
feeds): no BibTeX value can close its field or entry (see :func:`latex_encode` and
:func:`_verbatim`), and no CSV cell starts like a spreadsheet formula (see
:func:`spreadsheet_safe`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from .format_registry import EXPORT_FORMATS, find_export_format
from .identity import normalize_doi
from .records import Paper
from .records.papers import ENTRY_TYPE, FIELD_NAME, VERBATIM_FIELDS, venue_field
from .text import clean_text, plain_text, unique_name

__all__ = ["EXPORT_FORMATS", "export_papers", "latex_encode", "spreadsheet_safe", "bibtex_text", "jsonl_text", "csv_text"]
_CSV_COLUMNS = ("id", "title", "abstract", "authors", "year", "url", "doi", "arxiv_id", "source", "venue", "tags", "collections")


# ---- CSV -------------------------------------------------------------------------------------

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets
# (the OWASP "CSV injection" list, plus the full-width forms some spreadsheets also accept).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula gets a leading
    ``'`` (OWASP's rule). Use it for every cell of text from papers or files."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(papers: Sequence[Paper]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in papers:
        row = {k: v for k, v in p.to_dict().items() if k in _CSV_COLUMNS}
        row["authors"] = ", ".join(p.authors)
        row["tags"] = "; ".join(p.tags)
        row["collections"] = "; ".join(p.collections)
        # One line per row (a CR or tab in a cell from a hand-edited index would break it), and
        # no cell a spreadsheet would run.
        writer.writerow({k: spreadsheet_safe(clean_text(v)) for k, v in row.items()})
    return out.getvalue()


# ---- BibTeX ----------------------------------------------------------------------------------

# ASCII characters that LaTeX (and so every BibTeX reader that decodes) gives a meaning to.
_SPECIAL = {
    "\\": r"{\textbackslash}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"{\textasciitilde}",
}


# A pair that LaTeX joins into another character ("--" is a dash, "``" a quote): split by "{}".
_LIGATURES = {("-", "-"), ("`", "`"), ("'", "'"), ("?", "`"), ("!", "`")}


_MONTHS = frozenset("jan feb mar apr may jun jul aug sep oct nov dec".split())


def latex_encode(text: str, *, braced: bool = False) -> str:
    """``text`` as a LaTeX value that decodes back to exactly ``text``, safe inside ``{...}``.

    Braces that pair up become ``\\{ ... \\}``; one without a partner becomes ``\\lbrace{}`` or
    ``\\rbrace{}``, so the braces of the value always balance, for BibTeX (which counts ``\\{``)
    and for parsers that skip it alike: no value can close its field or entry. Accented letters
    become LaTeX accents (``ü`` -> ``\\"u``); characters LaTeX has no name for stay as they are
    (the file is UTF-8). ``braced`` puts every command in braces (``{\\~N}``, ``{\\%}``), as
    names need: BibTeX's name parser would take the ``~`` of ``\\~N`` for a space, and
    bibtexparser's name splitter loses a word that starts with ``\\``.
    """
    text = clean_text(text)
    partner = _brace_partners(text)
    out = []
    for i, ch in enumerate(text):
        if ch in "{}":
            piece = ("\\" + ch) if i in partner else (r"\lbrace{}" if ch == "{" else r"\rbrace{}")
        elif ch in _SPECIAL:
            piece = _SPECIAL[ch]
        else:
            piece = _encode_char(ch) if ord(ch) > 127 else ch
        if braced and piece[:1] == "\\":
            piece = "{" + piece.removesuffix("{}") + "}"
        out.append(piece)
        if (ch, text[i + 1 : i + 2]) in _LIGATURES:
            out.append("{}")
    return "".join(out)


def _brace_partners(text: str) -> set[int]:
    """Positions of the braces of ``text`` that pair up."""
    opened: list[int] = []
    paired: set[int] = set()
    for i, ch in enumerate(text):
        if ch == "{":
            opened.append(i)
        elif ch == "}" and opened:
            paired.update((opened.pop(), i))
    return paired


@lru_cache(maxsize=4096)
def _encode_char(ch: str) -> str:
    """A non-ASCII character in LaTeX, when its LaTeX decodes back to it on its own."""
    from pylatexenc.latexencode import UnicodeToLatexEncoder

    latex = UnicodeToLatexEncoder(unknown_char_policy="keep", unknown_char_warning=False).unicode_to_latex(ch)
    if latex[:1] == "\\" and latex[1:2].isalpha() and not latex.endswith("}"):
        latex = "{" + latex + "}"  # "\ss" + "e" would read as "\sse"
    return latex if plain_text(latex) == ch else ch


def _safe_verbatim(value: str) -> bool:
    """Whether a value can go inside ``{...}`` as it is: braces balance (counted with and without
    the backslash escapes that some parsers honour) and no backslash touches a brace or the end."""
    depth = 0
    for i, ch in enumerate(value):
        depth += (ch == "{") - (ch == "}")
        if depth < 0 or (ch == "\\" and value[i + 1 : i + 2] in ("{", "}", "")):
            return False
    return depth == 0


def _verbatim(value: str) -> str:
    """An identifier (URL, DOI, pages...) as written, unless it could break out of its field:
    then its braces and backslashes are percent-encoded (``%7B``, ``%7D``, ``%5C``: what they are
    in a URL anyway)."""
    value = clean_text(value)
    if _safe_verbatim(value):
        return value
    return value.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


class _FoldedNames:
    """Keys taken so far, compared without case (BibTeX and biber treat Smith20 and smith20 as one)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.casefold() in self._seen

    def add(self, name: str) -> None:
        self._seen.add(name.casefold())


_KEY = re.compile(r"[A-Za-z0-9_:.\-]+")


def _bib_key(paper_id: str, taken: _FoldedNames) -> str:
    # BibTeX keys cannot hold spaces, commas, braces or quotes.
    if not _KEY.fullmatch(paper_id):
        paper_id = re.sub(r"[^A-Za-z0-9_:.\-]+", "-", paper_id).strip("-") or "paper"
    key = unique_name(paper_id, taken)
    taken.add(key)
    return key


# A name BibTeX would split ("Barnes and Noble") or turn around ("Doe, Jane" is Jane Doe).
_SPLITS_NAME = re.compile(r",|(?<!\S)and(?!\S)", re.IGNORECASE)


def _bib_name(name: str) -> str:
    """One author, kept one author in the given order: braced when BibTeX would split it."""
    encoded = latex_encode(name, braced=True)
    return "{" + encoded + "}" if _SPLITS_NAME.search(name) else encoded


def _entry_type(paper: Paper) -> str:
    if paper.entry_type and ENTRY_TYPE.fullmatch(paper.entry_type):
        return paper.entry_type
    return "misc" if paper.arxiv_id or not paper.doi else "article"


def _bib_fields(paper: Paper, kind: str) -> Iterator[tuple[str, str]]:
    """``(name, value as written)`` for every field of the entry, each name once."""
    yield "title", latex_encode(paper.title)
    if paper.authors:
        yield "author", " and ".join(_bib_name(a) for a in paper.authors)
    if paper.venue:
        yield venue_field(kind), latex_encode(paper.venue)
    if paper.year is not None:
        yield "year", str(paper.year)
    for name, value in paper.fields:
        if FIELD_NAME.fullmatch(name) and value:
            yield name, _verbatim(value) if name in VERBATIM_FIELDS else latex_encode(value)
    yield from _bib_links(paper)
    if paper.tags:
        yield "keywords", ", ".join(latex_encode(t) for t in paper.tags)
    if paper.abstract:
        yield "abstract", latex_encode(paper.abstract)


def _bib_links(paper: Paper) -> Iterator[tuple[str, str]]:
    """DOI, URL and arXiv eprint, as written (never LaTeX: "%" and "~" are common in URLs)."""
    if paper.doi:
        yield "doi", _verbatim(normalize_doi(paper.doi) or paper.doi)
    if paper.url:
        yield "url", _verbatim(paper.url)
    if paper.arxiv_id:
        yield "eprint", _verbatim(paper.arxiv_id)
        yield "archiveprefix", "arXiv"


def _bib_entry(paper: Paper, key: str) -> str:
    kind = _entry_type(paper)
    lines, written = [], set()
    for name, value in _bib_fields(paper, kind):
        if name in written:  # a name in paper.fields that a field of the paper already wrote
            continue
        written.add(name)
        # Month macros (jan...dec) go unbraced, so that styles print the month's name.
        lines.append(f"  {name} = {value if name == 'month' and value in _MONTHS else '{' + value + '}'},\n")
    return f"@{kind}{{{key},\n{''.join(lines)}}}\n"


def bibtex_text(papers: Sequence[Paper]) -> str:
    taken = _FoldedNames()
    return "\n".join(_bib_entry(paper, _bib_key(paper.id, taken)) for paper in papers)


def jsonl_text(papers: Sequence[Paper]) -> str:
    return "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in papers)


def export_papers(papers: Sequence[Paper], fmt: str) -> str:
    """The papers as text in ``fmt`` (a name in :mod:`paperlike.format_registry`).

    BibTeX keeps each paper's entry type, venue and other fields (so a .bib read in comes back
    out with nothing a citation needs lost); keys are the paper ids, made BibTeX-safe and unique
    without case. CSV cells are :func:`spreadsheet_safe`.

    Raises:
        ValueError: Unknown format.
    """
    return find_export_format(fmt).write(papers)
