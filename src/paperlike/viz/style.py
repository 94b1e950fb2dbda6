"""Colours and ranges shared by the interactive map and its static picture."""

from __future__ import annotations

__all__ = ["PALETTE", "colour", "AXIS_RANGE"]

PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
]

# Coordinates are scaled to [-1, 1]; the margin keeps edge dots and their labels inside the plot.
AXIS_RANGE = (-1.12, 1.12)


def colour(i: int) -> str:
    """The colour of the i-th theme (the palette repeats after 18 themes)."""
    return PALETTE[i % len(PALETTE)]
