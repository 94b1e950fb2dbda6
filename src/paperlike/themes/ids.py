"""Stable theme ids: new themes take the ids of the old ones they match (Hungarian matching of
centroids, cosine >= 0.7), and the result says which themes are new, grown, shrunk, merged or gone."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..records import Theme, ThemeSet

__all__ = ["MATCH_COSINE"]

MATCH_COSINE = 0.7  # old and new centroids this close are the same theme


def id_key(theme_id: str) -> tuple[int, int, str]:
    m = re.fullmatch(r"t(\d+)", theme_id)
    return (1, int(m.group(1)), "") if m else (0, 0, theme_id)


def assign_discovered_ids(themes: list[Theme], previous: ThemeSet | None) -> dict[str, Any]:
    """Give discovered themes ids, reusing the ids of matching previous themes."""
    discovered = [t for t in themes if t.seed is None]
    # Order for fresh ids: largest first, then by best member id, so ids never depend on k-means order.
    discovered.sort(key=lambda t: (-t.size, t.papers[0].id))
    if previous is None:
        for number, theme in enumerate(discovered, 1):
            theme.id = f"t{number}"
        return {}

    from scipy.optimize import linear_sum_assignment

    old = [t for t in previous.themes if t.seed is None]
    matched: dict[int, Theme] = {}
    if old and discovered:
        sim = np.stack([t.centroid for t in discovered]) @ np.stack([t.centroid for t in old]).T
        rows, cols = linear_sum_assignment(-sim)
        matched = {int(r): old[c] for r, c in zip(rows, cols) if sim[r, c] >= MATCH_COSINE}
    next_number = 1 + max((id_key(t.id)[1] for t in previous.themes if id_key(t.id)[0] == 1), default=0)
    changes: dict[str, Any] = {"new": [], "grown": [], "shrunk": [], "merged": {}, "gone": []}
    for i, theme in enumerate(discovered):
        if i in matched:
            theme.id = matched[i].id
            delta = theme.size - matched[i].size
            theme.status = "grown" if delta > 0 else "shrunk" if delta < 0 else "same"
            if delta:
                changes[theme.status].append(theme.id)
        else:
            theme.id, next_number = f"t{next_number}", next_number + 1
            theme.status = "new"
            changes["new"].append(theme.id)
    matched_old = {t.id for t in matched.values()}
    for theme in themes:
        if theme.seed is not None:
            before = next((t for t in previous.themes if t.id == theme.id), None)
            delta = theme.size - before.size if before else 0
            theme.status = "new" if before is None else "grown" if delta > 0 else "shrunk" if delta < 0 else "same"
            if before is None:
                changes["new"].append(theme.id)
            elif delta:
                changes[theme.status].append(theme.id)
    for gone in (t for t in old if t.id not in matched_old):
        sims = [(float(gone.centroid @ t.centroid), t.id) for t in discovered]
        best = max(sims, default=(0.0, ""))
        if best[0] >= MATCH_COSINE:
            changes["merged"][gone.id] = best[1]
        else:
            changes["gone"].append(gone.id)
    for key in ("new", "grown", "shrunk", "gone"):
        changes[key].sort(key=id_key)
    return changes
