"""The map: a deterministic 2-D layout, an interactive plotly figure and HTML page, a static SVG.

Names are imported on first use, so ``import paperlike.viz`` stays light (no plotly, no sklearn).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["map_figure", "map_html", "map_view", "map_svg", "MapView"]

_WHERE = {"map_figure": ".map", "map_html": ".map", "map_view": ".map", "MapView": ".map", "map_svg": ".static"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
