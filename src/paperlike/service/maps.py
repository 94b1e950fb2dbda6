"""``paperlike map``: the page of an index's papers coloured by one theme set.

The click panel lists, for each paper, the papers ``paperlike similar ID`` would list first, with
the same default ranking (hybrid), so the map and the command never disagree. Ranking every
paper is one query per paper: up to ``HYBRID_PANEL_LIMIT`` papers it is done that way (10-35 ms
a paper on 2 cores, so at most about a minute); above it the panel lists the nearest papers by
the model's cosine (one batched search) and says so; above ``PANEL_LIMIT`` papers the page would be too big to carry them, and the panel
only shows the command to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PaperlikeError
from ..records import DEFAULT_MODE, ThemeSet

if TYPE_CHECKING:  # pragma: no cover
    from .recommender import Recommender

__all__ = ["panel_neighbours", "map_page", "write_map", "HYBRID_PANEL_LIMIT", "PANEL_LIMIT", "PANEL_K"]

PANEL_K = 5
HYBRID_PANEL_LIMIT = 2000
PANEL_LIMIT = 20000


def panel_neighbours(rec: Recommender, k: int = PANEL_K) -> tuple[dict[str, list[tuple[str, float]]], str]:
    """``({paper id: [(id, score), ...]}, how they were ranked)`` for the map's click panel."""
    count = len(rec)
    if count <= 1:
        return {}, "no other papers"
    if count <= HYBRID_PANEL_LIMIT:
        out = {pid: [(r.id, float(r.score)) for r in rec.similar(pid, k)] for pid in rec.index.ids}
        return out, f"as 'paperlike similar ID' ranks by default ({DEFAULT_MODE}: TF-IDF fused with the model's cosine)"
    if count <= PANEL_LIMIT:
        return (
            rec.neighbours(k),
            f"by the model's cosine, as 'paperlike similar ID --mode dense' ranks; above {HYBRID_PANEL_LIMIT:,} papers "
            "the map does not run the default hybrid ranking for every paper",
        )
    return {}, f"not listed above {PANEL_LIMIT:,} papers; run the command shown"


def map_page(rec: Recommender, themes: ThemeSet, title: str) -> tuple[bytes, dict[str, Any]]:
    """The map page of ``rec``'s papers coloured by ``themes`` (UTF-8 HTML) and its summary."""
    from ..viz.map import map_html

    frame = rec.map_2d(themes)
    neighbours, ranking = panel_neighbours(rec)
    data = map_html(frame, neighbours, title, ranking=ranking, theme_set=themes.describe()).encode("utf-8")
    summary = {
        "papers": len(frame),
        "themes": len(themes),
        "projection": frame.attrs["method"],
        "bytes": len(data),
        "theme_set": themes.set_dict(),
        "panel": ranking,
    }
    return data, summary


def write_map(rec: Recommender, themes: ThemeSet, out: Path, title: str) -> dict[str, Any]:
    """Write the map page to ``out`` (a link is written through, a device or FIFO written to);
    returns a summary.

    Raises:
        PaperlikeError: ``out`` cannot be written.
    """
    from ..storage.files import write_output

    data, summary = map_page(rec, themes, title)
    try:
        written = write_output(out, data)
    except OSError as exc:
        raise PaperlikeError(f"cannot write {out} ({exc.strerror or exc}); choose another --out") from None
    return {"out": str(written), **summary}
