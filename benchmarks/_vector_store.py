"""A per-text, content-addressed embedding cache for the benchmarks, resumable and shared.

Vectors are kept per (model identity, SHA-256 of the exact text): a subset and a superset of a
corpus share vectors, a sentence embedded for one benchmark is reused by another, and an
interrupted fill keeps every shard it finished. Layout (outside the repository)::

    <cache>/vectors/<model key>/model.json              the model's identity (what the key hashes)
    <cache>/vectors/<model key>/<shard>.vecs.npy        float32 (n, dim)
    <cache>/vectors/<model key>/<shard>.keys.npy        uint8 (n, 32): SHA-256 of each text

A shard's keys file is written last (atomically), so a shard without one is ignored: a kill
mid-write loses at most the texts of that shard. NumPy format only (``allow_pickle=False``);
shards whose shapes disagree are skipped, never trusted. Two fills of one model at once only
duplicate work: each writes shards of its own name.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["VectorStore", "text_key"]


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class VectorStore:
    """The cached vectors of one model (by identity) under ``root``."""

    SHARD = 512  # texts embedded between two saves: what a kill can lose

    def __init__(self, root: Path, embedder):
        self.embedder = embedder
        identity = embedder.identity()
        key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
        self.folder = root / "vectors" / f"{embedder.name}-{key}"
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "model.json"
        if not meta.exists():
            meta.write_text(json.dumps(identity, indent=1, sort_keys=True))
        self._rows: dict[bytes, tuple[int, int]] = {}
        self._shards: list[np.ndarray] = []
        self._seen: set[str] = set()
        self._saved = 0  # shards this process wrote: part of their names, so none is overwritten
        self.refresh()

    def refresh(self) -> None:
        """Read the shards written since the last look (by this process or another)."""
        for keys_file in sorted(self.folder.glob("*.keys.npy")):
            name = keys_file.name[: -len(".keys.npy")]
            if name in self._seen:
                continue
            try:
                keys = np.load(keys_file, allow_pickle=False)
                vecs = np.load(self.folder / f"{name}.vecs.npy", allow_pickle=False, mmap_mode="r")
            except (OSError, ValueError):
                continue
            if keys.ndim != 2 or keys.shape[1] != 32 or vecs.shape != (len(keys), self.embedder.dim) or keys.dtype != np.uint8:
                print(f"vector cache: skipping {name} (shapes {keys.shape}, {vecs.shape})", file=sys.stderr)
                continue
            self._seen.add(name)
            shard = len(self._shards)
            self._shards.append(vecs)
            for row, k in enumerate(keys):
                self._rows.setdefault(k.tobytes(), (shard, row))

    def __len__(self) -> int:
        return len(self._rows)

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts with no cached vector, in first-seen order."""
        out: dict[bytes, str] = {}
        for t in texts:
            k = text_key(t)
            if k not in self._rows and k not in out:
                out[k] = t
        return list(out.values())

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (every one must be cached)."""
        out = np.empty((len(texts), self.embedder.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            shard, row = self._rows[text_key(t)]
            out[i] = self._shards[shard][row]
        return out

    def _save(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        self._saved += 1
        # Random too: two stores of one process saving in the same second (one per call of
        # _data.embed_cached) once gave a shard the name of another, which replaced it.
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{self._saved:05d}-{secrets.token_hex(4)}"
        keys = np.frombuffer(b"".join(text_key(t) for t in texts), dtype=np.uint8).reshape(len(texts), 32)
        for suffix, array in ((".vecs.npy", np.ascontiguousarray(vectors, dtype=np.float32)), (".keys.npy", keys)):
            tmp = self.folder / f".{name}{suffix}.tmp"
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.folder / f"{name}{suffix}")  # keys last: the shard counts from then

    def fill(self, texts: Sequence[str], *, seconds: float | None = None, desc: str = "Embedding", batch_size: int = 32) -> int:
        """Embed the texts not cached yet, longest first (less padding), a shard at a time,
        stopping cleanly once ``seconds`` have passed. Returns how many are still missing."""
        from tqdm.auto import tqdm

        from paperlike.embedding import embed_texts

        todo = sorted(self.missing(texts), key=lambda t: (-len(t), t))
        started = time.monotonic()
        with tqdm(total=len(todo), unit="text", desc=desc, file=sys.stderr, dynamic_ncols=True) as bar:
            for at in range(0, len(todo), self.SHARD):
                if seconds is not None and time.monotonic() - started > seconds:
                    break
                chunk = todo[at : at + self.SHARD]
                vectors = embed_texts(chunk, self.embedder, batch_size=batch_size)
                self._save(chunk, vectors)
                bar.update(len(chunk))
        self.refresh()
        return len(self.missing(texts))
