"""Incremental changes to an index: add papers from files, remove papers by id.

Only papers that are new, or whose text changed, are embedded; every other vector is reused
(see :mod:`paperlike.cache`). The index is rewritten as a new generation and switched in
atomically, so an interrupted add leaves the previous index intact.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..embedding import Embedder, check_model, get_embedder
from ..errors import QueryError
from ..identity import find_same, identity_keys, merge_into
from ..records import Corpus, Paper
from ..storage import load_index
from ..text import slugify
from .build import BuildReport, build_index

__all__ = ["AddReport", "add_papers", "remove_papers"]


@dataclass
class AddReport:
    """What an add did.

    Attributes:
        added: Papers new to the index.
        updated: Papers already indexed whose text changed (re-embedded).
        unchanged: Papers already indexed with the same text.
        duplicates: Records of papers already indexed (or read twice in these files) under
            another id (same arXiv id, DOI or title); their missing fields were merged in.
        skipped: Malformed entries skipped while reading the files.
        embedded: Texts embedded by this add.
        seconds: Wall time.
        added_ids: Ids of the added papers.
        notes: Notes from the readers.
    """

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped: int = 0
    embedded: int = 0
    seconds: float = 0.0
    added_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _free_id(paper: Paper, taken: set[str]) -> str:
    base = slugify(paper.title) or paper.id or "paper"
    new_id, n = base, 1
    while new_id in taken:
        n += 1
        new_id = f"{base}-{n}"
    return new_id


def add_papers(
    directory: str | Path,
    corpora: Iterable[Corpus],
    *,
    embedder: Embedder | None = None,
    batch_size: int = 32,
    progress: bool = False,
) -> AddReport:
    """Add the papers of ``corpora`` to the index in ``directory``.

    A record is the same paper as an indexed one when it carries the same explicit id (it then
    replaces the indexed record) or the same arXiv id, DOI or normalised title (a duplicate: its
    missing fields are merged in). Ids of indexed papers never change.

    Raises:
        IndexMissingError: No index in ``directory``.
        ModelMismatchError: ``embedder`` is not the index's model.
    """
    started = time.perf_counter()
    directory = Path(directory)
    index = load_index(directory)
    embedder = embedder or get_embedder(index.model.get("name"))
    check_model(index.model, embedder, directory)
    papers = list(index.papers())
    by_id = {p.id: i for i, p in enumerate(papers)}
    by_key: dict[str, int] = {}
    for i, p in enumerate(papers):
        for key in identity_keys(p):
            by_key.setdefault(key, i)
    report = AddReport()
    sources = []
    corpora = list(corpora)
    # Generated ids must not take an id that a later record of this add names explicitly.
    reserved = {pid for corpus in corpora for pid in corpus.explicit_ids}
    added_here: set[int] = set()
    for corpus in corpora:
        sources.append(corpus.source)
        report.skipped += corpus.skipped
        report.duplicates += corpus.merged
        report.notes.extend(corpus.notes)
        for paper in corpus.papers:
            explicit = paper.id in corpus.explicit_ids
            target = by_id.get(paper.id) if explicit else None
            if target is not None:  # same explicit id: this record is the paper's new version
                before = papers[target]
                papers[target] = paper
                if target not in added_here:
                    report.updated += papers[target].text != before.text
                    report.unchanged += papers[target].text == before.text
            elif (target := find_same(paper if explicit else Paper(**{**asdict(paper), "id": ""}), by_key, papers)) is not None:
                before = papers[target]
                papers[target] = merge_into(before, paper)
                if target not in added_here:
                    report.updated += papers[target].text != before.text
                    report.duplicates += papers[target].text == before.text
            else:
                new_id = paper.id if explicit and paper.id not in by_id else _free_id(paper, set(by_id) | reserved)
                target = len(papers)
                papers.append(Paper(**{**asdict(paper), "id": new_id}))
                by_id[new_id] = target
                added_here.add(target)
                report.added += 1
                report.added_ids.append(new_id)
            for key in identity_keys(papers[target]):
                by_key.setdefault(key, target)
    source = index.manifest.get("corpus", {}).get("source", "")
    merged = Corpus(papers, f"{source} + {' + '.join(sources)}" if sources else source)
    # An index built approximate stays approximate; an exact one follows the size threshold.
    search = "auto" if index.exact else "hnsw"
    built: BuildReport = build_index(merged, embedder, directory, batch_size=batch_size, progress=progress, search=search)
    report.embedded = built.embedded
    report.seconds = time.perf_counter() - started
    return report


def remove_papers(directory: str | Path, ids: Sequence[str]) -> list[str]:
    """Remove papers by exact id; nothing is written unless every id is known.

    Returns:
        The removed ids.

    Raises:
        QueryError: An unknown id, no id, or every paper of the index.
    """
    directory = Path(directory)
    index = load_index(directory)
    wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
    if not wanted:
        raise QueryError("no paper id given; e.g. paperlike remove autodistil")
    unknown = [i for i in wanted if index.position(i) is None]
    if unknown:
        raise QueryError(f"unknown paper id(s): {', '.join(unknown)}; nothing was removed (list ids with: paperlike papers)")
    if len(wanted) >= index.count:
        raise QueryError(f"that would remove all {index.count} papers; delete the index directory {directory} instead")
    gone = set(wanted)
    keep = [p for p in index.papers() if p.id not in gone]
    # No text is embedded again: every kept vector is reused from the index.
    build_index(
        Corpus(keep, index.manifest.get("corpus", {}).get("source", "")),
        _ReuseOnly(index),
        directory,
        search="auto" if index.exact else "hnsw",
    )
    return wanted


class _ReuseOnly:
    """Stands in for the index's model when nothing needs embedding (removals never do)."""

    def __init__(self, index):
        self.name = index.model.get("name")
        self.dim = index.dim
        self._identity = index.model

    def identity(self) -> dict:
        return self._identity

    def embed_batch(self, texts):  # pragma: no cover - reached only if the index is inconsistent
        raise QueryError("removing papers needed new embeddings; rebuild the index with paperlike index build")
