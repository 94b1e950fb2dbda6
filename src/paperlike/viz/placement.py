"""Where to write theme labels on the map: off the dots, off each other, inside the plot.

Greedy, biggest theme first. A label tries candidate places, all in pixels: centred on its
theme's centre; beside the centre and beside each of the theme's dots nearest it (right, left,
above, below, the four corners); then a grid of places over the whole plot. It takes the place
that, in this order, (0) lies within ``REACH_PX`` of its theme's dots (unless every such place
hits a label: a label in a dense map covers a few dots rather than run off to an empty corner
on a long line), (1) overlaps no label placed before it, (2) covers the fewest dots,
(3) hits the fewest labels and dots at the other plot sizes given (a notebook's size is not
known here), (4) lies nearest its theme's dots (or centre); ties go to the earlier candidate, so the
same map always gets the same labels. A label left more than ``LEADER_PX`` from its theme's
nearest dot gets a leader line to that dot.

Units: dots are in data units, a label's box in pixels (12 px text, ``CHAR_PX`` a character:
an over-estimate, so a real box is smaller than the one placed), so a box's size in data units
depends on the plot's size in pixels. Places are therefore found in pixels for one plot size
and kept as an anchor in data units (the dot or centre the label sits beside) plus an offset in
pixels, which is how plotly draws an annotation: a label put beside a dot stays beside it at
any figure width. The static SVG has a fixed size and is exact; the HTML page and the web app
place the labels again in the browser with the same rules (``labels.js``), measured boxes and
the real plot size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = [
    "Box",
    "Spot",
    "place_labels",
    "label_spots",
    "leader_ends",
    "label_script",
    "overlaps",
    "FIGURE_SIZES",
    "STANDOFF_PX",
]

CHAR_PX = 7.0  # average width of a character of the 12 px label font (measured ~5 in Chromium)
LINE_PX = 18.0  # label height, padding included
PAD_PX = 4.0
DOT_PX = 6.0  # a dot's radius (4.5) and its white rim, plus a pixel of air
GAP_PX = 2.0  # between a dot and a label put beside it
LEADER_PX = 24.0  # a label further than this from its theme's dots gets a leader line
REACH_PX = 160.0  # a label looks this far from its theme's dots; in a dense map it covers some
STANDOFF_PX = 5.0  # a leader line stops this short of its dot's centre (the dot's radius)
_REFS = 24  # dots of a theme a label may sit beside (those nearest its centre)
# The plotly figure's plot area (width, height) in pixels: first the size placed for (a notebook
# cell ~900 px wide; 700 px high less title, margins and the legend's rows, measured in Chromium
# as 470-590 px for 10-16 themes at 700-1400 px), then sizes also checked.
FIGURE_SIZES = ((880.0, 530.0), (660.0, 480.0), (880.0, 500.0), (1060.0, 510.0), (1240.0, 570.0))


@dataclass(frozen=True)
class Box:
    """A label's box in pixels: left, top, width, height (y grows downwards)."""

    x: float
    y: float
    w: float
    h: float

    def moved(self, dx: float, dy: float) -> "Box":
        return Box(self.x + dx, self.y + dy, self.w, self.h)


@dataclass(frozen=True)
class Spot:
    """Where one label goes.

    Attributes:
        anchor: The point (data units) the label belongs to: a dot of its theme or its centre;
            with ``leader``, the dot the leader line points at.
        dx, dy: The label centre's offset from the anchor, in pixels (y grows downwards).
        centre: The label centre in data units, at the plot size it was placed for.
        box: The label's box in pixels at that size.
        leader: Whether a line joins the label to ``anchor`` (it was moved away from its dots).
    """

    anchor: tuple[float, float]
    dx: float
    dy: float
    centre: tuple[float, float]
    box: Box
    leader: bool


def overlaps(a: Box, b: Box, gap: float = 1.0) -> bool:
    return a.x < b.x + b.w + gap and b.x < a.x + a.w + gap and a.y < b.y + b.h + gap and b.y < a.y + a.h + gap


def label_script() -> str:
    """The browser's copy of these rules (``labels.js``), for the HTML page and the web app."""
    return (resources.files("paperlike.viz") / "labels.js").read_text(encoding="utf-8")


class _Frame:
    """Data units <-> pixels for a plot area of ``width`` x ``height`` showing the given ranges."""

    def __init__(self, width: float, height: float, x_range: tuple[float, float], y_range: tuple[float, float]):
        self.width, self.height, self.x0, self.y1 = float(width), float(height), x_range[0], y_range[1]
        self.sx = self.width / (x_range[1] - x_range[0])
        self.sy = self.height / (y_range[1] - y_range[0])

    def px(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - self.x0) * self.sx, (self.y1 - xy[:, 1]) * self.sy])

    def data(self, x: float, y: float) -> tuple[float, float]:
        return (self.x0 + x / self.sx, self.y1 - y / self.sy)


class _Dots:
    """How many dots a box covers, by a summed-area table of dot centres on a 1-px grid."""

    def __init__(self, px: np.ndarray, frame: _Frame):
        self.w, self.h = int(math.ceil(frame.width)) + 1, int(math.ceil(frame.height)) + 1
        px = px[np.isfinite(px).all(axis=1)]
        grid = np.zeros((self.h + 1, self.w + 1), dtype=np.int32)
        ix = np.clip(np.floor(px[:, 0]), 0, self.w - 1).astype(np.intp)
        iy = np.clip(np.floor(px[:, 1]), 0, self.h - 1).astype(np.intp)
        np.add.at(grid, (iy + 1, ix + 1), 1)
        self.table = grid.cumsum(axis=0).cumsum(axis=1)

    def covered(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
        """Dots whose disc touches each box (whole-pixel cells: a dot on the edge counts)."""
        a = np.clip(np.floor(x0 - DOT_PX), 0, self.w).astype(np.intp)
        b = np.clip(np.floor(x1 + DOT_PX) + 1, 0, self.w).astype(np.intp)
        c = np.clip(np.floor(y0 - DOT_PX), 0, self.h).astype(np.intp)
        d = np.clip(np.floor(y1 + DOT_PX) + 1, 0, self.h).astype(np.intp)
        b, d = np.maximum(a, b), np.maximum(c, d)
        t = self.table
        return t[d, b] - t[c, b] - t[d, a] + t[c, a]


def _candidates(refs: np.ndarray, w: float, h: float, frame: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """Candidate label centres (pixels) and the index in ``refs`` of the point each is beside."""
    ox, oy = DOT_PX + GAP_PX + w / 2, DOT_PX + GAP_PX + h / 2
    sides = np.array([(0, 0), (ox, 0), (-ox, 0), (0, -oy), (0, oy), (ox, -oy), (-ox, -oy), (ox, oy), (-ox, oy)])
    centre = refs[0]
    beside = (refs[:, None, :] + sides[None, :, :]).reshape(-1, 2)
    which = np.repeat(np.arange(len(refs)), len(sides))
    keep = np.ones(len(beside), dtype=bool)
    keep[len(sides) :: len(sides)] = False  # centred on a dot is never off it: only the centre tries that
    beside, which = beside[keep], which[keep]
    # The grid: steps of a line height down, of about a word across, over the whole plot.
    sx, sy = max(h, w / 6), h / 2
    nx, ny = int(frame.width // sx) + 1, int(frame.height // sy) + 1
    gx, gy = np.meshgrid(centre[0] + sx * np.arange(-nx, nx + 1), centre[1] + sy * np.arange(-ny, ny + 1))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    inside = (grid[:, 0] - w / 2 >= PAD_PX) & (grid[:, 0] + w / 2 <= frame.width - PAD_PX)
    inside &= (grid[:, 1] - h / 2 >= PAD_PX) & (grid[:, 1] + h / 2 <= frame.height - PAD_PX)
    grid = grid[inside]
    points = np.vstack([beside, grid])
    # Pulled inside the plot (a label wider than the plot starts at its left edge).
    points[:, 0] = np.maximum(np.minimum(points[:, 0], frame.width - PAD_PX - w / 2), PAD_PX + w / 2)
    points[:, 1] = np.maximum(np.minimum(points[:, 1], frame.height - PAD_PX - h / 2), PAD_PX + h / 2)
    return points, np.concatenate([which, np.zeros(len(grid), dtype=np.intp)])


def _hits(boxes: np.ndarray, placed: np.ndarray) -> np.ndarray:
    """Whether each box (left, top, right, bottom) overlaps any placed box, with a pixel of air."""
    hit = np.zeros(len(boxes), dtype=bool)
    for bx0, by0, bx1, by1 in placed:
        hit |= (boxes[:, 0] < bx1 + 1) & (bx0 < boxes[:, 2] + 1) & (boxes[:, 1] < by1 + 1) & (by0 < boxes[:, 3] + 1)
    return hit


def _box_distance(points: np.ndarray, w: float, h: float, refs: np.ndarray) -> np.ndarray:
    """Distance from each label box (centred at ``points``) to the nearest of ``refs``."""
    gx = np.maximum(np.abs(points[:, None, 0] - refs[None, :, 0]) - w / 2, 0)
    gy = np.maximum(np.abs(points[:, None, 1] - refs[None, :, 1]) - h / 2, 0)
    return np.sqrt(gx**2 + gy**2).min(axis=1)


def label_spots(
    members: Sequence[Sequence[tuple[float, float]]],
    texts: Sequence[str],
    sizes: Sequence[int],
    points: Sequence[tuple[float, float]] = (),
    size: tuple[float, float] = FIGURE_SIZES[0],
    x_range: tuple[float, float] = (-1.1, 1.1),
    y_range: tuple[float, float] = (-1.1, 1.1),
    also: Sequence[tuple[float, float]] = (),
) -> list[Spot]:
    """A :class:`Spot` for each theme's label, biggest theme first (see the module's rules).

    Args:
        members: Each theme's dots (x, y) in data units (at least one each).
        texts: The labels.
        sizes: Theme sizes (bigger themes choose their place first).
        points: Every dot on the map (data units): labels keep off them.
        size: Plot area (width, height) in pixels to place for.
        x_range, y_range: The axes' ranges.
        also: Other plot sizes at which a place that keeps off the dots and the other labels is
            preferred too (the label drawn at the same offset from its anchor).
    """
    frame = _Frame(size[0], size[1], x_range, y_range)
    dots_xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    # The size placed for first, then the others: each with its dots and the boxes placed there.
    frames = [frame, *(_Frame(w, h, x_range, y_range) for w, h in also)]
    dots = [_Dots(f.px(dots_xy), f) for f in frames]
    placed = [np.zeros((0, 4)) for _ in frames]
    spots: dict[int, Spot] = {}
    for i in sorted(range(len(texts)), key=lambda i: (-sizes[i], i)):
        mine = np.asarray(members[i], dtype=np.float64).reshape(-1, 2)
        mine = mine[np.isfinite(mine).all(axis=1)]
        if not len(mine):
            mine = np.zeros((1, 2))  # nothing to sit beside: the middle of the map
        centre = mine.mean(axis=0, keepdims=True)
        order = np.lexsort((np.arange(len(mine)), ((mine - centre) ** 2).sum(axis=1)))[:_REFS]
        refs_xy = np.vstack([centre, mine[order]])
        refs = frame.px(refs_xy)
        w, h = CHAR_PX * len(texts[i]) + 2 * PAD_PX, LINE_PX
        cand, which = _candidates(refs, w, h, frame)
        offset = cand - refs[which]
        # Per size: labels hit and dots covered, were the label drawn at that candidate's offset.
        costs = []
        for j, (f, f_dots, f_placed) in enumerate(zip(frames, dots, placed)):
            at = cand if j == 0 else f.px(refs_xy)[which] + offset
            boxes = np.column_stack([at[:, 0] - w / 2, at[:, 1] - h / 2, at[:, 0] + w / 2, at[:, 1] + h / 2])
            costs.append((_hits(boxes, f_placed), f_dots.covered(*boxes.T)))
        elsewhere = sum((hit.astype(np.int64) + covered for hit, covered in costs[1:]), np.zeros(len(cand), np.int64))
        near = np.round(_box_distance(cand, w, h, refs), 6)  # (so labels.js sees the same ties)
        # Out of reach of its theme only where every place within reach hits a label.
        far = (near > REACH_PX) & bool((~costs[0][0] & (near <= REACH_PX)).any())
        best = int(np.lexsort((np.arange(len(cand)), near, elsewhere, costs[0][1], costs[0][0], far))[0])
        k, leader = int(which[best]), bool(near[best] > LEADER_PX)
        if leader:  # the line goes to the nearest dot of the theme, not to an empty centre
            k = 1 + int(np.argmin(((refs[1:] - cand[best]) ** 2).sum(axis=1)))
        dx, dy = float(cand[best, 0] - refs[k, 0]), float(cand[best, 1] - refs[k, 1])
        for j, f in enumerate(frames):
            cx, cy = cand[best] if j == 0 else f.px(refs_xy[k : k + 1])[0] + (dx, dy)
            placed[j] = np.vstack([placed[j], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]])
        x0, y0 = float(placed[0][-1, 0]), float(placed[0][-1, 1])
        anchor = (float(refs_xy[k, 0]), float(refs_xy[k, 1]))
        spots[i] = Spot(anchor, dx, dy, frame.data(x0 + w / 2, y0 + h / 2), Box(x0, y0, w, h), leader)
    return [spots[i] for i in range(len(texts))]


def place_labels(
    centres: Sequence[tuple[float, float]],
    texts: Sequence[str],
    sizes: Sequence[int],
    width: float = 880.0,
    height: float = 620.0,
    x_range: tuple[float, float] = (-1.1, 1.1),
    y_range: tuple[float, float] = (-1.1, 1.1),
    points: Sequence[tuple[float, float]] = (),
) -> list[tuple[float, float]]:
    """Label centres (in data units) for theme centres ``centres`` (data units), biggest theme
    first, off each other and off ``points`` (see :func:`label_spots`, which also gives anchors,
    pixel offsets and leader lines).

    Args:
        centres: Each theme's centre (x, y) in data units.
        texts: The labels.
        sizes: Theme sizes (bigger themes choose their place first).
        width, height: Plot area in pixels.
        x_range, y_range: The axes' ranges.
        points: Dots the labels keep off (data units).
    """
    spots = label_spots([[c] for c in centres], texts, sizes, points, (width, height), x_range, y_range)
    return [s.centre for s in spots]


def leader_ends(spot: Spot) -> tuple[float, float, float, float]:
    """A leader line in pixels at the placed size: from the label box's edge to ``STANDOFF_PX``
    short of the anchor dot."""
    box = spot.box
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    vx, vy = -spot.dx, -spot.dy  # label centre -> anchor
    length = math.hypot(vx, vy) or 1.0
    # Where the ray leaves the box: the first of its two half-sizes it reaches.
    t = min(box.w / 2 / abs(vx) if vx else math.inf, box.h / 2 / abs(vy) if vy else math.inf, 1.0)
    ex, ey = cx + vx - vx / length * STANDOFF_PX, cy + vy - vy / length * STANDOFF_PX
    return cx + vx * t, cy + vy * t, ex, ey
