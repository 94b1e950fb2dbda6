"""Embeddings already computed, keyed by model identity and text hash, so nothing is embedded twice.

Two sources, both inside the index directory:

* the index itself: its vectors, when it was built with the same model;
* checkpoint shards under ``.paperlike-checkpoints/<model-key>/``: every batch embedded by a build is written there
  as it is computed (NumPy + JSON, atomically), so a build that is interrupted (Ctrl-C, kill,
  crash) loses at most one batch and the next build resumes. A successful build folds them into
  the index and deletes them.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PaperlikeError
from ..records import paper_text_hash
from . import files as store
from .index import load_index

__all__ = ["CHECKPOINT_DIR", "model_key", "EmbeddingCache"]


CHECKPOINT_DIR = ".paperlike-checkpoints"


_SHARD = re.compile(r"^shard-[0-9a-f]{16}\.(npy|json)$")


def model_key(identity: dict[str, Any]) -> str:
    """Short, file-name-safe key of a model identity."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


class EmbeddingCache:
    """Known vectors for one model in one index directory.

    Args:
        directory: The index directory.
        identity: The model's identity (see :meth:`Embedder.identity`).
    """

    def __init__(self, directory: str | Path, identity: dict[str, Any]):
        self.directory = Path(directory)
        self.identity = identity
        self.root = self.directory / CHECKPOINT_DIR
        self.shard_dir = self.root / model_key(identity)

    def known(self) -> dict[str, np.ndarray]:
        """Vectors by text hash: from the index on disk (same model only) and from checkpoints.

        A missing or damaged index or shard contributes nothing; it never stops a build.
        """

        found: dict[str, np.ndarray] = {}
        try:
            index = load_index(self.directory)
            if index.model == self.identity:
                for paper, vector in zip(index.papers(), index.all_vectors()):
                    found[paper_text_hash(paper)] = vector
        except PaperlikeError:
            found.clear()  # a damaged index is rebuilt from scratch
        for keys_path in sorted(self.shard_dir.glob("shard-*.json")):
            try:
                keys = store.read_json(keys_path)
                vectors = np.load(keys_path.with_suffix(".npy"), allow_pickle=False)
            except (OSError, ValueError):
                continue
            if isinstance(keys, list) and vectors.ndim == 2 and len(keys) == len(vectors):
                found.update(zip(map(str, keys), vectors))
        return found

    def checkpoint(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Save one batch of fresh vectors (the vectors first; the key file marks the shard whole)."""
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        name = f"shard-{secrets.token_hex(8)}"
        array = np.ascontiguousarray(vectors, dtype=np.float32)

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)

        store.atomic_write(self.shard_dir / f"{name}.npy", save)
        store.atomic_write_json(self.shard_dir / f"{name}.json", list(hashes))

    def clear(self) -> None:
        """Delete every checkpoint shard (all models): they are in the index now. Only files
        named like shards are touched, and folders only when that leaves them empty."""
        if not self.root.is_dir():
            return
        for folder in [d for d in self.root.iterdir() if d.is_dir()] + [self.root]:
            for f in folder.iterdir() if folder.is_dir() else []:
                # Shards, and the temp files of shards a killed build was writing.
                if f.is_file() and (_SHARD.match(f.name) or f.name.startswith(store.TMP_PREFIX + "shard-")):
                    f.unlink(missing_ok=True)
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty: something of someone else's is in there
