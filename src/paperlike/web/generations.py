"""One loaded index per generation, switched atomically when ``paperlike add`` rewrites it.

A build writes a new generation of data files and then replaces ``manifest.json`` (see the
index format). Every request first checks the manifest's inode, size and mtime (one ``stat``,
a few microseconds); when they change, a background thread opens the new generation and warms
it (vectors, id map, BM25), while requests keep being answered from the old one. Only then is
the new :class:`Snapshot` put in place, in one assignment. A request takes the snapshot once,
at its start, and answers entirely from it: it never sees half of one generation and half of
another. The old generation stays readable after ``add`` deleted its files: they are open
(mapped) by the snapshot.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paperlike import Recommender
from paperlike.embedding import Embedder
from paperlike.errors import PaperlikeError
from paperlike.storage.files import never_write_stamps
from paperlike.storage.triage import TriageStore

from . import backend
from .memo import Memo
from .security import ServeError

__all__ = ["Snapshot", "Library", "LockedEmbedder", "ANSWERS_KEPT", "DERIVED_KEPT", "marks_version"]

log = logging.getLogger("paperlike.web")


# Answers kept per generation (each about 5-10 KB with the why of 10 results), and theme sets
# and maps (larger, and slow to compute: seconds to minutes).
ANSWERS_KEPT = 512
DERIVED_KEPT = 16


@dataclass
class Snapshot:
    """One generation of the index and everything computed from it.

    Attributes:
        rec: The recommender over this generation.
        generation: The generation's name (from its manifest).
        answers: Recent answers (rankings, paper records), by question.
        derived: Theme sets and maps, by options.
    """

    rec: Recommender
    generation: str
    loaded_at: float = field(default_factory=time.time)
    answers: Memo = field(default_factory=lambda: Memo(ANSWERS_KEPT))
    derived: Memo = field(default_factory=lambda: Memo(DERIVED_KEPT))


class LockedEmbedder:
    """An embedder used by one thread at a time: tokenizers and models are not all thread-safe,
    and embedding is CPU-bound anyway."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._lock = threading.Lock()

    def identity(self) -> dict:
        return self.inner.identity()

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self.inner.embed_batch(texts)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def marks_version(snap: Snapshot) -> Hashable:
    """The version of the reader's marks (``paperlike mark``), which change rankings without a
    new generation (see :meth:`~paperlike.storage.triage.TriageStore.marks_version`). Ranking
    answers are kept under it (see :mod:`.answers`), read before computing, so an answer older
    than a mark is never served."""
    return TriageStore(snap.rec.directory).marks_version()


class Library:
    """The served index: the current :class:`Snapshot`, and the switch to newer generations.

    Args:
        index_dir: Index directory; None for the default index.
        warm_lexical: Load (or build) the BM25 index before serving a generation.
        read_only: Never write the index folder: a missing BM25 index is built in memory only
            (and always before serving, so no request builds and saves it).
    """

    def __init__(self, index_dir: str | Path | None = None, *, warm_lexical: bool = True, read_only: bool = False):
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.warm_lexical = warm_lexical
        self.read_only = read_only
        self._snap: Snapshot | None = None
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self.last_error: str | None = None
        self.switches = 0

    def open(self) -> Snapshot:
        """Load and warm the current generation (in the caller's thread).

        Raises:
            PaperlikeError: No index, or a damaged one.
        """
        if self.read_only and self.index_dir is not None:
            never_write_stamps(self.index_dir)
        rec = backend.load_recommender(self.index_dir)
        self.index_dir = rec.directory
        if self.read_only:
            never_write_stamps(self.index_dir)
        if not isinstance(rec.embedder, LockedEmbedder):
            rec.embedder = LockedEmbedder(backend.embedder_for(rec))
        self._seen = _stamp(backend.manifest_file(self.index_dir))
        backend.warm(rec, self.warm_lexical, save=not self.read_only)
        self._snap = Snapshot(rec, backend.generation_of(rec))
        return self._snap

    @property
    def directory(self) -> Path:
        assert self.index_dir is not None, "Library.open() first"
        return self.index_dir

    def current(self) -> Snapshot:
        """The snapshot to answer a request from (starting a switch if the manifest changed).

        Raises:
            ServeError: The index was removed (503): answering from the old generation would
                serve papers the user deleted, and computing anything might write its folder again.
        """
        snap = self._serving()
        stamp = _stamp(backend.manifest_file(self.directory))
        if stamp is None:
            raise ServeError(
                f"the index this server serves is gone ({self.directory} has no manifest.json); it answers again "
                "once an index is built there, e.g. with: paperlike add PAPERS --index-dir DIR",
                503,
            )
        if stamp != self._seen:
            self._start_switch(stamp)
        return self._snap or snap

    def served(self) -> Snapshot | None:
        """The snapshot being served, or None when the index was removed (error pages)."""
        try:
            return self.current()
        except ServeError:
            return None

    def _start_switch(self, stamp: tuple[int, int, int]) -> None:
        with self._lock:
            if stamp == self._seen or (self._loading is not None and self._loading.is_alive()):
                return
            self._seen = stamp
            self._loading = threading.Thread(target=self._switch, name="paperlike-generation", daemon=True)
            self._loading.start()

    def _serving(self) -> Snapshot:
        if self._snap is None:
            raise RuntimeError("Library.open() was not called")
        return self._snap

    def _switch(self) -> None:
        """Open the newest generation and put it in place; repeat while the manifest keeps moving."""
        while True:
            started = _stamp(backend.manifest_file(self.directory))
            try:
                if backend.read_generation(self.directory) != self._serving().generation:
                    self._load_new()
                self.last_error = None
            except PaperlikeError as exc:
                # A damaged or half-removed index: keep answering from the generation we have.
                self.last_error = str(exc)
                log.warning("still serving generation %s: %s", self._serving().generation, exc)
            except Exception as exc:  # noqa: BLE001 - a bug; the old generation keeps serving
                self.last_error = f"unexpected {type(exc).__name__}: {exc}"
                log.exception("switching generations failed")
            with self._lock:
                now = _stamp(backend.manifest_file(self.directory))
                if now == started or now is None:
                    self._seen = now if now is not None else self._seen
                    return
                self._seen = now

    def _load_new(self) -> None:
        old = self._serving()
        rec = backend.load_recommender(self.directory)
        # The same (locked) embedder when the model is the same: the model is never loaded twice.
        same_model = rec.index.model == old.rec.index.model
        rec.embedder = old.rec.embedder if same_model else LockedEmbedder(backend.embedder_for(rec))
        backend.warm(rec, self.warm_lexical, save=not self.read_only)
        generation = backend.generation_of(rec)
        if generation != old.generation:
            self._snap = Snapshot(rec, generation)  # the atomic switch: one reference assignment
            self.switches += 1
            log.info("now serving generation %s (%d papers)", generation, len(rec))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no switch is running (for tests and the benchmark); True if idle."""
        self.current()
        thread = self._loading
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True
