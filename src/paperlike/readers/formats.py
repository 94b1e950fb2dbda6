"""The corpus formats paperlike reads: one record each, registered here.

Every table about formats comes from these records: the names ``--format`` accepts (``index
build``, ``add``, ``rank --format-in``), how messages name a format, the extensions that decide
it, the formats read line by line, the extensions an upload keeps, the web form's choices and the
OpenAPI document. Nothing here imports a reader: a record names its reader as
``"module:function"``, imported on first use.

Every reader has the common signature ``read(path, text, *, strict, title_col, abstract_col)
-> Corpus`` (``text``: the file's text; its lines for a ``streamed`` format; None for a binary
format, told by its ``magic`` first bytes and read from the path). Adding a format is one module
in this package and one ``register_reader`` line below; content sniffing (a file whose extension
does not decide) is in :func:`.detect.sniff_format`. :func:`.corpus.read_corpus` reads every
format through its record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..registries import Registry, load_callable

__all__ = [
    "ReaderFormat",
    "FORMATS",
    "FORMAT_LABELS",
    "READERS",
    "register_reader",
    "find_reader",
    "format_label",
    "format_by_suffix",
    "format_by_magic",
    "SQLITE_HEADER",
    "upload_suffixes",
]


@dataclass(frozen=True)
class ReaderFormat:
    """One corpus format.

    Attributes:
        name: What ``--format`` takes.
        label: How messages name it ("BibTeX", "a Daily Papers page").
        suffixes: File extensions that decide the format without looking inside.
        upload_suffixes: Extensions kept from an uploaded file's name (the reader then detects
            the format from them, as from a file on disk).
        reader: ``"module:function"`` of the reader, with the common signature (see the module docstring).
        streamed: Read line by line (never whole in memory), so the size limit of a whole file
            does not apply.
        uploadable: Offered in the web app's upload form.
        magic: The first bytes of every file of a binary format (read from its path, never
            decoded as text); None for a text format.
        empty_hint: What to tell about a file of this format that holds no paper (default: a
            sentence naming the format's label).
        plain_text: Plain paragraphs of text, the format a ``.txt`` file falls to; such a file
            may list papers by name instead, one a line (see :mod:`.idlist`).
    """

    name: str
    label: str
    suffixes: tuple[str, ...] = ()
    upload_suffixes: tuple[str, ...] = ()
    reader: str = ""
    streamed: bool = False
    uploadable: bool = True
    magic: bytes | None = None
    empty_hint: str | None = None
    plain_text: bool = False

    def __post_init__(self) -> None:
        if ":" not in self.reader:
            raise ValueError(f"format {self.name!r}: reader is 'module:function', not {self.reader!r}")

    def read(self, *args: Any, **kwargs: Any) -> Any:
        """Read a corpus with this format's reader (imported on first use)."""
        return load_callable(self.reader)(*args, **kwargs)


_READERS: Registry[ReaderFormat] = Registry("corpus format")
_REGISTRY = _READERS.records
register_reader = _READERS.register
unregister_reader = _READERS.unregister
find_reader = _READERS.find
FORMATS = _READERS.names
# How messages name each format, and the common-signature reader of each format that has one.
FORMAT_LABELS: Mapping[str, str] = _READERS.view(lambda fmt: fmt.label)
READERS: Mapping[str, Callable[..., Any]] = _READERS.view(lambda fmt: fmt.read)


def format_label(name: str) -> str:
    """How messages name a format (its name when unknown)."""
    return FORMAT_LABELS.get(name, name)


def format_by_suffix(suffix: str) -> str | None:
    """The format a file extension decides, or None."""
    for fmt in _REGISTRY.values():
        if suffix in fmt.suffixes:
            return fmt.name
    return None


def format_by_magic(data: bytes) -> str | None:
    """The binary format whose first bytes ``data`` starts with, or None."""
    for fmt in _REGISTRY.values():
        if fmt.magic is not None and data.startswith(fmt.magic):
            return fmt.name
    return None


def upload_suffixes() -> frozenset[str]:
    return frozenset(s for fmt in _REGISTRY.values() for s in fmt.upload_suffixes)


# The first 16 bytes of every SQLite 3 database file (a Zotero library is one: zotero.sqlite).
SQLITE_HEADER = b"SQLite format 3\x00"

register_reader(
    ReaderFormat(
        "daily",
        "a Daily Papers page",
        (".txt", ".md"),
        (".txt",),
        "paperlike.readers.daily:read_daily",
        empty_hint="no papers found, only a page header; add each paper's title and abstract as paragraphs",
        plain_text=True,
    )
)
register_reader(
    ReaderFormat("jsonl", "JSON lines", (), (".jsonl", ".json"), "paperlike.readers.jsonl:read_jsonl_text", streamed=True)
)
register_reader(
    ReaderFormat(
        "bibtex",
        "BibTeX",
        (".bib", ".bibtex"),
        (".bib",),
        "paperlike.readers.bibtex:read_bibtex",
        empty_hint="no BibTeX entry found; a BibTeX file holds entries such as @article{key, title = {...}}",
    )
)
register_reader(ReaderFormat("csv", "CSV", (".csv",), (".csv",), "paperlike.readers.tabular:read_csv"))
register_reader(ReaderFormat("tsv", "TSV", (".tsv",), (".tsv",), "paperlike.readers.tabular:read_tsv"))
register_reader(
    ReaderFormat("arxiv-atom", "an arXiv Atom feed", (".xml", ".atom"), (".xml",), "paperlike.readers.arxiv:read_arxiv_atom")
)
register_reader(
    ReaderFormat("arxiv-json", "arXiv metadata JSON", (), (), "paperlike.readers.arxiv:read_arxiv_json", streamed=True)
)
register_reader(ReaderFormat("csl-json", "CSL-JSON", (), (), "paperlike.readers.csl:read_csl_json"))
register_reader(
    ReaderFormat(
        "zotero",
        "a Zotero database",
        (),
        (),
        "paperlike.readers.zotero:read_zotero",
        uploadable=False,
        magic=SQLITE_HEADER,
    )
)
