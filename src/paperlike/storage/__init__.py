"""Storage: the only code that touches index files.

One manifest schema (:mod:`.manifest`), one check of every name read from disk (:mod:`.names`),
one verifier and one atomic write (:mod:`.files`), one writer lock (:mod:`.lock`), generations
and the record of which files are paperlike's (:mod:`.writer`, :mod:`.generations`),
checkpoints, and the saved BM25 arrays and themes.
"""

from .index import PaperIndex, load_index, verify_index
from .manifest import MANIFEST, read_manifest
from .writer import write_index

__all__ = ["PaperIndex", "load_index", "verify_index", "read_manifest", "write_index", "MANIFEST"]
