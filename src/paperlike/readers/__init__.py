"""Readers: one module per corpus format, a registry, and the bundled papers.

Every reader returns a :class:`~paperlike.records.Corpus`; :func:`read_corpus` detects the format.
"""

from .base import MAX_CORPUS_BYTES, Entry, assign_ids, collect, paper_from_fields
from .corpus import FORMATS, READERS, read_corpus
from .daily import BUNDLED_SOURCE, bundled_corpus, bundled_file_sha256, read_daily_papers
from .detect import detect_format
from .jsonl import read_jsonl
from .zotero import read_zotero

__all__ = [
    "FORMATS",
    "READERS",
    "read_corpus",
    "detect_format",
    "read_daily_papers",
    "read_jsonl",
    "read_zotero",
    "MAX_CORPUS_BYTES",
    "bundled_corpus",
    "bundled_file_sha256",
    "BUNDLED_SOURCE",
    "Entry",
    "collect",
    "assign_ids",
    "paper_from_fields",
]
