"""Shared fixtures. Most tests use the deterministic hashing embedder; tests marked ``model``
load the real bundled MiniLM once per session."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from paperlike.embedding import HashingEmbedder
from paperlike.readers import bundled_corpus
from paperlike.service.build import build_index

ROOT = Path(__file__).resolve().parents[1]
SHARED_SEED = ROOT.parent / "shared" / "seed" / "000_33601152947498d5.txt"


@pytest.fixture(scope="session", autouse=True)
def _isolated_session_env(tmp_path_factory):
    """Session-scoped fixtures (the real model) run before function-scoped ones: isolate them too,
    so no test ever sees the user's own ONNX export, index or model choice."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("session-env")
    mp.setenv("PAPERLIKE_CACHE_DIR", str(root / "cache"))
    mp.setenv("PAPERLIKE_INDEX_DIR", str(root / "default-index"))
    mp.setenv("PAPERLIKE_MODEL", "hashing")
    mp.delenv("PAPERLIKE_BACKEND", raising=False)
    mp.delenv("PAPERLIKE_DEVICE", raising=False)
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """Never touch the checkout's index/ or the user's data dir; never load MiniLM by accident."""
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(tmp_path / "default-index"))
    monkeypatch.setenv("PAPERLIKE_MODEL", "hashing")
    monkeypatch.setenv("PAPERLIKE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def hash_index_dir(tmp_path_factory) -> Path:
    """The bundled corpus indexed with the hashing embedder (read-only for tests)."""
    directory = tmp_path_factory.mktemp("hash-index")
    build_index(bundled_corpus(), HashingEmbedder(), directory)
    return directory


@pytest.fixture
def hash_index_copy(hash_index_dir, tmp_path) -> Path:
    """A private copy of the hashing index that a test may damage."""
    import shutil

    target = tmp_path / "index-copy"
    # Without the triage files a CLI `rank` over the shared index leaves (papers shown, marks).
    shutil.copytree(hash_index_dir, target, ignore=shutil.ignore_patterns("triage-*.json", ".triage.lock"))
    return target


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def tree_snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes, to show nothing was changed.

    ``.verified.json`` (the stamps of files whose checksums a load verified) is left out: readers
    write it, and it never holds data.
    """
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != ".verified.json"
    }


def random_unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# How many examples each hypothesis property tried, printed at the end of the run.
HYPOTHESIS_EXAMPLES: dict[str, int] = {}


def count_example(name: str) -> None:
    HYPOTHESIS_EXAMPLES[name] = HYPOTHESIS_EXAMPLES.get(name, 0) + 1


def pytest_terminal_summary(terminalreporter):
    if HYPOTHESIS_EXAMPLES:
        total = sum(HYPOTHESIS_EXAMPLES.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(HYPOTHESIS_EXAMPLES.items()))
        terminalreporter.write_line(f"hypothesis: {total} hostile-input examples tried ({detail})")


@contextmanager
def lock_held_elsewhere(directory: Path) -> Iterator[None]:
    """The index's writer lock, held by another thread while the body runs (as another command would)."""
    from paperlike.storage.lock import writer_lock

    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer_lock(directory):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()
