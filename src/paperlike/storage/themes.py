"""Saved theme sets: ``themes/<options-key>.json`` beside the index (JSON only, validated on load)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..records import Seed, Theme, ThemePaper, ThemeSet
from . import files as store

__all__ = ["THEMES_FORMAT_VERSION", "options_key", "save_themes", "load_saved_themes"]

THEMES_FORMAT_VERSION = 1


def options_key(n: int | None, seeds: Sequence[Seed], margin: float) -> str:
    """File-name-safe key of a set of theme options."""
    payload = json.dumps({"n": n, "seeds": [[s.name, s.description] for s in seeds], "margin": margin}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _themes_dir(index_dir: Path) -> Path:
    return Path(index_dir) / "themes"


def save_themes(index_dir: Path, key: str, theme_set: ThemeSet) -> Path:
    """Write a theme set beside the index (JSON only, atomically); returns its path."""
    directory = _themes_dir(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "format": "paperlike-themes",
        "format_version": THEMES_FORMAT_VERSION,
        "generation": theme_set.generation,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": theme_set.options,
        "changes": theme_set.changes,
        "themes": [
            {
                "id": t.id,
                "label": t.label,
                "seed": t.seed,
                "status": t.status,
                "terms": t.terms,
                "centroid": [float(v) for v in t.centroid],
                "papers": [[p.id, p.title, p.score, p.primary] for p in t.papers],
            }
            for t in theme_set.themes
        ],
    }
    path = directory / f"{key}.json"
    store.atomic_write_json(path, data)
    return path


def _parse_saved(data: Any, path: Path) -> ThemeSet:
    try:
        if data.get("format") != "paperlike-themes" or data.get("format_version") != THEMES_FORMAT_VERSION:
            raise ValueError("not a themes file of a known version")
        options = data["options"]
        n = options["n"]
        seeds = options["seeds"]
        if not (n is None or (isinstance(n, int) and not isinstance(n, bool))) or not isinstance(options["margin"], (int, float)):
            raise ValueError("bad options")
        if not isinstance(seeds, list) or not all(
            isinstance(x, list) and len(x) == 2 and all(isinstance(v, str) for v in x) for x in seeds
        ):
            raise ValueError("bad seeds")
        themes = []
        for t in data["themes"]:
            papers = [ThemePaper(str(pid), str(title), float(score), bool(primary)) for pid, title, score, primary in t["papers"]]
            centroid = np.asarray(t["centroid"], dtype=np.float32)
            if centroid.ndim != 1 or (themes and centroid.shape != themes[0].centroid.shape):
                raise ValueError("bad centroid")
            if t["seed"] is not None and not isinstance(t["seed"], str):
                raise ValueError("bad seed")
            themes.append(
                Theme(str(t["id"]), str(t["label"]), t["seed"], papers, [str(x) for x in t["terms"]], centroid, t.get("status"))
            )
        return ThemeSet(themes, dict(options), str(data["generation"]), dict(data.get("changes") or {}))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise IndexCorruptError(
            f"saved themes {path} are damaged ({exc.__class__.__name__}); delete the file to recompute them"
        ) from None


def load_saved_themes(index_dir: Path, key: str | None = None) -> ThemeSet | None:
    """The saved theme set for ``key`` (or the most recently saved one), or None."""
    directory = _themes_dir(index_dir)
    if key is not None:
        path = directory / f"{key}.json"
        candidates = [path] if path.is_file() else []
    else:
        candidates = sorted(directory.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    for path in candidates[:1]:
        try:
            data = store.read_json(path)
        except (OSError, ValueError):
            raise IndexCorruptError(f"saved themes {path} are unreadable; delete the file to recompute them") from None
        return _parse_saved(data, path)
    return None
