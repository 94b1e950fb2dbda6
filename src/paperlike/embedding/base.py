"""The embedder interface, batched embedding with a progress bar, and the model check."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ModelError, ModelMismatchError

__all__ = ["Embedder", "embed_texts", "check_model"]


@runtime_checkable
class Embedder(Protocol):
    """What paperlike needs from a model."""

    name: str
    dim: int

    def identity(self) -> dict:
        """JSON-ready description; two embedders with equal identities give equal vectors."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts into a ``(len(texts), dim)`` float32 array of unit-length rows."""


def embed_texts(
    texts: Sequence[str],
    embedder: Embedder,
    *,
    batch_size: int = 32,
    progress: bool = False,
    desc: str = "Embedding",
    on_batch: Callable[[list[int], np.ndarray], None] | None = None,
) -> np.ndarray:
    """Embed many texts in batches of similar length, with an optional progress bar on stderr
    (papers/s and time left).

    Args:
        on_batch: Called after each batch with the batch's row numbers and vectors (checkpoints).

    Returns:
        ``(len(texts), embedder.dim)`` float32 array, rows in input order.

    Raises:
        ModelError: The embedder returned the wrong shape or non-finite values.
    """
    from tqdm.auto import tqdm

    n = len(texts)
    out = np.empty((n, embedder.dim), dtype=np.float32)
    # Longest first: batches of similar length waste less time on padding.
    order = sorted(range(n), key=lambda i: (-len(texts[i]), i))
    with tqdm(total=n, unit="paper", desc=desc, disable=not progress, file=sys.stderr, dynamic_ncols=True) as bar:
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            vectors = np.asarray(embedder.embed_batch([texts[i] for i in rows]), dtype=np.float32)
            if vectors.shape != (len(rows), embedder.dim) or not np.isfinite(vectors).all():
                raise ModelError(
                    f"model {embedder.name} returned an array of shape {vectors.shape} (or non-finite values) "
                    f"for {len(rows)} texts; expected ({len(rows)}, {embedder.dim})"
                )
            out[rows] = vectors
            if on_batch is not None:
                on_batch(rows, vectors)
            bar.update(len(rows))
    return out


def check_model(index_model: dict[str, Any], embedder: Embedder, directory: Path) -> None:
    """Raise unless ``embedder`` is the model the index was built with.

    Raises:
        ModelMismatchError: Different model name, version, dimension or weights.
    """
    current = embedder.identity()
    keys = ("name", "dim", "weights_sha256", "version")
    if any(index_model.get(k) != current.get(k) for k in keys):

        def describe(m: dict[str, Any]) -> str:
            parts = [f"version {m.get('version')}", f"dim {m.get('dim')}"]
            if m.get("weights_sha256"):
                parts.append(f"weights {str(m['weights_sha256'])[:12]}")
            return f"{m.get('name')} ({', '.join(parts)})"

        raise ModelMismatchError(
            f"index in {directory} was built with {describe(index_model)} but the model in use is "
            f"{describe(current)}; rebuild with: paperlike index build --index-dir {directory} --model {current.get('name')}"
        )
