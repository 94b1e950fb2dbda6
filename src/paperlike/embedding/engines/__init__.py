"""Engines: what runs the model over the texts a build has to embed.

A build (``build_index``, ``add_papers``) decides *which* texts need vectors (new or changed
papers, none already in the index or in checkpoints), and writes the index files; an engine only
turns those texts into vectors, calling ``on_batch`` as each batch arrives so the build can
checkpoint it. Two engines give the same vectors:

* ``local`` (default): this process, batch after batch (:func:`paperlike.embedding.embed_texts`).
* ``ray``: a Ray cluster, with Ray Data over a pool of actors that each load the model once
  (:class:`paperlike.embedding.engines.ray_engine.RayEngine`; needs ``pip install 'paperlike[ray]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ...errors import EngineError
from .. import Embedder, embed_texts

__all__ = ["ENGINES", "Engine", "LocalEngine", "OnBatch", "get_engine"]

ENGINES = ("local", "ray")

OnBatch = Callable[[list[int], np.ndarray], None]


@runtime_checkable
class Engine(Protocol):
    """Turns texts into vectors with an embedder; rows of the result follow ``texts``."""

    @property
    def name(self) -> str:
        """``local``, ``ray``, ... (reported by ``index build --json``)."""

    def embed(
        self,
        texts: Sequence[str],
        embedder: Embedder,
        *,
        batch_size: int = 32,
        progress: bool = False,
        desc: str = "Embedding",
        on_batch: OnBatch | None = None,
    ) -> np.ndarray:
        """``(len(texts), embedder.dim)`` float32 unit vectors; ``on_batch(rows, vectors)`` per batch."""


class LocalEngine:
    """Embeds in this process (the engine every build used before engines existed)."""

    name = "local"

    def embed(
        self,
        texts: Sequence[str],
        embedder: Embedder,
        *,
        batch_size: int = 32,
        progress: bool = False,
        desc: str = "Embedding",
        on_batch: OnBatch | None = None,
    ) -> np.ndarray:
        """:func:`paperlike.embedding.embed_texts`."""
        return embed_texts(texts, embedder, batch_size=batch_size, progress=progress, desc=desc, on_batch=on_batch)


def get_engine(
    engine: str | Engine | None = "local",
    *,
    address: str | None = None,
    workers: int | None = None,
    device: str | None = None,
) -> Engine:
    """The engine called ``engine`` (``local`` or ``ray``), or ``engine`` itself if it is one.

    Args:
        address: Ray only: the cluster to connect to (``HOST:PORT`` of its head); default
            ``$RAY_ADDRESS``, else a Ray instance started on this machine for the build.
        workers: Ray only: model replicas (actors); default one per GPU of the cluster, else
            one per CPU.
        device: Ray only: ``auto`` (GPU actors where the cluster has GPUs), ``cpu`` or ``cuda``.

    Raises:
        EngineError: Unknown engine, or Ray options given to the local engine.
    """
    if engine is not None and not isinstance(engine, str):
        if isinstance(engine, Engine):
            return engine
        raise EngineError(f"not an engine: {type(engine).__name__}; use one of: {', '.join(ENGINES)}")
    name = (engine or "local").strip().lower()
    if name == "local":
        if address is not None or workers is not None:
            raise EngineError("--ray-address and --workers need --engine ray")
        return LocalEngine()
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(address=address, workers=workers, device=device)
    raise EngineError(f"unknown engine '{engine}'; use one of: {', '.join(ENGINES)}")
