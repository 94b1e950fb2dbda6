"""Building an index from a corpus: reuse known vectors, embed the rest with checkpoints, write."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..embedding import Embedder, get_embedder
from ..embedding.engines import Engine, get_engine
from ..errors import IndexMissingError
from ..readers import BUNDLED_SOURCE, bundled_corpus, bundled_file_sha256
from ..records import Corpus, Paper, embedded_text, paper_text_hash
from ..settings import Settings, default_index_dir, usable_path
from ..storage.aliases import Alias, read_live_aliases
from ..storage.checkpoints import EmbeddingCache
from ..storage.generations import claim_folder
from ..storage.index import PaperIndex
from ..storage.lock import holds_writer_lock, writer_lock
from ..storage.manifest import read_manifest
from ..storage.writer import write_index

__all__ = ["BuildReport", "build_index", "ensure_default_index"]

log = logging.getLogger("paperlike")


@dataclass
class BuildReport:
    """What a build did.

    Attributes:
        directory: The index directory written.
        count: Papers indexed.
        seconds: Wall time of the whole build.
        embed_seconds: Wall time spent embedding.
        notes: Notes from the corpus reader (e.g. empty abstracts).
        embedded: Papers whose text was embedded by this build.
        reused: Papers whose vector came from the index or a checkpoint of an interrupted build.
        generation: The generation written.
        parent: The generation it replaced (None for a first build).
    """

    directory: Path
    count: int
    seconds: float
    embed_seconds: float
    notes: list[str]
    embedded: int = 0
    reused: int = 0
    generation: str | None = None
    parent: str | None = None

    @property
    def papers_per_second(self) -> float:
        """Embedding throughput of this build (papers embedded per second of embedding)."""
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else float("inf")


class _Lock:
    """The writer lock, taken as soon as the folder exists (a build into a new folder reads
    nothing, so it needs the lock only from its first checkpoint on) and held to the end."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.stack = ExitStack()

    def take(self) -> None:
        if not holds_writer_lock(self.directory) and self.directory.is_dir():
            self.stack.enter_context(writer_lock(self.directory))

    def __enter__(self) -> _Lock:
        self.take()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


def build_index(
    corpus: Corpus,
    embedder: Embedder,
    directory: str | Path,
    *,
    batch_size: int = 32,
    progress: bool = False,
    reuse: bool = True,
    search: str = "auto",
    force: bool = False,
    engine: str | Engine = "local",
) -> BuildReport:
    """Embed a corpus and write its index to ``directory`` (replacing any index there).

    Texts already embedded by the same model (in the index there, or in checkpoints of an
    interrupted build) are not embedded again; each new batch is checkpointed as it is computed.
    The writer lock is held from reading what is there to the switch, so a concurrent ``add``
    either lands before this build or starts from its result. The names of records merged by
    ``dupes --merge`` are kept where the paper they lead to is still in the corpus and no paper of
    it has their id again (see :mod:`paperlike.storage.aliases`).

    Args:
        corpus: The papers.
        embedder: The model.
        directory: Index directory (created if needed).
        batch_size: Texts per embedding call (and per checkpoint).
        progress: Show a progress bar on stderr.
        reuse: Use vectors already on disk; False embeds every paper again.
        search: ``auto``, ``exact`` or ``hnsw`` (see :func:`write_index`).
        force: Build into a folder that holds other files and no index (only paperlike's own
            files are written there).
        engine: What embeds the texts: ``local``, ``ray`` or an engine (see :mod:`paperlike.embedding.engines`);
            the index is the same either way.

    Returns:
        A :class:`BuildReport`.

    Raises:
        NotAnIndexError: ``directory`` holds other files and no index, and ``force`` is off.
        EngineError: The Ray engine is not installed, its cluster not reachable, or a worker failed
            (vectors made so far are checkpointed: the same call resumes).
    """
    return rebuild_index(
        corpus,
        embedder,
        Path(directory),
        batch_size=batch_size,
        progress=progress,
        reuse=reuse,
        search=search,
        force=force,
        engine=engine,
    )


def rebuild_index(
    corpus: Corpus,
    embedder: Embedder,
    directory: Path,
    *,
    batch_size: int = 32,
    progress: bool = False,
    reuse: bool = True,
    search: str = "auto",
    force: bool = False,
    base_generation: str | None = None,
    edited: bool = False,
    engine: str | Engine = "local",
    aliases: Sequence[Alias] | None = None,
    live: tuple[PaperIndex, Sequence[Paper]] | None = None,
) -> BuildReport:
    """:func:`build_index`, plus what add, remove and merge need: the generation they changed
    (nothing is written if the index moved past it), that the papers are an edited index, the
    names of merged records to keep (None: those of the index there, as a build keeps them;
    see :mod:`paperlike.storage.aliases`), and the live index with the records they read from it
    under the writer lock (its vectors are reused by text without reading the records again)."""
    started = time.perf_counter()
    runner = get_engine(engine)  # an unknown engine fails before anything is read or locked
    usable_path(directory, "index folder", expand=False)  # a symlink loop: a one-line error
    force = force or _default_location(directory)
    claim_folder(directory, force, create=False)
    with _Lock(directory) as lock:
        model = embedder.identity()
        cache = EmbeddingCache(directory, model, embedder.dim)
        known = (cache.known(*live) if live is not None else cache.known()) if reuse else {}
        hashes = [paper_text_hash(p) for p in corpus.papers]
        todo = sorted({h: i for i, h in reversed(list(enumerate(hashes))) if h not in known}.values())

        def checkpoint(rows: list[int], vectors: np.ndarray) -> None:
            cache.checkpoint([hashes[todo[r]] for r in rows], vectors)
            lock.take()  # the first checkpoint made the folder

        embed_started = time.perf_counter()
        fresh = runner.embed(
            [embedded_text(corpus.papers[i]) for i in todo],  # not kept on the records after embedding
            embedder,
            batch_size=batch_size,
            progress=progress and bool(todo),
            on_batch=checkpoint,
        )
        embed_seconds = time.perf_counter() - embed_started
        known.update(zip((hashes[i] for i in todo), fresh))
        vectors = np.stack([known[h] for h in hashes]) if hashes else np.zeros((0, embedder.dim), np.float32)
        # Read under the lock: the table of the generation this write replaces.
        kept = read_live_aliases(directory) if aliases is None else aliases
        del known, fresh  # the rows now live in `vectors`: at 1M papers this frees 1.5 GB before writing
        manifest = write_index(
            directory,
            corpus.papers,
            vectors,
            model,
            corpus.source,
            corpus.sha256(),
            corpus.file_sha256,
            search,
            base_generation=base_generation,
            edited=edited,
            force=force,
            aliases=kept,
        )
        lock.take()
        cache.fold(set(hashes))
    return BuildReport(
        directory,
        len(corpus),
        time.perf_counter() - started,
        embed_seconds,
        list(corpus.notes),
        embedded=len(todo),
        reused=len(corpus) - len(todo),
        generation=manifest["generation"],
        parent=manifest.get("parent"),
    )


def _default_location(directory: Path) -> bool:
    """Whether ``directory`` is where paperlike keeps its default index (a source checkout's
    ``index/`` with its README, or the user data folder): paperlike's own folder, never refused."""
    own, _ = default_index_dir(Settings())
    return Path(directory).resolve() == own.resolve()


def _stale_default(manifest: dict | None) -> Corpus | None:
    """The bundled corpus when the default index must be (re)built from it, else None."""
    if manifest is not None:
        built_from = manifest.get("corpus", {})
        # An index the user built from their own corpus, or changed with add or remove, is theirs.
        if built_from.get("source") != BUNDLED_SOURCE or built_from.get("edited"):
            return None
        # Fast path for every lookup: the bundled file is unchanged, so nothing to parse.
        if built_from.get("file_sha256") == bundled_file_sha256():
            return None
    corpus = bundled_corpus()
    if manifest is not None and manifest.get("corpus", {}).get("sha256") == corpus.sha256():
        return None
    return corpus


def _manifest_or_none(directory: Path) -> dict | None:
    try:
        return read_manifest(directory)
    except IndexMissingError:
        return None


def ensure_default_index(directory: Path, embedder: Embedder | None, progress: bool) -> None:
    """Build the default index from the bundled papers if it is missing or the bundle changed.

    An index the user built into the default directory from their own corpus, or changed with
    ``add`` or ``remove``, is left alone (a removed paper stays removed).
    """
    directory = Path(directory)
    if _stale_default(_manifest_or_none(directory)) is None:
        return
    with _Lock(directory):
        corpus = _stale_default(_manifest_or_none(directory))  # again: another command may have built it meanwhile
        if corpus is None:
            return
        log.warning("Building the default index of the %d bundled papers in %s (first use only)", len(corpus), directory)
        build_index(corpus, embedder or get_embedder(), directory, progress=progress)
