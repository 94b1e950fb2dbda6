"""An add's records folded into the index's papers, and the report of what each record was.

A record is the same paper as an indexed one when it carries the same explicit id (it then
replaces the indexed record), the same arXiv id, DOI or normalised title (a duplicate: its
missing fields are merged in), or, without an id, the same text; ids of indexed papers never
change. :func:`paperlike.service.edits.add_papers` runs it under the writer lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..identity import find_same, identity_keys, merge_into, normalize_title, same_paper
from ..records import Corpus, Paper, paper_text_hash
from ..storage.aliases import Alias
from ..text import cut_words, slugify, unique_name

__all__ = ["AddReport", "Intake"]


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


class Intake:
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
