"""Embeddings already computed, keyed by model identity and text hash, so nothing is embedded twice.

Two sources, both inside the index directory:

* the index itself: its vectors, when it was built with the same model;
* checkpoint shards under ``cache/<model-key>/``: every batch embedded by a build is written there
  as it is computed (NumPy + JSON, atomically), so a build that is interrupted (Ctrl-C, kill,
  crash) loses at most one batch and the next build resumes. A successful build folds them into
  the index and deletes them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import store

__all__ = ["text_hash", "model_key", "EmbeddingCache"]


def text_hash(text: str) -> str:
    """Key of one embedded text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


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
        self.shard_dir = self.directory / "cache" / model_key(identity)

    def known(self) -> dict[str, np.ndarray]:
        """Vectors by text hash: from the index on disk (same model only) and from checkpoints.

        A missing or damaged index or shard contributes nothing; it never stops a build.
        """
        from .errors import PaperlikeError
        from .index import load_index

        found: dict[str, np.ndarray] = {}
        try:
            index = load_index(self.directory)
        except PaperlikeError:
            index = None
        if index is not None and index.model == self.identity:
            vectors = index.all_vectors()
            for paper, vector in zip(index.papers(), vectors):
                found[text_hash(paper.text)] = vector
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
        """Delete every checkpoint (all models): they are in the index now."""
        shutil.rmtree(self.directory / "cache", ignore_errors=True)
