"""Which format a corpus file is in, from its extension and its first bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import CorpusError
from .formats import FORMAT_LABELS, FORMATS, SQLITE_HEADER, format_by_magic, format_by_suffix

__all__ = ["FORMATS", "FORMAT_NAMES", "SQLITE_HEADER", "detect_format", "sniff_format"]

# The format names, and how messages name each, come from the records in .formats.
FORMAT_NAMES = FORMAT_LABELS

# The arXiv snapshot's ids: new style (2401.01234) or old style (hep-th/9901001).
_ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7}")


def detect_format(path: Path, text: str) -> str:
    """Guess a file's format from its extension, then from its first characters.

    Raises:
        CorpusError: The content matches no known format (names the formats known).
    """
    suffix = path.suffix.lower()
    found = format_by_suffix(suffix) or sniff_format(text, suffix)
    if found is None:
        raise CorpusError(f"{path}: unknown corpus format; known formats: {', '.join(FORMATS)} (use --format)")
    return found


def sniff_format(text: str, suffix: str = "") -> str | None:
    """The format the content looks like (the extension only tells JSON lines from CSL-JSON),
    or None when it looks like none."""
    binary = format_by_magic(text[:64].encode("latin-1", "replace"))
    if binary is not None:
        return binary
    head = text.lstrip()[:4000]
    if suffix in (".jsonl", ".ndjson", ".json") or head.startswith(("{", "[")):
        return _json_kind(head, suffix)
    if head.startswith("<"):
        return "arxiv-atom"
    if head.startswith("@") or re.search(r"^\s*@\w+\s*\{", head, re.MULTILINE):
        return "bibtex"
    first_line = head.splitlines()[0].lower() if head else ""
    if "title" in first_line and ("\t" in first_line or "," in first_line):
        return "tsv" if "\t" in first_line else "csv"
    # A Daily Papers page is printable text in paragraphs separated by blank lines.
    if "\n\n" in head.replace("\r\n", "\n") and not re.search(r"[\x00-\x08\x0e-\x1f\x7f]", head):
        return "daily"
    return None


def _json_kind(head: str, suffix: str) -> str:
    """JSON lines, the arXiv snapshot (JSON lines too) or CSL-JSON (one array or object)."""
    if head.startswith("[") and suffix not in (".jsonl", ".ndjson"):
        return "csl-json"
    first = head.splitlines()[0] if head else ""
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):
        obj = None
    if not isinstance(obj, dict):
        return "csl-json" if suffix == ".json" else "jsonl"
    if "title" not in obj and ("type" in obj or "issued" in obj):
        return "csl-json"
    # The arXiv snapshot: an arXiv id, versions and an abstract (a user's own "id" is not enough).
    if "versions" in obj and "abstract" in obj and _ARXIV_ID.fullmatch(str(obj.get("id", ""))):
        return "arxiv-json"
    return "jsonl"
