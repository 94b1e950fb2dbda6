"""Storage: the only code that touches index files.

One manifest schema (:mod:`.manifest`), one verifier and one atomic write (:mod:`.files`), one
writer lock, generations (:mod:`.writer`), checkpoints, and the saved BM25 arrays and themes.
"""

from .index import PaperIndex, load_index, verify_index
from .manifest import MANIFEST, read_manifest
from .writer import write_index

__all__ = ["PaperIndex", "load_index", "verify_index", "read_manifest", "write_index", "MANIFEST"]
