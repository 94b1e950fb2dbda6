"""Vectors of batch papers ``rank`` has embedded before, so ranking the same file again embeds nothing.

Kept in the index folder, under ``.paperlike-rank-cache/``: per model identity, one pair of files
``<model-key>.npy`` (float32 vectors) and ``<model-key>.json`` (format, model identity, dimension,
the text hash of each row, and the SHA-256 of the ``.npy`` file). Each file is replaced
atomically; the checksum ties the pair together, so a pair left mismatched by two ranks writing
at once, or a damaged file, is ignored (and rewritten by the next rank), never trusted.

The cache is derived data: losing it only costs embedding time. It holds at most
:data:`MAX_ENTRIES` vectors, the most recently used; older ones are dropped. Writing it is best
effort: a read-only index folder ranks as before, just without remembering.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import files as store
from .checkpoints import model_key
from .names import RANK_CACHE_DIR, contained

__all__ = ["RANK_CACHE_DIR", "MAX_ENTRIES", "RankCache"]

log = logging.getLogger("paperlike")

# 4,096 MiniLM vectors are 6 MB: a few weeks of daily pages.
MAX_ENTRIES = 4096

_FORMAT = "paperlike-rank-cache"
_HASH = re.compile(r"^[0-9a-f]{32}$")


class RankCache:
    """Batch vectors by text hash for one model in one index folder.

    Args:
        directory: The index folder.
        identity: The model's identity (see :meth:`Embedder.identity`).
        dim: The model's vector size.
        limit: Most vectors kept (the most recently used).
        kind: A suffix naming a second cache of the same model (``"-marks"``).
    """

    def __init__(self, directory: str | Path, identity: dict[str, Any], dim: int, limit: int = MAX_ENTRIES, kind: str = ""):
        self.directory = Path(directory)
        self.identity = identity
        self.dim = int(dim)
        self.limit = limit
        self.root = self.directory / RANK_CACHE_DIR
        # kind "-marks": the marked papers' vectors, apart, so many marks never push a batch's out.
        key = model_key(identity) + kind
        self.keys_path = self.root / f"{key}.json"
        self.vectors_path = self.root / f"{key}.npy"

    def load(self) -> dict[str, np.ndarray]:
        """The cached vectors by text hash, oldest use first; empty when missing or damaged."""
        if not self.keys_path.exists():
            return {}
        try:
            contained(self.directory, RANK_CACHE_DIR)
            hashes, vectors = self._read()
        except Exception as exc:  # noqa: BLE001 - derived data: anything wrong means "not cached"
            log.warning("rank cache %s not used (%s)", self.keys_path, str(exc)[:120])
            return {}
        return dict(zip(hashes, vectors))

    def _read(self) -> tuple[list[str], np.ndarray]:
        record = store.read_json(self.keys_path)
        if not isinstance(record, dict) or record.get("format") != _FORMAT:
            raise ValueError("not a rank cache")
        if record.get("model") != self.identity or record.get("dim") != self.dim:
            raise ValueError("another model or dimension")
        hashes = record.get("hashes")
        if not (isinstance(hashes, list) and all(isinstance(h, str) and _HASH.fullmatch(h) for h in hashes)):
            raise ValueError("not a list of text hashes")
        with store.open_regular(self.vectors_path):  # not a FIFO or device (np.load would wait)
            pass
        # Mapped first, so a hostile header cannot make paperlike allocate before its shape is checked.
        mapped = np.load(self.vectors_path, mmap_mode="r", allow_pickle=False)
        if mapped.dtype != np.float32 or mapped.shape != (len(hashes), self.dim):
            raise ValueError(f"vectors of shape {mapped.shape} ({mapped.dtype}) for {len(hashes)} texts of dim {self.dim}")
        if store.sha256_file(self.vectors_path) != record.get("sha256"):
            raise ValueError("vectors do not match their key file")
        vectors = np.array(mapped)
        if not np.isfinite(vectors).all():
            raise ValueError("NaN or infinite values")
        return hashes, vectors

    def save(self, cached: dict[str, np.ndarray], used: Sequence[str], fresh: dict[str, np.ndarray]) -> None:
        """Write ``cached`` plus ``fresh``, with ``used`` and ``fresh`` as the most recent, keeping the
        newest :attr:`limit`. Errors are logged, never raised: the ranking does not depend on it."""
        order = {h: cached[h] for h in cached if h not in used and h not in fresh}
        order.update((h, cached[h]) for h in used if h in cached)
        order.update(fresh)
        hashes = list(order)[-self.limit :] if self.limit > 0 else []
        array = np.zeros((len(hashes), self.dim), np.float32)
        if hashes:
            array = np.ascontiguousarray(np.stack([order[h] for h in hashes]), dtype=np.float32)
        try:
            self.root.mkdir(exist_ok=True)
            contained(self.directory, RANK_CACHE_DIR)  # a link planted there would make paperlike write elsewhere

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as fh:
                    np.save(fh, array, allow_pickle=False)

            store.atomic_write(self.vectors_path, write)
            record = {
                "format": _FORMAT,
                "model": self.identity,
                "dim": self.dim,
                "hashes": hashes,
                "sha256": store.sha256_file(self.vectors_path),
            }
            store.atomic_write_json(self.keys_path, record)
        except Exception as exc:  # noqa: BLE001 - a read-only or damaged folder: rank without remembering
            log.info("rank cache not written in %s (%s)", self.root, str(exc)[:120])
