"""Getting onto a Ray cluster, and how many model replicas it holds.

Connecting to a wrong address must end in one line, never a hang: Ray itself keeps retrying an
address where nothing (or no Ray head) answers for minutes, so the address is first probed over
TCP and ``ray.init`` then gets a deadline.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...errors import EngineError

__all__ = [
    "RAY_EXTRA",
    "WorkerPlan",
    "cluster_nodes",
    "import_ray",
    "ray_session",
    "plan_workers",
    "probe_address",
    "start_local",
]

RAY_EXTRA = "pip install 'paperlike[ray]'"
_LOCAL_HINT = "or build on this machine with --engine local"


def import_ray():
    """The ``ray`` module with Ray Data, or a one-line error saying how to install it."""
    # Ray's C++ core prints warnings straight to stderr (retries while connecting, a note on every
    # actor pool); what matters comes back as Python exceptions. It reads this when imported;
    # RAY_BACKEND_LOG_LEVEL=info brings them back.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    try:
        import ray
        import ray.data  # noqa: F401  (the extra's other half: pyarrow, pandas)
    except ImportError as exc:
        raise EngineError(
            f"the ray engine needs Ray ({exc.name or 'ray'} is not installed); run: {RAY_EXTRA}, {_LOCAL_HINT}"
        ) from None
    return ray


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:200]


def probe_address(address: str, timeout: float = 5.0) -> None:
    """Raise unless something accepts TCP connections at ``address`` (``HOST:PORT`` or ``ray://HOST:PORT``).

    Raises:
        EngineError: Malformed address, unknown host, refused or unanswered connection.
    """
    bare = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = bare.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise EngineError(f"'{address}' is not a Ray address; give HOST:PORT of the head, e.g. --ray-address 10.0.0.5:6379")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except socket.gaierror:
        why = f"unknown host {host}"
    except ConnectionRefusedError:
        why = "connection refused: nothing listens there"
    except TimeoutError:
        why = f"no answer within {timeout:.0f} s"
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
    else:
        return
    raise EngineError(
        f"cannot reach a Ray cluster at {address} ({why}); start one there with: ray start --head --port={port}, "
        f"check --ray-address, {_LOCAL_HINT}"
    )


def _init_with_deadline(ray, address: str, timeout: float) -> None:
    outcome: dict[str, BaseException | None] = {}

    def connect() -> None:
        try:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            outcome["error"] = None
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    # A daemon thread: if Ray never answers, the process can still exit after the error.
    thread = threading.Thread(target=connect, name="paperlike-ray-connect", daemon=True)
    thread.start()
    thread.join(timeout)
    if "error" not in outcome:
        raise EngineError(
            f"no Ray cluster answered at {address} within {timeout:.0f} s; check that a Ray head runs there "
            "(ray status), and for a cluster with token authentication set RAY_AUTH_MODE=token and its token "
            f"(RAY_AUTH_TOKEN or ~/.ray/auth_token); {_LOCAL_HINT}"
        )
    if outcome["error"] is not None:
        raise EngineError(
            f"cannot join the Ray cluster at {address} ({_one_line(outcome['error'])}); "
            f"the Ray version must match the cluster's; {_LOCAL_HINT}"
        )


def start_local(ray: Any, num_cpus: int | None = None) -> None:
    """Start a Ray instance on this machine whose workers run at normal priority.

    Ray starts its workers at nice 15 so its own daemons stay responsive; on a machine that does
    anything else, the model's actors then get a fraction of the CPU a local build gets (3.7 vs
    15.8 papers/s measured on the 2-core machine, benchmarks/scale_out.py). A
    ``RAY_worker_niceness`` already in the environment wins; on a cluster, set it where
    ``ray start`` runs.
    """
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)


@contextmanager
def ray_session(ray, address: str | None, timeout: float = 30.0) -> Iterator[None]:
    """Be connected to Ray inside the block.

    A session already open in this process (a notebook, the test suite) is used and left open.
    Otherwise ``address`` (or ``$RAY_ADDRESS``) is joined, or, with neither, a Ray instance is
    started on this machine; either is closed again at the end.
    """
    loggers = {name: logging.getLogger(name) for name in ("ray", "ray.data")}
    levels = {name: logger.level for name, logger in loggers.items()}
    for logger in loggers.values():  # Ray's notes (token set-up, execution plans) would bury the progress bar
        logger.setLevel(logging.ERROR)
    try:
        yield from _session(ray, address, timeout)
    finally:
        for name, logger in loggers.items():
            logger.setLevel(levels[name])


def _session(ray, address: str | None, timeout: float) -> Iterator[None]:
    joined = ray.is_initialized()
    target = address or (None if joined else os.environ.get("RAY_ADDRESS")) or None
    if target and target != "auto":
        probe_address(target, min(timeout, 5.0))
    if joined:
        current = ray.get_runtime_context().gcs_address
        if target and target not in ("auto", current):
            raise EngineError(
                f"this Python process is already connected to the Ray cluster at {current}; "
                "leave out the address to use it, or call ray.shutdown() first"
            )
        yield
        return
    if target is None:
        try:
            start_local(ray)
        except Exception as exc:  # Ray raises many kinds here (ports, /tmp, memory)
            raise EngineError(f"cannot start Ray on this machine ({_one_line(exc)}); {_LOCAL_HINT}") from None
    else:
        _init_with_deadline(ray, target, timeout)
    try:
        yield
    finally:
        ray.shutdown()


@dataclass(frozen=True)
class WorkerPlan:
    """How the model is spread: ``workers`` actors, each on ``device`` with these resources."""

    workers: int
    device: str
    cpus_per_worker: int
    gpus_per_worker: int


def plan_workers(nodes: Sequence[dict[str, Any]], workers: int | None, device: str) -> WorkerPlan:
    """Actors for a cluster whose alive nodes have these resources (``{"CPU": 16, "GPU": 1}``).

    One actor per GPU when the cluster has GPUs (unless ``device`` is ``cpu``); otherwise CPU
    actors that share the CPUs evenly, sized so every one fits on some node (an actor that fits
    nowhere would wait forever).

    Raises:
        EngineError: ``cuda`` without GPUs, or more workers than the cluster holds.
    """
    if workers is not None and workers < 1:
        raise EngineError(f"--workers must be at least 1 (got {workers})")
    gpus = [int(n.get("GPU", 0)) for n in nodes]
    cpus = [int(n.get("CPU", 0)) for n in nodes]
    if device == "cuda" and sum(gpus) == 0:
        raise EngineError("--device cuda, but the Ray cluster has no GPU; use --device auto or cpu, or add GPU machines")
    if device != "cpu" and sum(gpus) > 0:
        return _gpu_plan(gpus, cpus, workers)
    return _cpu_plan(cpus, workers)


def _gpu_plan(gpus: list[int], cpus: list[int], workers: int | None) -> WorkerPlan:
    capacity = sum(min(g, c) for g, c in zip(gpus, cpus))  # a GPU actor takes a CPU too
    wanted = workers or capacity
    if wanted > capacity:
        raise EngineError(
            f"--workers {wanted}, but the Ray cluster has {capacity} usable GPUs (one model per GPU); "
            f"use --workers {capacity} or fewer"
        )
    return WorkerPlan(wanted, "cuda", 1, 1)


def _cpu_plan(cpus: list[int], workers: int | None) -> WorkerPlan:
    total = sum(cpus)
    if total < 1:
        raise EngineError("the Ray cluster has no CPU to run workers on; add a node with: ray start --address HEAD:PORT")
    wanted = workers or total
    per = max(1, total // wanted)
    while per > 1 and sum(c // per for c in cpus) < wanted:
        per -= 1
    if sum(c // per for c in cpus) < wanted:
        raise EngineError(f"--workers {wanted}, but the Ray cluster has {total} CPUs; use --workers {total} or fewer")
    return WorkerPlan(wanted, "cpu", per, 0)


def cluster_nodes(ray) -> list[dict[str, Any]]:
    """Resources of the cluster's alive nodes."""
    return [dict(n.get("Resources") or {}) for n in ray.nodes() if n.get("Alive")]
