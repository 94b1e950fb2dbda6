"""Saved theme sets beside the index, JSON only, validated on load.

* ``themes/<options-key>.json``: one computed theme set. The file name is a hash of the options
  (:func:`options_key`), never a value read from a file.
* ``themes/names.json``: the names users gave theme sets (``paperlike themes ... --save-as
  NAME``) and the options each name stands for.

Everything read back is untrusted: a file with the right JSON syntax but the wrong shapes (a
hand edit, a truncated copy) is refused with an :class:`IndexCorruptError` that names the file
and the fix; nothing read from a file ever becomes part of a path.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError, PaperlikeError, QueryError
from ..records import Seed, Theme, ThemePaper, ThemeSet
from . import files as store
from .names import contained

__all__ = [
    "THEMES_FORMAT_VERSION",
    "options_key",
    "save_themes",
    "load_saved_themes",
    "check_set_name",
    "save_set_name",
    "load_set_names",
    "SET_NAME_PATTERN",
]

THEMES_FORMAT_VERSION = 1
# Part of every options key: when the way themes are computed changes, sets saved by an older
# paperlike are not served for the same options (2: seeded themes scored by the seed text;
# 3: a paper joins at most 2 discovered themes besides its best one; 4: seeds scored like short
# queries, hybrid and stemmed, with no members when nothing is about them; 5: a label phrase is
# used by 2+ members of its theme; 6: "effectiveness", "effectively", "efficiency",
# "efficiently" join "effective" and "efficient" as words of no topic, see paperlike.stopwords;
# 7: from 300 papers on, discovered themes are clustered by words and neighbours too, see
# paperlike.themes.space).
THEMES_ALGORITHM = 7
NAMES_FILE = "names.json"
SET_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MAX_FILE_BYTES = 256 * 1024 * 1024  # far above any real theme set (96k papers is ~10 MB)...
# ...plus this much per paper of the index: a paper is a member of at most 3 discovered themes
# and of its seeds', each a row of its id and title (1M papers: about 0.3 GB).
_BYTES_PER_PAPER = 4096


class _Bad(ValueError):
    """A value of the wrong shape; its message says which."""


def options_key(n: int | None, seeds: Sequence[Seed], margin: float) -> str:
    """File-name-safe key of a set of theme options."""
    payload = json.dumps(
        {"n": n, "seeds": [[s.name, s.description] for s in seeds], "margin": margin, "algorithm": THEMES_ALGORITHM},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _themes_dir(index_dir: Path) -> Path:
    # A themes folder that is a link would make paperlike write theme sets elsewhere.
    return contained(Path(index_dir), "themes")


def save_themes(index_dir: Path, key: str, theme_set: ThemeSet) -> Path:
    """Write a theme set beside the index (JSON only, atomically); returns its path."""
    if not re.fullmatch(r"[0-9a-f]{16}", key):
        raise ValueError(f"not an options key: {key!r}")
    directory = _themes_dir(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{key}.json"
    store.atomic_write_stream(path, lambda fh: fh.writelines(s.encode("utf-8") for s in _theme_set_json(theme_set)))
    return path


def _open_object(obj: dict[str, Any], last_key: str) -> str:
    """``obj`` as JSON, left open for ``"last_key": <value>}`` to follow."""
    return json.dumps(obj, ensure_ascii=False)[:-1] + f", {json.dumps(last_key)}: "


def _theme_set_json(theme_set: ThemeSet, rows_at_once: int = 10_000) -> Iterator[str]:
    """The saved file's JSON text in pieces: the members of a theme a few thousand at a time (one
    ``json.dumps`` of a set of 1M papers held several GB)."""
    head = {
        "format": "paperlike-themes",
        "format_version": THEMES_FORMAT_VERSION,
        "generation": theme_set.generation,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": theme_set.options,
        "changes": theme_set.changes,
    }
    yield _open_object(head, "themes") + "["
    for number, t in enumerate(theme_set.themes):
        theme = {
            "id": t.id,
            "label": t.label,
            "seed": t.seed,
            "status": t.status,
            "terms": t.terms,
            "centroid": [float(v) for v in t.centroid],
        }
        yield ("," if number else "") + "\n" + _open_object(theme, "papers") + "["
        for start in range(0, len(t.papers), rows_at_once):
            rows = [[p.id, p.title, p.score, p.primary] for p in t.papers[start : start + rows_at_once]]
            yield ("," if start else "") + "\n" + json.dumps(rows, ensure_ascii=False)[1:-1]
        yield "]}"
    yield "]}\n"


# -- validation of what was read back (every value is untrusted) ------------------------------


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise _Bad(what)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _options(raw: Any) -> dict[str, Any]:
    _need(isinstance(raw, dict), "'options' is not an object")
    n, seeds, margin = raw.get("n"), raw.get("seeds"), raw.get("margin")
    _need(n is None or (isinstance(n, int) and not isinstance(n, bool) and n >= 1), "'options.n' is not a whole number")
    _need(_is_number(margin), "'options.margin' is not a number")
    _need(
        isinstance(seeds, list) and all(isinstance(x, list) and len(x) == 2 and all(map(_is_str, x)) for x in seeds),
        "'options.seeds' is not a list of [name, description] pairs",
    )
    return {"n": n, "seeds": [list(x) for x in seeds], "margin": float(margin)}


def _paper(raw: Any) -> ThemePaper:
    _need(isinstance(raw, list) and len(raw) == 4, "a theme paper is not [id, title, score, primary]")
    pid, title, score, primary = raw
    _need(_is_str(pid) and _is_str(title) and _is_number(score) and isinstance(primary, bool), "a theme paper has wrong types")
    return ThemePaper(pid, title, float(score), primary)


def _theme(raw: Any, dim: int | None) -> Theme:
    _need(isinstance(raw, dict), "a theme is not an object")
    for key in ("id", "label"):
        _need(_is_str(raw.get(key)) and raw.get(key) != "", f"a theme's '{key}' is not a non-empty string")
    _need(raw.get("seed") is None or _is_str(raw.get("seed")), "a theme's 'seed' is not a string")
    _need(raw.get("status") in (None, "new", "grown", "shrunk", "same"), "a theme's 'status' is not a known status")
    terms, papers, centroid = raw.get("terms"), raw.get("papers"), raw.get("centroid")
    _need(isinstance(terms, list) and all(map(_is_str, terms)), "a theme's 'terms' is not a list of strings")
    # A seeded theme may be empty (a seed nothing in the index is about); a discovered one never is.
    _need(
        isinstance(papers, list) and (len(papers) > 0 or raw.get("seed") is not None),
        "a theme's 'papers' is not a non-empty list",
    )
    _need(
        isinstance(centroid, list) and len(centroid) > 0 and all(map(_is_number, centroid)), "a theme's 'centroid' is not numbers"
    )
    _need(dim is None or len(centroid) == dim, "the themes' centroids differ in length")
    vector = np.asarray(centroid, dtype=np.float32)
    _need(bool(np.isfinite(vector).all()), "a theme's 'centroid' is not finite")
    return Theme(raw["id"], raw["label"], raw.get("seed"), [_paper(p) for p in papers], list(terms), vector, raw.get("status"))


def _changes(raw: Any) -> dict[str, Any]:
    if raw in (None, {}):
        return {}
    _need(isinstance(raw, dict), "'changes' is not an object")
    out: dict[str, Any] = {}
    for key in ("new", "grown", "shrunk", "gone"):
        value = raw.get(key, [])
        _need(isinstance(value, list) and all(map(_is_str, value)), f"'changes.{key}' is not a list of ids")
        out[key] = list(value)
    merged = raw.get("merged", {})
    _need(isinstance(merged, dict) and all(map(_is_str, merged.values())), "'changes.merged' is not an object of ids")
    out["merged"] = dict(merged)
    return out


def _parse_saved(data: Any) -> ThemeSet:
    """A ThemeSet from a saved file's JSON, or :class:`_Bad` naming the first wrong shape."""
    _need(isinstance(data, dict), "not a JSON object")
    _need(data.get("format") == "paperlike-themes", "not a paperlike themes file")
    _need(data.get("format_version") == THEMES_FORMAT_VERSION, "an unknown format version")
    _need(_is_str(data.get("generation")), "'generation' is not a string")
    options = _options(data.get("options"))
    raw_themes = data.get("themes")
    _need(isinstance(raw_themes, list) and len(raw_themes) > 0, "'themes' is not a non-empty list")
    themes: list[Theme] = []
    for raw in raw_themes:
        themes.append(_theme(raw, len(themes[0].centroid) if themes else None))
    ids = [t.id for t in themes]
    _need(len(set(ids)) == len(ids), "two themes have the same id")
    return ThemeSet(themes, options, data["generation"], _changes(data.get("changes")))


def _read(path: Path, papers: int = 0) -> Any:
    """JSON of a regular file (a FIFO or a device would hang or never end: refused) of a size a
    theme set of ``papers`` papers can have."""
    if not path.is_file() or path.stat().st_size > _MAX_FILE_BYTES + max(0, papers) * _BYTES_PER_PAPER:
        raise _Bad("not a regular file of a sensible size")
    try:
        return store.read_json(path)
    except (OSError, ValueError, RecursionError) as exc:
        raise _Bad(f"unreadable ({exc.__class__.__name__})") from None


def _damaged(path: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(f"saved themes {path} are damaged ({why}); delete the file to recompute them")


def load_saved_themes(index_dir: Path, key: str | None = None, papers: int = 0) -> ThemeSet | None:
    """The saved theme set for ``key`` (or the most recently saved one), or None.

    ``papers`` (the index's number of papers) sets how big the file may be.

    Raises:
        IndexCorruptError: The file exists but is not a valid themes file.
    """
    directory = _themes_dir(index_dir)
    if key is not None:
        path = directory / f"{key}.json"
        candidates = [path] if path.exists() else []
    else:
        found = [p for p in directory.glob("*.json") if re.fullmatch(r"[0-9a-f]{16}\.json", p.name) and p.is_file()]
        candidates = sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    for path in candidates[:1]:
        try:
            return _parse_saved(_read(path, papers))
        except _Bad as exc:
            raise _damaged(path, str(exc)) from None
    return None


# -- names of theme sets -----------------------------------------------------------------------


def check_set_name(name: Any) -> str:
    """A valid theme-set name, or QueryError saying what a name may hold."""
    if not isinstance(name, str) or not SET_NAME_PATTERN.fullmatch(name):
        raise QueryError(
            f"theme set name {name!r} is not allowed; use letters, digits, '-', '_' or '.' (at most 64), e.g. --save-as mine"
        )
    return name


def load_set_names(index_dir: Path) -> dict[str, dict[str, Any]]:
    """``{name: options}`` of the named theme sets of an index (empty when none were named).

    Raises:
        IndexCorruptError: ``themes/names.json`` is not a valid names file.
    """
    path = _themes_dir(index_dir) / NAMES_FILE
    if not path.exists():
        return {}
    try:
        data = _read(path)
        _need(isinstance(data, dict) and data.get("format") == "paperlike-theme-names", "not a paperlike theme names file")
        _need(data.get("format_version") == THEMES_FORMAT_VERSION, "an unknown format version")
        sets = data.get("sets")
        _need(isinstance(sets, dict), "'sets' is not an object")
        for name in sets:
            _need(bool(SET_NAME_PATTERN.fullmatch(name)), f"set name {name[:40]!r} is not allowed")
        return {name: _options(options) for name, options in sets.items()}
    except _Bad as exc:
        raise IndexCorruptError(
            f"theme set names {path} are damaged ({exc}); delete the file and name the sets again with: paperlike themes ... --save-as NAME"
        ) from None


def save_set_name(index_dir: Path, name: str, options: dict[str, Any]) -> None:
    """Record that ``name`` stands for theme ``options`` (replacing an earlier set of that name).

    Holds a lock from the read to the write, so two names saved at once are both kept.
    """
    name = check_set_name(name)
    directory = _themes_dir(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock, Timeout

    lock = directory / ".names.lock"
    if lock.is_symlink():  # opening it would create or truncate the file it points to
        raise IndexCorruptError(f"{lock} is a link; remove it, then name the theme set again")
    try:
        with FileLock(str(lock), timeout=60):
            sets = load_set_names(index_dir)
            sets[name] = _options(options)
            data = {
                "format": "paperlike-theme-names",
                "format_version": THEMES_FORMAT_VERSION,
                "sets": dict(sorted(sets.items())),
            }
            store.atomic_write_json(directory / NAMES_FILE, data)
    except Timeout:
        raise PaperlikeError(f"another paperlike is naming a theme set in {directory} for over a minute; try again") from None
