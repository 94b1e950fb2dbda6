"""A static picture of the map, as SVG: for notebooks viewed where JavaScript does not run
(GitHub, nbviewer, an exported HTML file), and for any page that wants a picture.

Pure Python (no matplotlib, no kaleido, no browser): one circle per paper in its theme's colour,
the theme labels placed without overlap (see :mod:`.placement`), and a legend listing every
theme. Every text is XML-escaped; each dot has a ``<title>`` (title and id) that viewers show on
hover.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .placement import PAD_PX, label_spots, leader_ends
from .style import AXIS_RANGE, colour

__all__ = ["map_svg"]

_LEGEND_ROW = 18


def _themes(frame: Any) -> list[tuple[str, str, int]]:
    """``(theme id, label, size)`` in first-seen order (the order colours are given in)."""
    order = list(dict.fromkeys(str(t) for t in frame["theme"]))
    labels = dict(zip((str(t) for t in frame["theme"]), (str(lab) for lab in frame["theme_label"])))
    counts = {t: 0 for t in order}
    for t in frame["theme"]:
        counts[str(t)] += 1
    counts.update(frame.attrs.get("theme_sizes", {}))  # members, not only the dots of its colour
    return [(t, labels[t], counts[t]) for t in order]


def map_svg(frame: Any, title: str = "Papers by theme", width: int = 960, plot_height: int = 620) -> str:
    """An SVG picture of a :meth:`Recommender.map_2d` frame (dots, theme labels, legend).

    Args:
        frame: DataFrame with columns id, title, x, y, theme, theme_label.
        title: Shown above the plot.
        width: Picture width in pixels.
        plot_height: Height of the plot area in pixels (the legend adds rows below it).
    """
    themes = _themes(frame)
    index = {t: i for i, (t, _, _) in enumerate(themes)}
    top, lo, hi = 34, AXIS_RANGE[0], AXIS_RANGE[1]
    sx, sy = width / (hi - lo), plot_height / (hi - lo)
    legend_cols = max(1, width // 320)
    legend_rows = -(-len(themes) // legend_cols)
    height = top + plot_height + 12 + legend_rows * _LEGEND_ROW + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="system-ui, sans-serif" role="img">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="8" y="22" font-size="16" fill="#333">{escape(title)}</text>',
    ]
    for pid, t, x, y, theme in zip(frame["id"], frame["title"], frame["x"], frame["y"], frame["theme"]):
        cx, cy = (float(x) - lo) * sx, top + (hi - float(y)) * sy
        out.append(
            f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{colour(index[str(theme)])}" fill-opacity="0.85" '
            f'stroke="white" stroke-width="0.5"><title>{escape(str(t))} [{escape(str(pid))}]</title></circle>'
        )
    members = []
    for t, _, _ in themes:
        part = frame[frame["theme"].astype(str) == t]
        members.append(list(zip(part["x"].astype(float), part["y"].astype(float))))
    dots = list(zip(frame["x"].astype(float), frame["y"].astype(float)))
    labels, sizes = [lab for _, lab, _ in themes], [n for _, _, n in themes]
    spots = label_spots(members, labels, sizes, dots, (width, plot_height), AXIS_RANGE, AXIS_RANGE)
    for (t, label, _), spot in zip(themes, spots):
        cx, cy = spot.box.x + spot.box.w / 2, top + spot.box.y + spot.box.h / 2
        if spot.leader:
            x0, y0, x1, y1 = leader_ends(spot)
            out.append(
                f'<line x1="{x0:.1f}" y1="{top + y0:.1f}" x2="{x1:.1f}" y2="{top + y1:.1f}" '
                f'stroke="{colour(index[t])}" stroke-width="1"/>'
            )
        # Beside its dot, the text starts at the box's near edge: real text is narrower than the box.
        anchor = "start" if spot.dx > spot.box.w / 2 else "end" if spot.dx < -spot.box.w / 2 else "middle"
        if not spot.leader and anchor != "middle":
            cx += (PAD_PX - spot.box.w / 2) if anchor == "start" else (spot.box.w / 2 - PAD_PX)
        else:
            anchor = "middle"
        out.append(
            f'<text class="label" x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="{anchor}" font-size="12" '
            f'fill="{colour(index[t])}" '
            f'stroke="white" stroke-width="3" paint-order="stroke">{escape(label)}</text>'
        )
    y0 = top + plot_height + 12
    col_width = width / legend_cols
    for i, (t, label, size) in enumerate(themes):
        x = 8 + (i % legend_cols) * col_width
        y = y0 + (i // legend_cols) * _LEGEND_ROW
        text = f"{t}: {label} ({size})"
        max_chars = int((col_width - 24) / 6.5)
        shown = text if len(text) <= max_chars else text[: max(max_chars - 1, 1)] + "…"
        out.append(f'<circle cx="{x + 5:.1f}" cy="{y + 5:.1f}" r="5" fill="{colour(i)}"/>')
        out.append(f'<text x="{x + 16:.1f}" y="{y + 9:.1f}" font-size="12" fill="#333">{escape(shown)}</text>')
    out.append("</svg>")
    return "\n".join(out)
