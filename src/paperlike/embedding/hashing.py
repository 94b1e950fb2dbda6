"""A deterministic bag-of-words feature-hashing embedder: no model file, loads instantly (tests)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["HashingEmbedder"]


# The hashing embedder's own feature tokeniser (ASCII words): its vectors, and so every test
# expectation built on them, depend on it. BM25 splits words with search.lexical.WORD instead.
_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Deterministic feature-hashing embedder over word unigrams and bigrams.

    Each feature is hashed (BLAKE2b, so the same on every run and machine) to a signed
    coordinate; counts are damped with ``1 + log(tf)`` and rows are L2-normalised. Texts that
    share words get similar vectors, which is what tests of the ranking logic need.

    Args:
        dim: Vector dimension.
    """

    name = "hashing"

    def __init__(self, dim: int = 384):
        self.dim = dim

    def identity(self) -> dict:
        return {"name": self.name, "version": "1", "dim": self.dim}

    def _vector(self, text: str) -> np.ndarray:
        tokens = _TOKEN.findall(text.lower())
        counts = Counter(tokens)
        counts.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:]))
        vec = np.zeros(self.dim, dtype=np.float64)
        for feature, tf in counts.items():
            h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
            vec[h % self.dim] += (1.0 if (h >> 63) & 1 else -1.0) * (1.0 + np.log(tf))
        norm = np.linalg.norm(vec)
        return vec / norm if norm > 0 else vec

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)
