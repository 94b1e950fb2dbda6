"""The export formats paperlike writes: one record each, registered in one place.

Dependency-free on purpose (no numpy): the CLI reads names and help from here without importing
the writers. Every surface (``--format`` choices of ``export``, ``similar``, ``papers`` and
``rank``, the web API's parameter, media type and file extension, the OpenAPI document) reads
this registry; :func:`paperlike.export.export_papers` calls the record's writer. Adding a format
is one writer function (``papers -> text``) and one record registered here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .registries import Registry, load_callable

__all__ = [
    "ExportFormat",
    "EXPORT_FORMATS",
    "EXPORT_TYPES",
    "register_export_format",
    "unregister_export_format",
    "find_export_format",
]


@dataclass(frozen=True)
class ExportFormat:
    """One export format.

    Attributes:
        name: What ``--format`` and the API's ``format`` take.
        media_type: The HTTP Content-Type of a download.
        extension: The file extension of a download (no dot).
        summary: One line for the docs.
        writer: ``"module:function"`` of the writer, ``papers -> text``, imported on first use
            (so naming formats costs no import).
    """

    name: str
    media_type: str
    extension: str
    summary: str
    writer: str

    def write(self, papers: Sequence[Any]) -> str:
        return load_callable(self.writer)(papers)


_FORMATS: Registry[ExportFormat] = Registry("export format")
register_export_format = _FORMATS.register
unregister_export_format = _FORMATS.unregister
find_export_format = _FORMATS.find
EXPORT_FORMATS: Sequence[str] = _FORMATS.names
# {format: (media type, extension)} of a download.
EXPORT_TYPES: Mapping[str, tuple[str, str]] = _FORMATS.view(lambda fmt: (fmt.media_type, fmt.extension))

register_export_format(
    ExportFormat(
        "bibtex",
        "application/x-bibtex; charset=utf-8",
        "bib",
        "BibTeX, each paper's entry type, venue and fields kept; keys are the paper ids.",
        "paperlike.export:bibtex_text",
    )
)
register_export_format(
    ExportFormat(
        "jsonl",
        "application/x-ndjson; charset=utf-8",
        "jsonl",
        "JSON lines, one paper record a line (what paperlike reads back).",
        "paperlike.export:jsonl_text",
    )
)
register_export_format(
    ExportFormat(
        "csv",
        "text/csv; charset=utf-8",
        "csv",
        "CSV, cells a spreadsheet would run as formulas neutralised.",
        "paperlike.export:csv_text",
    )
)
