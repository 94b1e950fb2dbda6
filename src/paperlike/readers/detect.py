"""Which format a corpus file is in, from its extension and its first bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import CorpusError

__all__ = ["FORMATS", "detect_format"]

FORMATS = ("daily", "jsonl", "bibtex", "csv", "tsv", "arxiv-atom", "arxiv-json", "csl-json")


def detect_format(path: Path, text: str) -> str:
    """Guess a file's format from its extension, then from its first characters.

    Raises:
        CorpusError: The content matches no known format (names the formats known).
    """
    suffix = path.suffix.lower()
    by_suffix = {
        ".bib": "bibtex",
        ".bibtex": "bibtex",
        ".csv": "csv",
        ".tsv": "tsv",
        ".xml": "arxiv-atom",
        ".atom": "arxiv-atom",
        ".txt": "daily",
        ".md": "daily",
    }
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
