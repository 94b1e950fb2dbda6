"""Storage: the only code that touches index files.

One manifest schema (:mod:`.manifest`), one check of every name read from disk (:mod:`.names`),
one verifier and one atomic write (:mod:`.files`), one writer lock (:mod:`.lock`), generations
and the record of which files are paperlike's (:mod:`.writer`, :mod:`.generations`),
checkpoints, and the saved BM25 arrays and themes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .index import PaperIndex, load_index, verify_index
    from .manifest import MANIFEST, read_manifest
    from .writer import write_index

__all__ = ["PaperIndex", "load_index", "verify_index", "read_manifest", "write_index", "MANIFEST"]

# Loaded on first use (PEP 562): a light module of this package (stale.py, names.py) must not
# pull numpy and FAISS into `paperlike --help` through this file.
_HOME = {
    "PaperIndex": "index",
    "load_index": "index",
    "verify_index": "index",
    "MANIFEST": "manifest",
    "read_manifest": "manifest",
    "write_index": "writer",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
