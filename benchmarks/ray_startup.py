"""Where a Ray build's start-up goes: actor start, PyTorch import, model load, first batch back.

Runs one MiniLM actor (``RayEngine(workers=1)``) over 128 abstract-length texts on a local Ray
cluster, with an embedder that notes, inside the actor, when it arrives and when its first
batch starts and ends; then the same with the hashing model (no PyTorch, no weights), which
shows Ray's own part. Times are seconds since the build began.

Usage::

    python benchmarks/ray_startup.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from paperlike.embedding import HashingEmbedder, MiniLMEmbedder
from paperlike.embedding.engines.ray_cluster import import_ray, start_local
from paperlike.embedding.engines.ray_engine import RayEngine

LOG = Path(tempfile.gettempdir()) / f"paperlike-ray-startup-{os.getpid()}.txt"


def note(message: str, t0: float) -> None:
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{time.time() - t0:7.1f} s  pid {os.getpid():>7}  {message}\n")


class Noting(MiniLMEmbedder):
    """MiniLM that notes its arrival in the actor and its first batch (same identity, same vectors)."""

    t0 = 0.0

    def __setstate__(self, state):
        self.__dict__.update(state)
        note("embedder arrived in the actor", self.t0)

    def embed_batch(self, texts):
        first = not getattr(self, "_seen", False)
        if first:
            self._seen = True
            note("first batch starts", self.t0)
            import torch

            note(f"PyTorch imported ({torch.get_num_threads()} threads)", self.t0)
        vectors = super().embed_batch(texts)
        if first:
            note(f"first batch of {len(texts)} embedded (model loaded)", self.t0)
        return vectors


def timed_build(embedder, texts: list[str]) -> tuple[float, float]:
    t0 = time.time()
    embedder.t0 = t0
    first: list[float] = []
    RayEngine(workers=1).embed(
        texts, embedder, batch_size=32, on_batch=lambda rows, vectors: first or first.append(time.time() - t0)
    )
    return first[0], time.time() - t0


def main() -> None:
    ray = import_ray()
    start_local(ray, os.cpu_count())
    texts = [("A long abstract about learning to rank with sparse and dense retrieval models. " * 20)[:1500]] * 128
    print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs", flush=True)
    first, total = timed_build(Noting(device="cpu"), texts)
    print(LOG.read_text(encoding="utf-8"), end="")
    print(f"MiniLM: first vectors back at the driver after {first:.1f} s, all 128 after {total:.1f} s")
    hashing = HashingEmbedder()
    hashing.t0 = 0.0
    first, total = timed_build(hashing, texts)
    print(f"hashing model (Ray's own start-up): first vectors after {first:.1f} s, all after {total:.1f} s")
    LOG.unlink(missing_ok=True)
    ray.shutdown()


if __name__ == "__main__":
    main()
