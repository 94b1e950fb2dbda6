"""Theme records: seeds, theme members, themes and a theme set (no I/O here)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AmbiguousQueryError, QueryError
from ..text import clean_text, slugify

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np  # records hold arrays but never compute: the CLI imports them without numpy
    import pandas

__all__ = ["Seed", "ThemePaper", "Theme", "ThemeSet", "parse_seeds", "DEFAULT_MARGIN"]

# A theme as error messages list it: "t3 (speech · speaker · neural)".
_LISTED = re.compile(r"(\S+) \((.*)\)")


@dataclass(frozen=True)
class Seed:
    """A user's theme anchor: ``name`` and the text that is embedded for it."""

    name: str
    description: str = ""

    @property
    def text(self) -> str:
        return f"{self.name}: {self.description}" if self.description else self.name

    @property
    def theme_id(self) -> str:
        slug = slugify(self.name, max_words=8)
        if not slug or re.fullmatch(r"t\d+", slug):  # never the id of a discovered theme (t1, t2...)
            return "seed-" + (slug or hashlib.sha1(self.name.encode("utf-8", "replace")).hexdigest()[:6])
        return slug


def parse_seeds(values: str | Seed | Sequence[str | Seed]) -> list[Seed]:
    """Parse ``NAME`` or ``NAME=description`` seed options (or take :class:`Seed` objects as they are).

    A single string is one seed (``"distillation"``), never split into characters.

    Raises:
        TypeError: A seed that is neither a string nor a :class:`Seed`.
        QueryError: An empty seed name, or the same seed given twice.
    """
    if isinstance(values, (str, Seed)):
        values = [values]
    if not isinstance(values, Sequence):
        raise TypeError(f"seeds must be a string or a list of strings, not {type(values).__name__}")
    seeds: list[Seed] = []
    seen: dict[str, str] = {}
    for raw in values:
        if isinstance(raw, Seed):
            name, description = clean_text(raw.name), clean_text(raw.description)
        elif isinstance(raw, str):
            name, _, description = raw.partition("=")
            name, description = clean_text(name), clean_text(description)
        else:
            raise TypeError(f"a seed must be a string such as 'distillation', not {type(raw).__name__}")
        if not name:
            shown = raw if isinstance(raw, str) else f"{raw.name}={raw.description}"
            raise QueryError(f"empty seed name in --seed {shown!r}; give a name, e.g. --seed distillation")
        key = name.casefold()
        if key in seen:
            raise QueryError(f"seed '{name}' is given twice; give each --seed once")
        seen[key] = name
        seeds.append(Seed(name, description))
    ids = [s.theme_id for s in seeds]
    if len(set(ids)) != len(ids):
        raise QueryError(f"seeds {', '.join(s.name for s in seeds)} are too alike to tell apart; rename one")
    return seeds


@dataclass(frozen=True, slots=True)
class ThemePaper:
    """A paper's membership in a theme (slots: a theme set of 1M papers holds millions)."""

    id: str
    title: str
    score: float
    primary: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "score": round(self.score, 6)}


@dataclass
class Theme:
    """One theme.

    Attributes:
        id: Stable id: the seed's slug for seeded themes, ``t1``, ``t2``... for discovered ones.
        label: Up to 3 key phrases joined by `` · `` (the seed name, or "untitled", when the
            theme's text has no usable phrase).
        seed: The seed name, or None for a discovered theme.
        papers: Members, best first (a paper may be a member of several themes).
        terms: The key phrases, best first.
        centroid: Unit vector of the theme.
        status: Compared with the previous themes of this index: ``new``, ``grown``,
            ``shrunk`` or ``same`` (None when there were no previous themes).
    """

    id: str
    label: str
    seed: str | None
    papers: list[ThemePaper]
    terms: list[str]
    centroid: np.ndarray = field(repr=False)
    status: str | None = None

    @property
    def size(self) -> int:
        return len(self.papers)

    @property
    def representative(self) -> list[ThemePaper]:
        """The three papers closest to the theme's centre."""
        return self.papers[:3]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "size": self.size,
            "seed": self.seed,
            "kind": "seeded" if self.seed is not None else "discovered",
            "status": self.status,
            "papers": [p.to_dict() for p in self.papers],
        }


DEFAULT_MARGIN = 0.05


@dataclass
class ThemeSet:
    """The themes of an index for one set of options.

    Attributes:
        themes: Sorted by size (largest first), then id.
        options: ``{"n": ..., "seeds": [[name, description], ...], "margin": ...}`` as requested.
        generation: The index generation the themes were computed for.
        changes: Versus the previous themes of this index: ``new``, ``grown``, ``shrunk``,
            ``gone`` (lists of ids) and ``merged`` (``{old_id: new_id}``); empty on a first run.
        name: The name the set was saved under (``paperlike themes --save-as NAME``), if any.
    """

    themes: list[Theme]
    options: dict[str, Any]
    generation: str
    changes: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    def __iter__(self):
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def options_text(self) -> str:
        """The command-line options that make this set, e.g. ``-n 8 --seed distillation`` ('' for
        the automatic themes)."""
        import shlex

        n, margin = self.options.get("n"), self.options.get("margin", DEFAULT_MARGIN)
        parts = [f"-n {n}"] if n is not None else []
        parts += [f"--seed {shlex.quote(f'{a}={b}' if b else a)}" for a, b in self.options.get("seeds", [])]
        if margin != DEFAULT_MARGIN:
            parts.append(f"(margin {margin})")  # the Python API's margin= has no CLI option
        return " ".join(parts)

    def selector(self) -> str:
        """How a command names this set: ``--theme-set NAME`` for a saved name, else its options."""
        return f"--theme-set {self.name}" if self.name else self.options_text()

    def describe(self) -> str:
        """Which set this is, for notes: "the automatic themes", "the themes -n 8", "theme set 'mine' (...)"."""
        if "collection" in self.options:
            return f"the collection '{self.options['collection']}'"
        opts = self.options_text()
        base = f"the themes {opts}" if opts else "the automatic themes"
        return f"theme set '{self.name}' ({base[4:]})" if self.name else base

    def membership_counts(self) -> tuple[int, int, dict[int, int]]:
        """``(papers, memberships, {themes per paper: papers})``: memberships exceed papers when a
        paper belongs to several themes."""
        per_paper: dict[str, int] = {}
        for t in self.themes:
            for p in t.papers:
                per_paper[p.id] = per_paper.get(p.id, 0) + 1
        histogram: dict[int, int] = {}
        for count in per_paper.values():
            histogram[count] = histogram.get(count, 0) + 1
        return len(per_paper), sum(per_paper.values()), dict(sorted(histogram.items()))

    def overlap_note(self) -> str:
        """Empty when every paper is in one theme, else e.g. "sizes add up to 84: 9 papers are in 2 themes"."""
        papers, total, histogram = self.membership_counts()
        several = {k: v for k, v in histogram.items() if k > 1}
        if not several:
            return ""
        parts = [f"{v} {'paper is' if v == 1 else 'papers are'} in {k} themes" for k, v in several.items()]
        return f"sizes add up to {total}: " + ", ".join(parts)

    def matching(self, name: str) -> list[Theme]:
        """The themes a name could mean (any case and spacing), by the first rule any theme meets:
        its id; its seed name; its whole label as printed (``speech · speaker · neural``, or
        ``t3 (speech · speaker · neural)`` as error messages list it); one of its label phrases."""
        key = " ".join(str(name).split()).casefold()
        listed = _LISTED.fullmatch(key)  # "t3 (label)": how error messages list a theme
        if listed and any(t.id.casefold() == listed.group(1) for t in self.themes):
            key = listed.group(1)
        parts = [p.strip() for p in re.split(r"[·,]", key)]
        for match in (
            lambda t: t.id.casefold() == key,
            lambda t: t.seed is not None and t.seed.casefold() == key,
            lambda t: (
                " ".join(t.label.split()).casefold() == key or (len(parts) > 1 and parts == [w.casefold() for w in t.terms])
            ),
            lambda t: key in [term.casefold() for term in t.terms],
        ):
            found = [t for t in self.themes if match(t)]
            if found:
                return found
        return []

    def get(self, name: str) -> Theme:
        """A theme by id, seed name, whole label or label phrase (see :meth:`matching`).

        Raises:
            AmbiguousQueryError: Several themes have that label phrase (the message lists them).
            QueryError: No theme matches (the message lists the known ones and names this set).
        """
        found = self.matching(name)
        if len(found) == 1:
            return found[0]
        if found:
            listing = "; ".join(f"{t.id} ({t.label})" for t in found)
            raise AmbiguousQueryError(
                f"theme name '{name}' is ambiguous in {self.describe()}: {len(found)} themes have it in their label: "
                f"{listing}; name one by its id (e.g. {found[0].id}) or its whole label",
                str(name),
                [(t.id, t.label) for t in found],
            )
        raise self.missing(name)

    def missing(self, name: str, hint: str = "") -> QueryError:
        """The error for a name no theme of this set has, listing the known ones (and ``hint``)."""
        known = ", ".join(f"{t.id} ({t.seed or t.label})" for t in self.themes[:12])
        more = f" and {len(self.themes) - 12} more" if len(self.themes) > 12 else ""
        listing = " ".join(["paperlike themes", self.selector()]).strip()
        return QueryError(f"no theme '{name}' in {self.describe()}{hint}; known themes: {known}{more}; list them with: {listing}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``paperlike themes --json`` (``theme_set`` says which set this is)."""
        papers, total, _ = self.membership_counts()
        return {
            "themes": [t.to_dict() for t in self.themes],
            "options": self.options,
            "changes": self.changes,
            "theme_set": self.set_dict(),
            "papers": papers,
            "memberships": total,
        }

    def set_dict(self) -> dict[str, Any]:
        """``{"name", "options", "description"}``: which theme set an answer comes from."""
        return {"name": self.name, "options": self.selector(), "description": self.describe()}

    def to_frame(self) -> "pandas.DataFrame":
        """One row per paper-theme membership: theme_id, theme_label, seed, paper_id, title, score, primary."""
        try:
            import pandas as pd
        except ImportError:
            raise QueryError("pandas is not installed; run: pip install pandas") from None
        rows = [
            {
                "theme_id": t.id,
                "theme_label": t.label,
                "seed": t.seed,
                "paper_id": p.id,
                "title": p.title,
                "score": p.score,
                "primary": p.primary,
            }
            for t in self.themes
            for p in t.papers
        ]
        return pd.DataFrame(rows, columns=["theme_id", "theme_label", "seed", "paper_id", "title", "score", "primary"])

    def _repr_html_(self) -> str:
        """A table for Jupyter: id, label, size, representative papers (all text escaped)."""
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(t.id)}</td><td>{escape(t.label)}</td><td>{t.size}</td>"
            f"<td>{escape('; '.join(p.title for p in t.representative))}</td></tr>"
            for t in self.themes
        )
        return f"<table><tr><th>id</th><th>label</th><th>size</th><th>representative papers</th></tr>{rows}</table>"
