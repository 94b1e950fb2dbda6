"""Merging duplicates: the records of one paper (a preprint and its published version) made one.

``paperlike dupes --merge`` merges the near-duplicate pairs ``dupes`` lists (or, with ``--pair``,
the pairs named). Pairs that share a record join into one group; each group becomes one paper:

* the record kept is the richest (:func:`~paperlike.identity.richness`): the published version
  (a venue, or a DOI that is not arXiv's) over a preprint, then the one with more known fields,
  then the longer abstract, then the one earlier in the index; it keeps its id and position;
* its fields are joined with the others' (:func:`~paperlike.identity.merge_records`): empty fields
  filled (so it has both the DOI and the arXiv id), tags, collections and other fields joined,
  the longer abstract, the authors it lacks;
* every name of a merged record (id, DOI, arXiv id, URL, title, text) keeps leading to it
  (:mod:`paperlike.storage.aliases`), through later merges, adds, removes and builds.

Listed pairs whose records contradict each other (two arXiv ids, or two DOIs that are not
arXiv's) are different papers that read alike: they are skipped and reported; a pair named with
``--pair`` is merged whatever its identifiers (its other DOI then leads to the paper too).

The merge is a new generation written like ``remove`` writes one, under the writer lock and
switched in atomically (an interrupted merge leaves the index as it was); the kept paper is
embedded again only when its text changed; BM25 arrays and themes follow the new generation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..embedding import Embedder, check_model, get_embedder
from ..errors import QueryError
from ..identity import contradict, merge_records, richness
from ..records import Corpus, Paper, paper_text_hash
from ..search.dupes import near_duplicates
from ..storage import PaperIndex, load_index, read_manifest
from ..storage.aliases import Alias, alias_of
from ..storage.lock import writer_lock
from .build import rebuild_index
from .edits import ReuseOnly, named_positions

__all__ = ["Merge", "MergeReport", "merge_papers"]


@dataclass
class Merge:
    """One group of records made one paper.

    Attributes:
        into: The id of the paper kept.
        merged: The ids of the records merged into it (no longer papers of the index).
        title: The kept paper's title.
        kept_because: Why that record was kept (see :func:`~paperlike.identity.richness`).
        score: The highest cosine of the group's pairs.
        reembedded: Whether the kept paper's text changed (a longer abstract), so it was embedded again.
        names: The DOIs and arXiv ids of the merged records that now lead to the kept paper.
    """

    into: str
    merged: list[str]
    title: str
    kept_because: str
    score: float
    reembedded: bool
    names: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "score": round(self.score, 6)}


@dataclass
class MergeReport:
    """What a merge did (or, with ``dry_run``, would do).

    Attributes:
        merges: Each group made one paper, in index order of the kept papers.
        skipped: Listed pairs not merged because their records name different papers:
            ``{"a", "b", "score", "why"}``.
        dry_run: Nothing was written.
        embedded: Texts embedded (the kept papers whose text changed).
        generation: The generation written (None when nothing was).
        parent: The generation the merge started from.
    """

    merges: list[Merge] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False
    embedded: int = 0
    generation: str | None = None
    parent: str | None = None

    @property
    def merged(self) -> int:
        """How many records were merged into other papers (the index is that many papers smaller)."""
        return sum(len(m.merged) for m in self.merges)

    def to_dict(self) -> dict[str, Any]:
        return {
            "merges": [m.to_dict() for m in self.merges],
            "merged": self.merged,
            "skipped": self.skipped,
            "dry_run": self.dry_run,
            "embedded": self.embedded,
            "generation": self.generation,
            "parent": self.parent,
        }


def merge_papers(
    directory: str | Path,
    pairs: Sequence[Sequence[str]] | None = None,
    *,
    threshold: float = 0.95,
    dry_run: bool = False,
    embedder: Embedder | None = None,
    device: str | None = None,
) -> MergeReport:
    """Merge duplicate papers of the index in ``directory`` (see the module's docstring).

    Args:
        pairs: The pairs to merge, each two names of papers as ``remove`` reads them (an id, DOI,
            arXiv id, URL, whole title or the start of one title, or a name of a record merged
            before); None merges every pair :func:`~paperlike.search.dupes.near_duplicates` lists.
        threshold: The cosine at or above which listed pairs are merged (``pairs`` None only).
        dry_run: Say what would be merged; write nothing (and take no lock).
        embedder: The index's model, for a kept paper whose text changed (default: the model the
            index names, loaded only then); ``device``: where that model runs.

    Raises:
        QueryError: A pair that names an unknown paper, the same paper twice, or no pair at all.
        AmbiguousQueryError: A name that several papers share.
        IndexBusyError: Another command kept the index locked too long.
        ModelMismatchError: ``embedder`` is not the index's model.
    """
    directory = Path(directory)
    named = None if pairs is None else _checked_pairs(pairs)
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not -1.0 <= threshold <= 1.0:
        raise QueryError(f"threshold must be a cosine between -1 and 1, not {threshold!r}")
    read_manifest(directory)  # no index: say so before taking any lock
    with contextlib.nullcontext() if dry_run else writer_lock(directory):
        index = load_index(directory)
        found = _near_pairs(index, threshold) if named is None else _named_pairs(index, named)
        plan = _Plan(index, found, forced=named is not None)
        report = MergeReport(plan.merges, plan.skipped, dry_run, parent=index.manifest["generation"])
        if dry_run or not plan.merges:
            return report
        papers, aliases, records = plan.apply()
        built = rebuild_index(
            Corpus(papers, index.manifest.get("corpus", {}).get("source", "")),
            _model(index, records, papers, embedder, device),
            directory,
            search="auto" if index.exact else "hnsw",
            base_generation=index.manifest["generation"],
            edited=True,
            aliases=aliases,
            live=(index, records),
        )
    report.embedded, report.generation = built.embedded, built.generation
    return report


def _checked_pairs(pairs: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    if isinstance(pairs, (str, bytes)) or not all(
        isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(n, str) for n in p) for p in pairs
    ):
        raise TypeError('pairs is a list of pairs of paper names, e.g. [("preprint-id", "published-id")]')
    out = [(a.strip(), b.strip()) for a, b in pairs]
    if not out:
        raise QueryError("no pair given; e.g. paperlike dupes --merge --pair ID1 ID2")
    return out


def _near_pairs(index: PaperIndex, threshold: float) -> list[tuple[int, int, float]]:
    positions = {pid: i for i, pid in enumerate(index.ids)}
    return [(positions[d.a], positions[d.b], d.score) for d in near_duplicates(index, threshold)]


def _named_pairs(index: PaperIndex, pairs: list[tuple[str, str]]) -> list[tuple[int, int, float]]:
    """Each named pair as positions and their cosine (read as ``remove`` reads names)."""
    flat = named_positions(index, [name for pair in pairs for name in pair], "merge", "merged")
    found = list(zip(flat[::2], flat[1::2]))
    for (a, b), (name_a, name_b) in zip(found, pairs):
        if a == b:
            raise QueryError(
                f"'{name_a}' and '{name_b}' are both paper {index.ids[a]}; give two different papers to merge; nothing was merged"
            )
    return [(a, b, float(np.dot(index.vector(a), index.vector(b)))) for a, b in found]


class _Plan:
    """The groups of records to make one paper each, and what that makes of the index."""

    def __init__(self, index: PaperIndex, pairs: list[tuple[int, int, float]], forced: bool):
        self.index = index
        self.parent: dict[int, int] = {}
        involved = sorted({p for a, b, _ in pairs for p in (a, b)})
        self.records = dict(zip(involved, index.papers_at(involved)))
        self.groups = {p: [p] for p in involved}
        self.scores: dict[int, float] = {}
        self.kept: dict[str, Paper] = {}  # kept id -> its merged record
        self.skipped: list[dict[str, Any]] = []
        for a, b, score in pairs:
            self._join(a, b, score, forced)
        self.merges = [self._merge(sorted(g)) for root, g in sorted(self.groups.items()) if len(g) > 1]

    def _root(self, p: int) -> int:
        while self.parent.get(p, p) != p:
            p = self.parent[p]
        return p

    def _join(self, a: int, b: int, score: float, forced: bool) -> None:
        ra, rb = sorted((self._root(a), self._root(b)))
        if ra == rb:
            return
        if not forced and contradict([self.records[p] for p in self.groups[ra]], [self.records[p] for p in self.groups[rb]]):
            ids = self.index.ids
            why = "the records have different arXiv ids or DOIs (different papers that read alike?)"
            self.skipped.append({"a": ids[a], "b": ids[b], "score": round(score, 6), "why": why})
            return
        self.parent[rb] = ra
        self.groups[ra] += self.groups.pop(rb)
        self.scores[ra] = max(self.scores.pop(rb, score), self.scores.get(ra, score), score)

    def _merge(self, group: list[int]) -> Merge:
        order = sorted(group, key=lambda p: (tuple(-x for x in richness(self.records[p])), p))
        kept = self.records[order[0]]
        merged = kept
        for p in order[1:]:
            merged = merge_records(merged, self.records[p])
        self.kept[kept.id] = merged
        gone = [self.records[p] for p in order[1:]]
        names = [n for r in gone for n in (r.doi, r.arxiv_id) if n]
        return Merge(
            kept.id,
            [r.id for r in gone],
            kept.title,
            _kept_because(kept, gone[0]),
            self.scores[self._root(order[0])],
            paper_text_hash(merged) != paper_text_hash(kept),
            names,
        )

    def apply(self) -> tuple[list[Paper], list[Alias], list[Paper]]:
        """The index's papers after the merges, its names of merged records, and its papers as
        read (before the merges: the rebuild reuses their vectors without reading them again)."""
        into = {gone: m.into for m in self.merges for gone in m.merged}
        records = self.index.papers()
        papers = [self.kept.get(p.id, p) for p in records if p.id not in into]
        # Flat: the names that led to a record merged now lead where it went (A -> B -> C: A -> C).
        aliases = [Alias(**{**asdict(a), "into": into.get(a.into, a.into)}) for a in self.index.aliases]
        gone = [p for p, r in self.records.items() if r.id in into]
        aliases += [alias_of(self.records[p], into[self.records[p].id]) for p in gone]
        return papers, aliases, records


def _kept_because(kept: Paper, other: Paper) -> str:
    """Which rule of :func:`~paperlike.identity.richness` chose ``kept`` over the next record."""
    mine, theirs = richness(kept), richness(other)
    if mine[0] != theirs[0]:
        return "published (it has a " + ("venue" if kept.venue else "DOI") + ")"
    if mine[1] != theirs[1]:
        return f"more fields ({mine[1]} to {theirs[1]})"
    if mine[2] != theirs[2]:
        return "longer abstract"
    return "as rich, and first in the index"


def _model(index: PaperIndex, records: list[Paper], papers: list[Paper], embedder: Embedder | None, device: str | None) -> Any:
    """The model for the merged papers: none is loaded when every text has a vector already
    (``records``: the index's papers as read)."""
    known = {paper_text_hash(p) for p in records}
    if all(paper_text_hash(p) in known for p in papers):
        return ReuseOnly(index)
    model = embedder or get_embedder(index.model.get("name"), device)
    check_model(index.model, model, index.directory)
    return model
