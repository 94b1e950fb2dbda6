"""Where to write theme labels on the map so that no two overlap and none is cut at the edge.

Greedy, largest theme first: each label is tried at its theme's centre, then moved up and down
by whole label heights (and pulled inside the plot) until its box overlaps no label placed
before it. Boxes are estimated in pixels for a nominal plot size (text width ~0.6 em per
character); the map page does the same again in the browser with the measured boxes, for the
real window size (see :mod:`.map`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Box", "place_labels", "overlaps"]

CHAR_PX = 7.0  # average width of a character of the 12 px label font
LINE_PX = 18.0  # label height, padding included
PAD_PX = 4.0


@dataclass(frozen=True)
class Box:
    """A label's box in pixels: left, top, width, height (y grows downwards)."""

    x: float
    y: float
    w: float
    h: float

    def moved(self, dx: float, dy: float) -> "Box":
        return Box(self.x + dx, self.y + dy, self.w, self.h)


def overlaps(a: Box, b: Box, gap: float = 1.0) -> bool:
    return a.x < b.x + b.w + gap and b.x < a.x + a.w + gap and a.y < b.y + b.h + gap and b.y < a.y + a.h + gap


def _inside(box: Box, width: float, height: float) -> Box:
    x = min(max(box.x, PAD_PX), max(width - box.w - PAD_PX, PAD_PX))
    y = min(max(box.y, PAD_PX), max(height - box.h - PAD_PX, PAD_PX))
    return Box(x, y, box.w, box.h)


def _place_one(box: Box, placed: list[Box], width: float, height: float) -> Box:
    steps = int(height // box.h) + 1
    for step in range(steps * 2 + 1):
        # 0, +1, -1, +2, -2 ... label heights away from the centre
        dy = ((step + 1) // 2) * box.h * (1 if step % 2 else -1)
        candidate = _inside(box.moved(0, dy), width, height)
        if not any(overlaps(candidate, other) for other in placed):
            return candidate
    return _inside(box, width, height)  # no free row at all: keep it inside, at its centre


def place_labels(
    centres: Sequence[tuple[float, float]],
    texts: Sequence[str],
    sizes: Sequence[int],
    width: float = 880.0,
    height: float = 620.0,
    x_range: tuple[float, float] = (-1.1, 1.1),
    y_range: tuple[float, float] = (-1.1, 1.1),
) -> list[tuple[float, float]]:
    """Label centres (in data units) for theme centres ``centres`` (data units), biggest theme first.

    Args:
        centres: Each theme's centre (x, y) in data units.
        texts: The labels.
        sizes: Theme sizes (bigger themes choose their place first).
        width, height: Plot area in pixels.
        x_range, y_range: The axes' ranges.
    """
    sx = width / (x_range[1] - x_range[0])
    sy = height / (y_range[1] - y_range[0])
    boxes: dict[int, Box] = {}
    placed: list[Box] = []
    for i in sorted(range(len(texts)), key=lambda i: (-sizes[i], i)):
        w, h = CHAR_PX * len(texts[i]) + 2 * PAD_PX, LINE_PX
        px, py = (centres[i][0] - x_range[0]) * sx, (y_range[1] - centres[i][1]) * sy
        box = _place_one(Box(px - w / 2, py - h / 2, w, h), placed, width, height)
        placed.append(box)
        boxes[i] = box
    return [
        (x_range[0] + (boxes[i].x + boxes[i].w / 2) / sx, y_range[1] - (boxes[i].y + boxes[i].h / 2) / sy)
        for i in range(len(texts))
    ]
