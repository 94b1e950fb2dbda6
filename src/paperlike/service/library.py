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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..embedding import Embedder, check_model, get_embedder
from ..engines import Engine, get_engine
from ..errors import AmbiguousQueryError, QueryError, UnknownPaperError
from ..identity import find_same, identity_keys, merge_into, normalize_title, same_paper
from ..records import Corpus, Paper, paper_text_hash
from ..search.lookup import MIN_PREFIX_WORDS
from ..storage import PaperIndex, load_index, read_manifest
from ..storage.aliases import Alias
from ..storage.checkpoints import EmbeddingCache
from ..storage.generations import retire
from ..storage.lock import writer_lock
from ..text import cut_words, slugify, unique_name
from .build import rebuild_index
from .catalog import paper_lookup

__all__ = ["AddReport", "RemovedIds", "ReuseOnly", "add_papers", "remove_papers", "named_positions"]


@dataclass
class AddReport:
    """What an add did.

    Attributes:
        added: Papers new to the index.
        updated: Papers already indexed whose text changed (re-embedded).
        unchanged: Papers already indexed with the same text, given again (under their own id,
            or without an id and adding nothing new): the same count for every file format.
        duplicates: Records of papers already indexed (or read twice in these files) under
            another id (same arXiv id, DOI or title), or that brought missing fields, which were merged in.
        skipped: Malformed entries skipped while reading the files.
        embedded: Texts embedded by this add.
        seconds: Wall time.
        added_ids: Ids of the added papers.
        merged: Each record merged into a paper under another id (a duplicate): ``{"record": its
            title, "into": the paper's id, "by": "arxiv", "doi", "title", "text" or "alias" (the
            id of a record merged into the paper by ``dupes --merge``),
            "titles_differ": the two titles share under half their words}``.
        notes: Notes from the readers, and one per merge whose titles differ.
        generation: The index generation written (None when nothing changed, so nothing was written).
        parent: The generation the add started from.
    """

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped: int = 0
    embedded: int = 0
    seconds: float = 0.0
    added_ids: list[str] = field(default_factory=list)
    merged: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generation: str | None = None
    parent: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class RemovedIds(list):
    """The removed ids (a list, as before), with the generation written and the one it replaced."""

    generation: str | None = None
    parent: str | None = None


class _Merger:
    """Folds the records of one add into the index's papers and counts what each record was."""

    def __init__(self, papers: Sequence[Paper], reserved: set[str], aliases: Sequence[Alias] = ()):
        self.papers = list(papers)
        self.indexed = len(self.papers)
        # Explicit ids named later in this add, and the ids of merged records: never generated.
        self.reserved = reserved | {a.id for a in aliases}
        self.by_id = {p.id: i for i, p in enumerate(self.papers)}
        self.by_key: dict[str, int] = {}
        for i, p in enumerate(self.papers):
            self._keys(i, p)
        # A merged record added again is the paper it was merged into (its names lead there,
        # after the papers' own names).
        self.merged_ids = {a.id: self.by_id[a.into] for a in aliases if a.into in self.by_id}
        for alias in aliases:
            if alias.id in self.merged_ids:
                self._keys(self.merged_ids[alias.id], alias.as_paper())
        # Papers by embedded text: a record without an id whose text a paper of the index (or of
        # an earlier file of this add) has is that paper given again, whatever its title's
        # length. Each paper is matched at most once per file, so a file holding the same
        # untitled record three times makes three papers, as a build of it does, and adding
        # that file again makes none.
        self.by_text: dict[str, list[int]] = {}
        for i, p in enumerate(self.papers):
            self.by_text.setdefault(paper_text_hash(p), []).append(i)
        for alias in aliases:
            if alias.text_sha and alias.id in self.merged_ids:
                self.by_text.setdefault(alias.text_sha, []).append(self.merged_ids[alias.id])
        self.pool: dict[str, list[int]] = {}
        self.added_here: set[int] = set()
        self.report = AddReport()

    def take_file(self, corpus: Corpus) -> None:
        """Fold in the records of one file."""
        self.pool = {h: list(positions) for h, positions in self.by_text.items()}
        first_new = len(self.papers)
        for paper in corpus.papers:
            self.take(paper, paper.id in corpus.explicit_ids)
        for i in range(first_new, len(self.papers)):
            self.by_text.setdefault(paper_text_hash(self.papers[i]), []).append(i)

    def _keys(self, position: int, paper: Paper) -> None:
        for key in identity_keys(paper):
            self.by_key.setdefault(key, position)

    def _same_text(self, anonymous: Paper) -> int | None:
        candidates = self.pool.get(paper_text_hash(anonymous), [])
        for i, position in enumerate(candidates):
            if same_paper(self.papers[position], anonymous, "title:"):  # no contradicting arXiv id or DOI
                return candidates.pop(i)
        return None

    def _count(self, target: int, before: Paper, kind: str) -> None:
        if target in self.added_here:
            return  # a later record of a paper added by this add: counted once, as added
        if self.papers[target].text != before.text:
            self.report.updated += 1
        elif kind == "unchanged":
            self.report.unchanged += 1
        else:
            self.report.duplicates += 1

    def take(self, paper: Paper, explicit: bool) -> None:
        target = self.by_id.get(paper.id) if explicit else None
        if target is not None:  # same explicit id: this record is the paper's new version
            before = self.papers[target]
            self.papers[target] = paper
            self._count(target, before, "unchanged")
        else:
            anonymous = paper if explicit else Paper(**{**asdict(paper), "id": ""})
            target, by = self._same(anonymous, explicit)
            if target is not None:
                before = self.papers[target]
                self.papers[target] = merge_into(before, paper)
                by = by if by in ("text", "alias") else self._matched_by(anonymous, target)
                differ = by != "alias" and _titles_differ(paper.title, before.title)  # (merged on purpose)
                # Given again without an id and bringing nothing new: the same paper, unchanged
                # (unless its title is another paper's: that is a merge to say out loud).
                same = not explicit and self.papers[target] == before and not differ
                self._count(target, before, "unchanged" if same else "duplicate")
                if not same and target not in self.added_here:
                    self._merged(paper, before, by, differ)
            else:
                target = self._append(paper, explicit)
        self._keys(target, self.papers[target])

    def _same(self, anonymous: Paper, explicit: bool) -> tuple[int | None, str]:
        """The paper a record (without its id unless explicit) is, and how it was found: by the id
        of a record merged into it ("alias"), an identity key ("key") or, without an id, its text."""
        if explicit and anonymous.id in self.merged_ids:
            return self.merged_ids[anonymous.id], "alias"
        target = find_same(anonymous, self.by_key, self.papers)
        if target is None and not explicit:
            return self._same_text(anonymous), "text"
        return target, "key"

    def _matched_by(self, record: Paper, target: int) -> str:
        """Which identity key of ``record`` led to ``target``: arxiv, doi or title."""
        for key in identity_keys(record):
            if self.by_key.get(key) == target:
                return key.split(":", 1)[0]
        return "title"

    def _merged(self, record: Paper, into: Paper, by: str, differ: bool) -> None:
        """Say which paper a duplicate record was merged into, and flag titles that disagree
        (a wrong DOI in one record merges two different papers)."""
        self.report.merged.append({"record": cut_words(record.title, 100), "into": into.id, "by": by, "titles_differ": differ})
        if differ:
            self.report.notes.append(
                f"merged '{cut_words(record.title, 80)}' into {into.id} ('{cut_words(into.title, 80)}') by its {by} "
                f"although the titles differ; if they are different papers, one record's {by} is wrong"
            )

    def _append(self, paper: Paper, explicit: bool) -> int:
        if explicit and paper.id not in self.by_id:
            new_id = paper.id
        else:
            new_id = unique_name(slugify(paper.title), set(self.by_id) | self.reserved, lambda: paper.id or "paper")
        target = len(self.papers)
        self.papers.append(Paper(**{**asdict(paper), "id": new_id}))
        self.by_id[new_id] = target
        self.added_here.add(target)
        self.report.added += 1
        self.report.added_ids.append(new_id)
        return target


def _titles_differ(a: str, b: str) -> bool:
    """Two titles that share under half the words of the shorter one (case, accents and
    punctuation aside): not one paper's title written two ways."""
    words = [set((normalize_title(t) or t.lower()).split()) for t in (a, b)]
    return len(words[0] & words[1]) < 0.5 * max(min(len(words[0]), len(words[1])), 1)


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
    ``ray``: see :mod:`paperlike.engines`); ``device`` is where the index's model runs when no
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
        merger = _Merger(original, {pid for corpus in corpora for pid in corpus.explicit_ids}, index.aliases)
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
