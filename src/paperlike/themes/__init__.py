"""Themes: clustering (:mod:`.cluster`), labels (:mod:`.labels`), stable ids (:mod:`.ids`)."""

from ..records import Seed, Theme, ThemePaper, ThemeSet, parse_seeds
from .cluster import auto_theme_range
from .compute import compute_themes

__all__ = ["Seed", "ThemePaper", "Theme", "ThemeSet", "parse_seeds", "auto_theme_range", "compute_themes"]
