"""Embedding on a Ray cluster with Ray Data.

The texts to embed become a Ray dataset (longest first, in blocks of a few batches, as a local
build orders them); ``map_batches`` runs them through a fixed pool of actors, each of which loads
the model once (a GPU per actor where the cluster has GPUs, CPU actors otherwise). Vectors stream
back to this process block by block with ``iter_batches`` and go straight into the build's
checkpoints, so an interrupted cluster build resumes like a local one: the next run embeds only
what no checkpoint holds. Ray does the scheduling, retries and back-pressure; nothing here does.

Each actor makes its model from a recipe (name, options), not from this process's objects, and
checks that the model it loaded has the identity the build expects: a worker machine with other
weights or another model version fails the build instead of mixing vectors.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..._version import __version__
from ...errors import EngineError, ModelError, ModelMismatchError, PaperlikeError
from .. import Embedder, HashingEmbedder, MiniLMEmbedder
from .ray_cluster import cluster_nodes, import_ray, plan_workers, ray_session

__all__ = ["RayEngine", "recipe_of", "make_embedder", "worker_error"]


def recipe_of(embedder: Embedder) -> tuple[str, Any]:
    """How a worker makes the same embedder: a recipe for the known models, else the object itself."""
    if type(embedder) is MiniLMEmbedder:
        model_dir = embedder._model_dir  # a custom folder must exist on every worker; None = the package
        return "minilm", {
            "model_dir": str(model_dir) if model_dir else None,
            "batch_size": embedder.batch_size,
            "backend": embedder.backend,
        }
    if type(embedder) is HashingEmbedder:
        return "hashing", {"dim": embedder.dim}
    return "object", embedder  # any other Embedder travels as it is (Ray pickles it in memory)


def make_embedder(kind: str, spec: Any, device: str) -> Embedder:
    """The embedder a recipe describes, on ``device``."""
    if kind == "minilm":
        return MiniLMEmbedder(spec["model_dir"], batch_size=spec["batch_size"], backend=spec["backend"], device=device)
    if kind == "hashing":
        return HashingEmbedder(dim=spec["dim"])
    return spec


class _EmbedActor:
    """One model replica: loaded once, then fed batch after batch by Ray Data."""

    def __init__(self, kind: str, spec: Any, identity: dict, device: str, threads: int, version: str):
        import platform

        if __version__ != version:  # this module's, as installed on the worker
            raise EngineError(
                f"the Ray worker on {platform.node()} runs paperlike {__version__}, this machine {version}; "
                "install the same paperlike on every node"
            )
        if threads:  # before torch is imported: one actor per core must not run a pool of threads each
            os.environ["OMP_NUM_THREADS"] = str(threads)
        self.embedder = make_embedder(kind, spec, device)
        found = self.embedder.identity()
        if found != identity:
            raise ModelMismatchError(
                f"the Ray worker on {platform.node()} has a different {identity.get('name')} "
                f"(version {found.get('version')}, weights {str(found.get('weights_sha256'))[:12]}) than this machine "
                f"(version {identity.get('version')}, weights {str(identity.get('weights_sha256'))[:12]}); "
                "install the same paperlike and model on every node"
            )
        if threads and isinstance(self.embedder, MiniLMEmbedder) and self.embedder.resolved_backend() == "torch":
            import torch

            torch.set_num_threads(threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [bytes(t).decode("utf-8", "surrogatepass") for t in batch["text"]]
        vectors = np.ascontiguousarray(self.embedder.embed_batch(texts), dtype=np.float32)
        if vectors.shape != (len(texts), self.embedder.dim) or not np.isfinite(vectors).all():
            raise ModelError(
                f"model {self.embedder.name} returned an array of shape {vectors.shape} (or non-finite values) "
                f"for {len(texts)} texts; expected ({len(texts)}, {self.embedder.dim})"
            )
        return {"row": np.asarray(batch["row"], dtype=np.int64), "vector": vectors}


# Ray hands a worker's exception back as text (a traceback inside its own exception types); its
# last line names the error and its message: paperlike's own (one line, with the fix), or another.
_WORKER_ERROR = re.compile(r"paperlike\.errors\.(\w+): ([^\n\x1b]+)")
_ANY_ERROR = re.compile(r"^((?:\w+\.)*\w*(?:Error|Exception|Exit|Interrupt)): ([^\n\x1b]*)$", re.MULTILINE)


def _texts(exc: BaseException | None) -> list[str]:
    out: list[str] = []
    while exc is not None and len(out) < 40:
        out += [str(exc), str(getattr(exc, "error_msg", ""))]
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return out


def worker_error(exc: BaseException) -> PaperlikeError | None:
    """The error a Ray worker raised, rebuilt from inside Ray's wrappers: paperlike's own as it
    was, any other as a one-line :class:`EngineError`; None when no worker's error is named."""
    texts = _texts(exc)
    ours = [m for text in texts for m in _WORKER_ERROR.finditer(text)]
    if ours:
        kind = _error_classes().get(ours[-1].group(1))
        simple = kind is not None and kind.__init__ is PaperlikeError.__init__
        return (kind if kind is not None and simple else EngineError)(ours[-1].group(2).strip())
    other = [m for text in texts for m in _ANY_ERROR.finditer(text)]
    if not other:
        return None
    name, message = other[-1].group(1).rsplit(".", 1)[-1], " ".join(other[-1].group(2).split())[:200]
    return EngineError(
        f"a Ray worker failed ({name}: {message}); batches embedded so far are checkpointed, "
        "run the same command again to resume (every node must run the same paperlike)"
    )


def _error_classes() -> dict[str, type[PaperlikeError]]:
    """paperlike's error classes by name (only those: a name in a worker's text is untrusted)."""
    found: dict[str, type[PaperlikeError]] = {}
    todo: list[type[PaperlikeError]] = [PaperlikeError]
    while todo:
        cls = todo.pop()
        if cls.__module__ == PaperlikeError.__module__:
            found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


@dataclass
class RayEngine:
    """Embeds on a Ray cluster (see the module docs).

    Args:
        address: ``HOST:PORT`` of the cluster's head (``ray start --head`` prints it); default
            ``$RAY_ADDRESS``, else Ray is started on this machine for the build.
        workers: Model replicas; default one per GPU of the cluster, else one per CPU.
        device: ``auto`` (GPU actors where the cluster has GPUs), ``cpu`` or ``cuda``.
        connect_timeout: Seconds to wait for the cluster to answer.
        max_block_batches: At most this many batches per Ray block (the unit that is scheduled,
            streamed back and checkpointed); fewer when that gives each worker at least
            ``blocks_per_worker`` blocks, so no worker idles at the end and results come early.
    """

    address: str | None = None
    workers: int | None = None
    device: str | None = None
    connect_timeout: float = 30.0
    max_block_batches: int = 8
    blocks_per_worker: int = 8
    name: ClassVar[str] = "ray"

    def embed(
        self,
        texts: Sequence[str],
        embedder: Embedder,
        *,
        batch_size: int = 32,
        progress: bool = False,
        desc: str = "Embedding",
        on_batch=None,
    ) -> np.ndarray:
        """Vectors of ``texts`` (rows in input order); ``on_batch(rows, vectors)`` as each block arrives.

        Raises:
            EngineError: Ray missing, cluster unreachable or too small, a worker failed.
            ModelError, ModelMismatchError: A worker's model is broken or not the expected one.
        """
        from ..device import check_device

        device = check_device(self.device)
        n = len(texts)
        out = np.empty((n, embedder.dim), dtype=np.float32)
        if n == 0:
            return out  # everything was reused: no cluster needed
        if batch_size < 1 or self.max_block_batches < 1:
            raise EngineError(f"batch size must be at least 1 (got {batch_size})")
        ray = import_ray()
        identity = embedder.identity()
        kind, spec = recipe_of(embedder)
        with ray_session(ray, self.address, self.connect_timeout):
            plan = plan_workers(cluster_nodes(ray), self.workers, device)
            dataset = self._dataset(ray, texts, batch_size, plan.workers)
            vectors = dataset.map_batches(
                _EmbedActor,
                batch_size=batch_size,
                batch_format="numpy",
                # One block running and one waiting per actor: busy, yet no queue left behind on one
                # actor while another idles at the end.
                compute=ray.data.ActorPoolStrategy(size=plan.workers, max_tasks_in_flight_per_actor=2),
                fn_constructor_args=(
                    kind,
                    spec,
                    identity,
                    plan.device,
                    0 if plan.gpus_per_worker else plan.cpus_per_worker,
                    __version__,
                ),
                num_cpus=plan.cpus_per_worker,
                **({"num_gpus": plan.gpus_per_worker} if plan.gpus_per_worker else {}),
            )
            seen = self._collect(vectors, out, embedder, progress, desc, on_batch)
        if not seen.all():
            raise EngineError(f"the Ray cluster returned {int(seen.sum())} of {n} vectors; run the same command again to resume")
        return out

    def _dataset(self, ray, texts: Sequence[str], batch_size: int, workers: int):
        import pyarrow as pa

        # Longest first, as a local build: batches of similar length waste less time on padding.
        order = np.array(sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i)), dtype=np.int64)
        # A block is what one actor takes at a time: whole batches, and enough blocks that every
        # actor gets several (small inputs are cut finer still, so none stays empty).
        per_block = -(-len(texts) // (workers * self.blocks_per_worker * batch_size))
        rows = batch_size * max(1, min(self.max_block_batches, per_block))
        rows = max(1, min(rows, -(-len(texts) // workers)))
        blocks = [
            # Bytes, so any Python string travels exactly as it is (Arrow strings refuse lone surrogates).
            pa.table(
                {
                    "row": order[s : s + rows],
                    "text": pa.array([texts[i].encode("utf-8", "surrogatepass") for i in order[s : s + rows]], pa.large_binary()),
                }
            )
            for s in range(0, len(order), rows)
        ]
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # paperlike draws its own bar (papers/s, time left)
        context.print_on_execution_start = False
        return ray.data.from_arrow(blocks)

    def _collect(self, vectors, out: np.ndarray, embedder: Embedder, progress: bool, desc: str, on_batch) -> np.ndarray:
        from tqdm.auto import tqdm

        seen = np.zeros(len(out), dtype=bool)
        try:
            with tqdm(total=len(out), unit="paper", desc=desc, disable=not progress, file=sys.stderr, dynamic_ncols=True) as bar:
                # No prefetch: each block is taken (and checkpointed) as soon as it exists, not
                # when the next one is ready too (3.6 s later for the first block, measured).
                for batch in vectors.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
                    rows = np.asarray(batch["row"], dtype=np.int64)
                    got = np.asarray(batch["vector"], dtype=np.float32).reshape(len(rows), -1)
                    if got.shape[1] != embedder.dim or rows.min(initial=0) < 0 or rows.max(initial=0) >= len(out):
                        raise EngineError(
                            f"a Ray worker returned vectors of shape {got.shape} for rows outside 0..{len(out) - 1}"
                        )
                    out[rows] = got
                    seen[rows] = True
                    if on_batch is not None:
                        on_batch(rows.tolist(), got)
                    bar.update(len(rows))
        except PaperlikeError:
            raise
        except Exception as exc:  # Ray wraps a worker's error in its own types
            cause = worker_error(exc)
            if cause is not None:
                raise cause from None
            first = " ".join(str(exc).split())[:200]
            raise EngineError(
                f"the Ray build failed ({type(exc).__name__}: {first}); batches embedded so far are checkpointed, "
                "run the same command again to resume"
            ) from None
        return seen
