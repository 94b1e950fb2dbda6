"""Incremental changes to an index: add papers from files, remove papers by id.

Only papers that are new, or whose text changed, are embedded; every other vector is reused
(see :mod:`paperlike.storage.checkpoints`). The index is rewritten as a new generation and
switched in atomically, so an interrupted add leaves the previous index intact.

Each change holds the index's writer lock from reading the index to switching in the new one,
so two commands never start from the same index and lose one another's papers. Adding papers
the index already holds (the same file twice) changes nothing and writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..embedding import Embedder, check_model, get_embedder
from ..embedding.engines import Engine, get_engine
from ..errors import AmbiguousQueryError, QueryError, UnknownPaperError
from ..records import Corpus, Paper, paper_text_hash
from ..search.lookup import MIN_PREFIX_WORDS
from ..storage import PaperIndex, load_index, read_manifest
from ..storage.checkpoints import EmbeddingCache
from ..storage.generations import retire
from ..storage.lock import writer_lock
from ..text import cut_words
from .build import rebuild_index
from .catalog import paper_lookup
from .intake import AddReport, Intake

__all__ = ["AddReport", "RemovedIds", "ReuseOnly", "add_papers", "remove_papers", "named_positions"]


class RemovedIds(list):
    """The removed ids (a list, as before), with the generation written and the one it replaced."""

    generation: str | None = None
    parent: str | None = None


def _tidy(directory: Path, index: PaperIndex, papers: Sequence[Paper]) -> None:
    """What killed writers left (with the lock held): files of dead generations, folded checkpoints."""
    retire(directory, index.manifest["generation"])
    EmbeddingCache(directory, index.model, index.dim).fold({paper_text_hash(p) for p in papers})


def add_papers(
    directory: str | Path,
    corpora: Iterable[Corpus],
    *,
    embedder: Embedder | None = None,
    batch_size: int = 32,
    progress: bool = False,
    engine: str | Engine = "local",
    device: str | None = None,
) -> AddReport:
    """Add the papers of ``corpora`` to the index in ``directory``.

    A record is the same paper as an indexed one when it carries the same explicit id (it then
    replaces the indexed record), the same arXiv id, DOI or normalised title (a duplicate: its
    missing fields are merged in), or, without an id, the same text. Ids of indexed papers never
    change. When nothing changes, nothing is written. ``engine`` embeds the new texts (``local``,
    ``ray``: see :mod:`paperlike.embedding.engines`); ``device`` is where the index's model runs when no
    ``embedder`` is given.

    Raises:
        IndexMissingError: No index in ``directory``.
        IndexBusyError: Another command kept the index locked too long.
        ModelMismatchError: ``embedder`` is not the index's model.
    """
    started = time.perf_counter()
    directory = Path(directory)
    corpora = list(corpora)
    runner = get_engine(engine)
    read_manifest(directory)  # no index: say so before taking any lock
    with writer_lock(directory):
        index = load_index(directory)
        embedder = embedder or get_embedder(index.model.get("name"), device)
        check_model(index.model, embedder, directory)
        original = index.papers()
        # Generated ids must not take an id that a later record of this add names explicitly.
        merger = Intake(original, {pid for corpus in corpora for pid in corpus.explicit_ids}, index.aliases)
        report = merger.report
        for corpus in corpora:
            report.skipped += corpus.skipped
            report.duplicates += corpus.merged
            report.notes.extend(corpus.notes)
            merger.take_file(corpus)
        report.parent = index.manifest["generation"]
        if merger.papers == original:
            _tidy(directory, index, original)
        else:
            report.embedded, report.generation = _write(
                directory, index, original, merger.papers, [c.source for c in corpora], embedder, batch_size, progress, runner
            )
    report.seconds = time.perf_counter() - started
    return report


def _write(
    directory: Path,
    index: PaperIndex,
    original: list[Paper],
    papers: list[Paper],
    sources: list[str],
    embedder: Embedder,
    batch_size: int,
    progress: bool,
    engine: Engine,
) -> tuple[int, str | None]:
    source = index.manifest.get("corpus", {}).get("source", "")
    merged = Corpus(papers, f"{source} + {' + '.join(sources)}" if sources else source)
    # An index built approximate stays approximate; an exact one follows the size threshold.
    built = rebuild_index(
        merged,
        embedder,
        directory,
        batch_size=batch_size,
        progress=progress,
        search="auto" if index.exact else "hnsw",
        base_generation=index.manifest["generation"],
        edited=True,
        engine=engine,
        aliases=index.aliases,
        live=(index, original),  # each record read and hashed once per add
    )
    return built.embedded, built.generation


def remove_papers(directory: str | Path, ids: Sequence[str]) -> list[str]:
    """Remove papers named by id, DOI, arXiv id, URL or title; nothing is written unless every
    name is known.

    Names are read as ``similar`` reads a query that names a paper (the same lookup): an id, a
    DOI / arXiv id / URL of the paper, a whole title, or the start of exactly one title with at
    least 3 words; a close misspelling is not taken (a typo must not delete the paper it resembles).

    Returns:
        The removed ids (a :class:`RemovedIds` list that also names the generation written).

    Raises:
        QueryError: An unknown name, no name, or every paper of the index.
        AmbiguousQueryError: A name (a title, a DOI) that several papers share, with them listed.
        IndexBusyError: Another command kept the index locked too long.
    """
    directory = Path(directory)
    wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
    read_manifest(directory)
    with writer_lock(directory):
        index = load_index(directory)
        if not wanted:
            raise QueryError("no paper id given; e.g. paperlike remove autodistil")
        found = _named_papers(index, wanted)
        if len(found) >= index.count:
            raise QueryError(f"that would remove all {index.count} papers; delete the index directory {directory} instead")
        gone = set(found)
        records = index.papers()
        keep = [p for p in records if p.id not in gone]
        # No text is embedded again: every kept vector is reused from the index.
        built = rebuild_index(
            Corpus(keep, index.manifest.get("corpus", {}).get("source", "")),
            ReuseOnly(index),
            directory,
            search="auto" if index.exact else "hnsw",
            base_generation=index.manifest["generation"],
            edited=True,
            aliases=index.aliases,  # (those of removed papers are dropped)
            live=(index, records),
        )
    removed = RemovedIds(found)
    removed.generation, removed.parent = built.generation, built.parent
    return removed


def _named_papers(index: PaperIndex, names: list[str]) -> list[str]:
    """The ids of the papers ``names`` name, in order, each once (see :func:`remove_papers`)."""
    positions = named_positions(index, names, "remove", "removed")
    return list(dict.fromkeys(index.ids[p] for p in positions))


def named_positions(index: PaperIndex, names: Sequence[str], verb: str, done: str) -> list[int]:
    """The position of the paper each name names, read exactly (an id, DOI, arXiv id, URL, whole
    title or a title start of 3+ words; no near misses: these names change the index).

    Raises:
        AmbiguousQueryError: A name names several papers (they are listed).
        QueryError: Some names name no paper (all of them are listed); "nothing was {done}".
    """
    lookup = paper_lookup(index)
    found: list[int] = []
    unknown: list[str] = []
    for name in names:
        try:
            found.append(lookup.read(name, prefix_words=MIN_PREFIX_WORDS, near=False).position)
        except UnknownPaperError:
            unknown.append(name)
        except AmbiguousQueryError as exc:
            listing = "; ".join(f"{pid} ({cut_words(title)})" for pid, title in exc.candidates[:6])
            raise AmbiguousQueryError(
                f"'{name}' names {len(exc.candidates)} papers: {listing}; give the id of the one to {verb}; nothing was {done}",
                exc.query,
                exc.candidates,
            ) from None
    if unknown:
        raise QueryError(
            f"unknown paper id(s): {', '.join(dict.fromkeys(unknown))}; nothing was {done} (give an id, DOI, arXiv id, "
            "URL or title; list ids with: paperlike papers)"
        )
    return found


class ReuseOnly:
    """Stands in for the index's model when nothing needs embedding (removals never do)."""

    def __init__(self, index: PaperIndex):
        self.name = str(index.model.get("name"))
        self.dim = index.dim
        self._identity = index.model

    def identity(self) -> dict[str, Any]:
        return self._identity

    def embed_batch(self, texts: Any) -> Any:  # pragma: no cover - reached only if the index is inconsistent
        raise QueryError("removing papers needed new embeddings; rebuild the index with paperlike index build")
