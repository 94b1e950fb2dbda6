"""Building an index from a corpus: reuse known vectors, embed the rest with checkpoints, write."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..embedding import Embedder, embed_texts, get_embedder
from ..errors import IndexMissingError
from ..readers import BUNDLED_SOURCE, bundled_corpus, bundled_file_sha256
from ..records import Corpus, paper_text_hash
from ..storage.checkpoints import EmbeddingCache
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
    """

    directory: Path
    count: int
    seconds: float
    embed_seconds: float
    notes: list[str]
    embedded: int = 0
    reused: int = 0

    @property
    def papers_per_second(self) -> float:
        """Embedding throughput of this build (papers embedded per second of embedding)."""
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else float("inf")


def build_index(
    corpus: Corpus,
    embedder: Embedder,
    directory: str | Path,
    *,
    batch_size: int = 32,
    progress: bool = False,
    reuse: bool = True,
    search: str = "auto",
) -> BuildReport:
    """Embed a corpus and write its index to ``directory`` (replacing any index there).

    Texts already embedded by the same model (in the index there, or in checkpoints of an
    interrupted build) are not embedded again; each new batch is checkpointed as it is computed.

    Args:
        corpus: The papers.
        embedder: The model.
        directory: Index directory (created if needed).
        batch_size: Texts per embedding call (and per checkpoint).
        progress: Show a progress bar on stderr.
        reuse: Use vectors already on disk; False embeds every paper again.
        search: ``auto``, ``exact`` or ``hnsw`` (see :func:`write_index`).

    Returns:
        A :class:`BuildReport`.
    """

    started = time.perf_counter()
    model = embedder.identity()
    cache = EmbeddingCache(directory, model)
    known = cache.known() if reuse else {}
    hashes = [paper_text_hash(p) for p in corpus.papers]
    todo = sorted({h: i for i, h in reversed(list(enumerate(hashes))) if h not in known}.values())
    embed_started = time.perf_counter()
    fresh = embed_texts(
        [corpus.papers[i].text for i in todo],
        embedder,
        batch_size=batch_size,
        progress=progress and bool(todo),
        on_batch=lambda rows, vecs: cache.checkpoint([hashes[todo[r]] for r in rows], vecs),
    )
    embed_seconds = time.perf_counter() - embed_started
    known.update(zip((hashes[i] for i in todo), fresh))
    vectors = np.stack([known[h] for h in hashes]) if hashes else np.zeros((0, embedder.dim), np.float32)
    write_index(directory, corpus.papers, vectors, model, corpus.source, corpus.sha256(), corpus.file_sha256, search)
    cache.clear()
    return BuildReport(
        Path(directory),
        len(corpus),
        time.perf_counter() - started,
        embed_seconds,
        list(corpus.notes),
        embedded=len(todo),
        reused=len(corpus) - len(todo),
    )


def ensure_default_index(directory: Path, embedder: Embedder | None, progress: bool) -> None:
    """Build the default index from the bundled papers if it is missing or the bundle changed.

    An index the user built into the default directory from their own corpus is left alone.
    """
    try:
        manifest = read_manifest(directory)
    except IndexMissingError:
        manifest = None
    if manifest is not None:
        built_from = manifest.get("corpus", {})
        if built_from.get("source") != BUNDLED_SOURCE:
            return
        # Fast path for every lookup: the bundled file is unchanged, so nothing to parse.
        if built_from.get("file_sha256") == bundled_file_sha256():
            return
    corpus = bundled_corpus()
    if manifest is not None and manifest.get("corpus", {}).get("sha256") == corpus.sha256():
        return
    log.warning("Building the default index of the %d bundled papers in %s (first use only)", len(corpus), directory)
    build_index(corpus, embedder or get_embedder(), directory, progress=progress)
