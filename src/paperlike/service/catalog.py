"""What an index holds, for listing and export: papers by title filter, by theme and by id, and
the description of the index a command would use (without building it)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from ..errors import IndexMissingError, QueryError
from ..records import Paper
from ..search.lookup import PaperLookup
from ..settings import default_index_dir
from ..storage import PaperIndex
from ..storage.manifest import describe_manifest, read_manifest

__all__ = ["matching_positions", "select_papers", "describe_index", "paper_lookup"]


def paper_lookup(index: PaperIndex) -> PaperLookup:
    """The :class:`~paperlike.search.lookup.PaperLookup` of an index: what ``similar``, ``remove``
    and Python's ``find`` read paper names with."""

    def containing(text: str) -> list[tuple[int, Paper]]:
        # As a JSON string holds it, raw or \u-escaped, whichever way the writer encoded it.
        forms = {json.dumps(text, ensure_ascii=ascii)[1:-1].encode("utf-8") for ascii in (False, True)}
        pattern = re.compile(b"|".join(re.escape(f) for f in sorted(forms)), re.IGNORECASE)
        positions = index.positions_matching(pattern)
        return list(zip(positions, index.papers_at(positions)))

    return PaperLookup(index.ids, index.titles, index.position, containing, index.aliases)


def matching_positions(index: PaperIndex, contains: str | None = None) -> list[int]:
    """Positions of the papers whose id or title contains ``contains`` (any case; all when None)."""
    if contains is None:
        return list(range(index.count))
    if not isinstance(contains, str):
        raise TypeError(f"contains is a string, not {type(contains).__name__}")
    needle = contains.casefold()
    return [
        i for i, (pid, title) in enumerate(zip(index.ids, index.titles)) if needle in pid.casefold() or needle in title.casefold()
    ]


def select_papers(
    index: PaperIndex,
    *,
    ids: Sequence[str] = (),
    members: Collection[str] | None = None,
    contains: str | None = None,
) -> list[Paper]:
    """Full records of the chosen papers, in index order.

    Args:
        ids: Only these paper ids (exact; the id of a record merged into a paper names that paper).
        members: Only papers with these ids (a theme's members), or None for no such limit.
        contains: Only papers whose id or title contains this text.

    Raises:
        QueryError: Some of ``ids`` are not in the index (nothing is returned).
    """
    wanted = [i for i in ids if i]
    found = {i: index.resolve(i) for i in wanted}
    unknown = [i for i, p in found.items() if p is None]
    if unknown:
        raise QueryError(f"unknown paper id(s): {', '.join(unknown)}; list ids with: paperlike papers")
    positions = matching_positions(index, contains)
    if wanted:
        chosen = {index.ids[p] for p in found.values() if p is not None}
        positions = [p for p in positions if index.ids[p] in chosen]
    if members is not None:
        keep = set(members)
        positions = [p for p in positions if index.ids[p] in keep]
    return index.papers_at(positions)


def describe_index(index_dir: str | Path | None = None) -> dict[str, Any]:
    """What ``paperlike info`` shows: the index a command would use, and why that one.

    With no ``index_dir`` and no default index built yet, says where it will be built
    (``papers`` is None) instead of building it.

    Raises:
        IndexMissingError: A given directory (or ``$PAPERLIKE_INDEX_DIR``) holds no index.
    """
    reason = "--index-dir"
    if index_dir is None:
        index_dir, reason = default_index_dir()
    index_dir = Path(index_dir)
    try:
        return describe_manifest(index_dir, reason, read_manifest(index_dir))
    except IndexMissingError:
        if reason == "--index-dir" or reason.startswith("$"):
            raise
        return {"index_dir": str(index_dir), "index_dir_from": reason, "papers": None}
