"""Stable theme ids: new themes take the ids of the old ones they match (Hungarian matching of
centroids, cosine >= 0.7), and the result says which themes are new, grown, shrunk, merged or gone."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..records import Theme, ThemeSet

__all__ = ["MATCH_COSINE", "assign_discovered_ids", "id_key"]

MATCH_COSINE = 0.7  # old and new centroids this close are the same theme


def id_key(theme_id: str) -> tuple[int, int, str]:
    """Sort key: seeded ids by name first, then t1, t2, ... in numeric order."""
    m = re.fullmatch(r"t(\d+)", theme_id)
    return (1, int(m.group(1)), "") if m else (0, 0, theme_id)


def _status(new_size: int, old: Theme | None) -> str:
    if old is None:
        return "new"
    delta = new_size - old.size
    return "grown" if delta > 0 else "shrunk" if delta < 0 else "same"


def _match(discovered: list[Theme], old: list[Theme]) -> dict[int, Theme]:
    """Index of a new discovered theme -> the old theme it continues (Hungarian matching)."""
    if not old or not discovered:
        return {}
    from scipy.optimize import linear_sum_assignment

    sim = np.stack([t.centroid for t in discovered]) @ np.stack([t.centroid for t in old]).T
    rows, cols = linear_sum_assignment(-sim)
    return {int(r): old[c] for r, c in zip(rows, cols) if sim[r, c] >= MATCH_COSINE}


def _record(changes: dict[str, Any], theme: Theme) -> None:
    if theme.status in ("new", "grown", "shrunk"):
        changes[theme.status].append(theme.id)


def _continue_ids(discovered: list[Theme], previous: ThemeSet, changes: dict[str, Any]) -> set[str]:
    """Matched themes keep their old ids, the others get fresh ones; returns the old ids kept."""
    matched = _match(discovered, [t for t in previous.themes if t.seed is None])
    next_number = 1 + max((id_key(t.id)[1] for t in previous.themes if id_key(t.id)[0] == 1), default=0)
    for i, theme in enumerate(discovered):
        if i in matched:
            theme.id = matched[i].id
        else:
            theme.id, next_number = f"t{next_number}", next_number + 1
        theme.status = _status(theme.size, matched.get(i))
        _record(changes, theme)
    return {t.id for t in matched.values()}


def _gone(discovered: list[Theme], previous: ThemeSet, kept: set[str], changes: dict[str, Any]) -> None:
    """Old discovered themes without a successor: merged into a close new one, or gone."""
    for gone in (t for t in previous.themes if t.seed is None and t.id not in kept):
        best = max(((float(gone.centroid @ t.centroid), t.id) for t in discovered), default=(0.0, ""))
        if best[0] >= MATCH_COSINE:
            changes["merged"][gone.id] = best[1]
        else:
            changes["gone"].append(gone.id)


def assign_discovered_ids(themes: list[Theme], previous: ThemeSet | None) -> dict[str, Any]:
    """Give discovered themes ids (reusing the ids of matching previous themes), set every
    theme's status, and return the changes versus ``previous`` (empty without one)."""
    discovered = [t for t in themes if t.seed is None]
    # Order for fresh ids: largest first, then by best member id, so ids never depend on k-means order.
    discovered.sort(key=lambda t: (-t.size, t.papers[0].id))
    if previous is None:
        for number, theme in enumerate(discovered, 1):
            theme.id = f"t{number}"
        return {}
    changes: dict[str, Any] = {"new": [], "grown": [], "shrunk": [], "merged": {}, "gone": []}
    kept = _continue_ids(discovered, previous, changes)
    before = {t.id: t for t in previous.themes}
    for theme in (t for t in themes if t.seed is not None):
        theme.status = _status(theme.size, before.get(theme.id))
        _record(changes, theme)
    _gone(discovered, previous, kept, changes)
    for key in ("new", "grown", "shrunk", "gone"):
        changes[key].sort(key=id_key)
    return changes
