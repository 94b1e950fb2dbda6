"""Which theme set a command means, and the theme it names.

A theme is always named *within a theme set*, and the same options always mean the same set:

* no options: the **automatic themes** (``paperlike themes``: number chosen automatically, no
  seeds). Deterministic; never "whatever was computed last".
* ``-n N`` and/or ``--seed NAME[=WORDS]``: the themes of exactly those options.
* ``--theme-set NAME``: the options saved under that name by ``paperlike themes ... --save-as NAME``.

Sets are computed once per index generation and saved beside the index (see
:mod:`paperlike.storage.themes`); after the index changes, a set is recomputed with the same
options and keeps the ids of the themes it continues.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import QueryError
from ..records import Seed, Theme, ThemePaper, ThemeSet, parse_seeds
from ..records.themes import DEFAULT_MARGIN
from ..storage.themes import check_set_name, load_saved_themes, load_set_names, options_key, save_set_name, save_themes
from ..storage.writer import write_derived
from ..themes import compute_themes
from .open_index import OpenIndex

__all__ = [
    "ThemeSetChoice",
    "theme_set",
    "resolve_theme",
    "named_theme",
    "member_positions",
    "name_theme_set",
    "collection_theme",
    "COLLECTION_PREFIX",
]

# `--theme collection:PATH` names the papers of a (Zotero) collection instead of a computed theme.
COLLECTION_PREFIX = "collection:"

log = logging.getLogger("paperlike")


@dataclass(frozen=True)
class ThemeSetChoice:
    """Which theme set: options (``n``, ``seeds``, ``margin``) or a saved ``name``; the default
    is the automatic themes.

    Raises:
        QueryError: ``name`` together with ``n`` or seeds (a name already fixes the options).
    """

    n: int | None = None
    seeds: tuple[Seed, ...] = ()
    margin: float = DEFAULT_MARGIN
    name: str | None = None

    @classmethod
    def of(
        cls,
        n: int | None = None,
        seeds: str | Seed | Sequence[str | Seed] = (),
        name: str | None = None,
        margin: float = DEFAULT_MARGIN,
    ) -> "ThemeSetChoice":
        """Parse user input: seeds as strings (``NAME`` or ``NAME=words``) or :class:`Seed` objects."""
        parsed = tuple(parse_seeds(seeds)) if seeds else ()
        if name is not None and (n is not None or parsed):
            raise QueryError("--theme-set already fixes the theme options; give either --theme-set or -n/--seed, not both")
        if name is not None:
            check_set_name(name)
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin <= 2:
            raise QueryError(f"margin must be a number between 0 and 2, got {margin!r}")
        return cls(n, parsed, float(margin), name)


def _compute(opened: OpenIndex, n: int | None, seeds: Sequence[Seed], margin: float, save: bool) -> ThemeSet:
    key = options_key(n, seeds, margin)
    generation = opened.index.manifest["generation"]
    saved = load_saved_themes(opened.directory, key, opened.index.count)
    if saved is not None and saved.generation == generation:
        unknown = next((p.id for t in saved for p in t.papers if opened.index.position(p.id) is None), None)
        if unknown is None:
            return saved
        log.info("saved themes name paper '%s' that is not in the index; computing them again", unknown[:60])
        saved = None
    result = compute_themes(
        opened.index.all_vectors(),
        opened.index.ids,
        opened.index.titles,
        lambda positions: [p.text for p in opened.index.papers_at(positions)],
        n=n,
        seeds=seeds,
        embed=lambda texts: opened.checked_embedder().embed_batch(texts),
        lexical=lambda text: (opened.lexical().scores(text), opened.lexical().coverage(text)),
        words=lambda: opened.lexical().tfidf().matrix(),
        margin=margin,
        previous=saved,
        generation=generation,
    )
    if save:
        try:  # the storage layer's one lazy path for derived files (writer lock, live generation)
            write_derived(opened.directory, generation, lambda: save_themes(opened.directory, key, result))
        except OSError as exc:
            log.warning("themes not saved beside the index (%s); they will be computed again next time", exc)
    return result


def theme_set(opened: OpenIndex, choice: ThemeSetChoice | None = None, *, save: bool = True) -> ThemeSet:
    """The theme set a choice means (computed, or loaded when saved for this index generation).

    Raises:
        QueryError: Unknown set name, bad options, or fewer than 2 papers.
    """
    choice = choice or ThemeSetChoice()
    if choice.name is None:
        return _compute(opened, choice.n, choice.seeds, choice.margin, save)
    names = load_set_names(opened.directory)
    if choice.name not in names:
        known = ", ".join(sorted(names)) or "none yet"
        raise QueryError(
            f"no theme set named '{choice.name}' in this index (named sets: {known}); "
            f"name one with: paperlike themes --seed NAME ... --save-as {choice.name}"
        )
    opts = names[choice.name]
    seeds = [Seed(a, b) for a, b in opts["seeds"]]
    result = _compute(opened, opts["n"], seeds, opts["margin"], save)
    result.name = choice.name
    return result


def name_theme_set(opened: OpenIndex, result: ThemeSet, name: str) -> ThemeSet:
    """Save ``result``'s options under ``name`` (``paperlike themes ... --save-as NAME``)."""
    save_set_name(opened.directory, name, result.options)
    result.name = name
    return result


def resolve_theme(opened: OpenIndex, name: str, choice: ThemeSetChoice | None = None) -> tuple[Theme, ThemeSet]:
    """``(theme, its set)`` for a theme named by id, seed name or label phrase within a set.

    Raises:
        QueryError: No such theme in that set (the message names the set and lists its themes).
    """
    if not isinstance(name, str):
        raise TypeError(f"a theme name must be a string such as 't2' or 'distillation', not {type(name).__name__}")
    if name.startswith(COLLECTION_PREFIX):
        return collection_theme(opened, name[len(COLLECTION_PREFIX) :])
    found = theme_set(opened, choice)
    if not found.matching(name):
        raise found.missing(name, _saved_elsewhere(opened, name, found))
    return found.get(name), found


def named_theme(opened: OpenIndex, theme: str | Theme) -> Theme:
    """``theme`` itself, or the theme its id, seed name or label names in the automatic themes.

    Raises:
        QueryError: No such theme.
    """
    return theme if isinstance(theme, Theme) else resolve_theme(opened, theme)[0]


def member_positions(opened: OpenIndex, theme: Theme) -> frozenset[int]:
    """Index positions of a theme's papers (those no longer in the index left out)."""
    return frozenset(p for m in theme.papers if (p := opened.index.position(m.id)) is not None)


def _saved_elsewhere(opened: OpenIndex, name: str, searched: ThemeSet) -> str:
    """A hint naming the saved theme sets that have a theme ``name`` ('' when none has).

    Only the sets already saved beside the index are read (nothing is computed for a hint)."""
    searched_key = options_key(
        searched.options.get("n"),
        [Seed(a, b) for a, b in searched.options.get("seeds", [])],
        searched.options.get("margin", DEFAULT_MARGIN),
    )
    sets = []
    for set_name, opts in sorted(load_set_names(opened.directory).items()):
        key = options_key(opts["n"], [Seed(a, b) for a, b in opts["seeds"]], opts["margin"])
        saved = None if key == searched_key else load_saved_themes(opened.directory, key, opened.index.count)
        if saved is not None and saved.matching(name):
            sets.append(set_name)
    if not sets:
        return ""
    options = " or ".join(f"--theme-set {n}" for n in sets[:3])
    which = "theme set" if len(sets) == 1 else "theme sets"
    return f" (it is a theme of the saved {which} {', '.join(repr(n) for n in sets[:3])}: add {options})"


def collection_theme(opened: OpenIndex, path: str) -> tuple[Theme, ThemeSet]:
    """The papers of a (Zotero) collection and its sub-collections, as a theme: ``--theme
    collection:Reading/Distillation`` targets them in ``similar``, ``export`` and ``rank``.

    Members are scored by cosine to the collection's centroid, best first.

    Raises:
        QueryError: No paper of the index is in that collection.
    """
    path = "/".join(part.strip() for part in path.split("/") if part.strip())
    papers = [p for p in opened.index.papers() if any(c == path or c.startswith(path + "/") for c in p.collections)]
    if not path or not papers:
        raise QueryError(
            f"no paper of this index is in the collection '{path}'; collections come from a Zotero library "
            "(paperlike add zotero.sqlite), named by their path, e.g. --theme collection:Reading/Distillation"
        )
    positions = [opened.index.position(p.id) for p in papers]
    vectors = opened.index.vectors_at([pos for pos in positions if pos is not None])
    centroid = vectors.mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    centroid = centroid / norm if norm > 0 else centroid
    scores = vectors @ centroid
    members = sorted(
        (ThemePaper(p.id, p.title, round(float(s), 6), True) for p, s in zip(papers, scores)), key=lambda m: (-m.score, m.id)
    )
    theme = Theme(f"{COLLECTION_PREFIX}{path}", path, None, members, [], centroid.astype(np.float32))
    return theme, ThemeSet([theme], {"collection": path}, str(opened.index.manifest["generation"]))
