"""Embeddings already computed, keyed by model identity and text hash, so nothing is embedded twice.

Two sources, both inside the index directory:

* the index itself: its vectors, when it was built with the same model;
* checkpoint shards under ``.paperlike-checkpoints/<model-key>/``: every batch embedded by a
  build is written there as it is computed (``shard-<random>.npy`` with the vectors, then
  ``shard-<random>.json`` with the build id, model identity, dimension and text hashes), so a
  build that is interrupted (Ctrl-C, kill, crash) loses at most one batch and the next build resumes.

A shard belongs to the build that wrote it. It is used only when its model identity and
dimension are this build's and its vectors have the right shape and are finite; a damaged shard
is skipped, never trusted. After a successful write a build deletes its own shards and those
whose every vector is now in the index; the shards of another interrupted build (another corpus,
another model) are kept for that build to resume.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, PaperlikeError
from ..records import Paper, paper_text_hash
from . import files as store
from .index import PaperIndex, load_index
from .names import CHECKPOINT_DIR, TMP_PREFIX, contained

__all__ = ["CHECKPOINT_DIR", "model_key", "EmbeddingCache"]

log = logging.getLogger("paperlike")


_SHARD = re.compile(r"^shard-[0-9a-f]{16}\.(npy|json)$")


_HASH = re.compile(r"^[0-9a-f]{32}$")


_BUILD = re.compile(r"^[0-9a-f]{16}$")


_FORMAT = "paperlike-checkpoint"


def model_key(identity: dict[str, Any]) -> str:
    """Short, file-name-safe key of a model identity."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


class _Shard:
    """One complete, checked checkpoint shard."""

    def __init__(self, keys_path: Path, build: str | None, hashes: list[str], vectors: np.ndarray):
        self.keys_path = keys_path
        self.build = build
        self.hashes = hashes
        self.vectors = vectors

    def delete(self) -> None:
        # The key file first: it marks the shard whole, so a kill between the two unlinks leaves
        # a vectors file without keys, which the next fold() removes as half-written.
        self.keys_path.unlink(missing_ok=True)
        self.keys_path.with_suffix(".npy").unlink(missing_ok=True)


class EmbeddingCache:
    """Known vectors for one model in one index directory, and this build's checkpoints.

    Args:
        directory: The index directory.
        identity: The model's identity (see :meth:`Embedder.identity`).
        dim: The model's vector size (default: the identity's ``dim``).

    Attributes:
        build: This build's id, written into each of its shards.
    """

    def __init__(self, directory: str | Path, identity: dict[str, Any], dim: int | None = None):
        self.directory = Path(directory)
        self.identity = identity
        self.dim = int(dim if dim is not None else identity.get("dim", 0))
        self.build = secrets.token_hex(8)
        self.root = self.directory / CHECKPOINT_DIR
        self.shard_dir = self.root / model_key(identity)

    def _check_folders(self) -> None:
        # A checkpoint folder that is a link would make paperlike write and delete elsewhere.
        if self.directory.exists():
            contained(self.directory, CHECKPOINT_DIR)
            if self.root.is_dir():
                contained(self.root, self.shard_dir.name)

    def known(self, index: PaperIndex | None = None, papers: Sequence[Paper] | None = None) -> dict[str, np.ndarray]:
        """Vectors by text hash: from the index on disk (same model only) and from valid shards.

        A missing or damaged index or shard contributes nothing; it never stops a build.

        Args:
            index: The live index, when the caller (an add, remove or merge, under the writer
                lock) has loaded it already; None: loaded here.
            papers: Its records, when the caller has read them already (each record is then
                read and hashed once per command); None: read here.
        """
        found: dict[str, np.ndarray] = {}
        try:
            index = index if index is not None else load_index(self.directory)
            if index.model == self.identity:
                for paper, vector in zip(papers if papers is not None else index.papers(), index.all_vectors()):
                    found[paper_text_hash(paper)] = vector
        except PaperlikeError:
            found.clear()  # a damaged index is rebuilt from scratch
        for shard in self._shards():
            found.update(zip(shard.hashes, shard.vectors))
        return found

    def _read(self, keys_path: Path) -> _Shard:
        """A shard after every check (raises ValueError or OSError naming what is wrong)."""
        keys = store.read_json(keys_path)
        build = None
        if isinstance(keys, dict):  # a shard of this version: it says whose and what it is
            if keys.get("format") != _FORMAT or keys.get("model") != self.identity or keys.get("dim") != self.dim:
                raise ValueError("another model, dimension or format")
            build = keys.get("build")
            if not (isinstance(build, str) and _BUILD.fullmatch(build)):
                raise ValueError("no build id")
            keys = keys.get("hashes")
        if not (isinstance(keys, list) and all(isinstance(k, str) and _HASH.fullmatch(k) for k in keys)):
            raise ValueError("not a list of text hashes")
        # Mapped first, so a hostile header cannot make paperlike allocate before its shape is checked.
        with store.open_regular(keys_path.with_suffix(".npy")):  # not a FIFO or device (np.load would wait)
            pass
        vectors = np.load(keys_path.with_suffix(".npy"), mmap_mode="r", allow_pickle=False)
        if vectors.dtype != np.float32 or vectors.shape != (len(keys), self.dim):
            raise ValueError(f"vectors of shape {vectors.shape} for {len(keys)} texts of dim {self.dim}")
        vectors = np.array(vectors)
        if not np.isfinite(vectors).all():
            raise ValueError("NaN or infinite values")
        return _Shard(keys_path, build, keys, vectors)

    def _shards(self) -> Iterator[_Shard]:
        self._check_folders()
        if not self.shard_dir.is_dir():
            return
        for keys_path in sorted(self.shard_dir.glob("shard-*.json")):
            if not _SHARD.fullmatch(keys_path.name):
                continue
            try:
                yield self._read(keys_path)
            except (OSError, ValueError) as exc:
                log.warning("checkpoint %s not used (%s)", keys_path, str(exc)[:120])

    def checkpoint(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Save one batch of fresh vectors (the vectors first; the key file marks the shard whole).

        Raises:
            ModelError: The model returned NaN or infinite values (nothing of the batch is kept).
        """
        array = np.ascontiguousarray(vectors, dtype=np.float32)
        if array.shape != (len(hashes), self.dim) or not np.isfinite(array).all():
            raise ModelError(
                f"the model returned vectors of shape {array.shape} with NaN or infinite values for {len(hashes)} texts; "
                "nothing was written; check the model with: paperlike model info"
            )
        self._check_folders()
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        self._check_folders()
        name = f"shard-{secrets.token_hex(8)}"

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)

        store.atomic_write(self.shard_dir / f"{name}.npy", save)
        record = {"format": _FORMAT, "build": self.build, "model": self.identity, "dim": self.dim, "hashes": list(hashes)}
        store.atomic_write_json(self.shard_dir / f"{name}.json", record)

    def fold(self, indexed: set[str]) -> int:
        """After a successful write: delete this build's shards and every shard whose vectors are
        all in the index now (``indexed``: its text hashes); keep the rest. Call with the writer lock.

        Returns:
            Shards kept (of other interrupted builds).
        """
        if not self.shard_dir.is_dir():
            return 0
        kept = 0
        complete: set[str] = set()
        for shard in self._shards():
            complete.add(shard.keys_path.stem)
            if shard.build == self.build or set(shard.hashes) <= indexed:
                shard.delete()
            else:
                kept += 1
        # Half-written shards of killed builds (no build runs beside this one: the lock is held).
        for f in self.shard_dir.iterdir():
            orphan = _SHARD.fullmatch(f.name) and f.suffix == ".npy" and not f.with_suffix(".json").exists()
            if f.is_file() and (orphan or f.name.startswith(TMP_PREFIX + "shard-")):
                f.unlink(missing_ok=True)
        for folder in (self.shard_dir, self.root):
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty: other builds' shards, or something of someone else's
        if kept:
            log.info(
                "kept %d checkpoint shard(s) of another interrupted build in %s (delete that folder if it will not be resumed)",
                kept,
                self.root,
            )
        return kept
