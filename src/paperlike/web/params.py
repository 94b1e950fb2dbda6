"""Query-string parameters, checked the way the CLI checks its options.

A bad value is a :class:`~paperlike.errors.QueryError` with a one-line message that names the
parameter and a good value; an unknown parameter is an error too (a typo such as ``kk=5`` would
otherwise be silently ignored). The lists of choices (ranking modes, export formats) are the
library's own, so the API accepts exactly what ``paperlike similar`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast, overload

from paperlike.errors import QueryError
from paperlike.format_registry import EXPORT_FORMATS
from paperlike.records import DEFAULT_MODE, MODES
from paperlike.records.search_options import SearchOptions
from paperlike.service.themes import ThemeSetChoice

__all__ = [
    "MAX_K",
    "MAX_TEXT",
    "KINDS",
    "Kind",
    "Params",
    "RANK_PARAMS",
    "THEME_SET_PARAMS",
    "SearchOptions",
    "ThemeSetQuery",
]

MAX_K = 1000
MAX_TEXT = 20_000
# How a query is read, as ``paperlike similar`` reads it (--paper, --text, or either).
KINDS = ("auto", "paper", "text")
Kind = Literal["auto", "paper", "text"]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# The options that name a theme set, as -n, --seed and --theme-set do on the command line.
THEME_SET_PARAMS = ("n", "seed", "theme_set")
RANK_PARAMS = ("k", "mode", "theme", "diverse", "why", "format", *THEME_SET_PARAMS)


@dataclass(frozen=True)
class ThemeSetQuery:
    """Which theme set a request means: ``n``, ``seed`` (as typed) or a saved set's name; none of
    them, the automatic themes. The same options always mean the same set, as on the CLI.

    Attributes:
        choice: The library's reading of them (parsed seeds), also the key the set is kept under.
    """

    n: int | None = None
    seeds: tuple[str, ...] = ()
    name: str | None = None
    choice: ThemeSetChoice = ThemeSetChoice()

    @property
    def given(self) -> bool:
        return self.n is not None or bool(self.seeds) or self.name is not None

    def url_params(self) -> dict[str, Any]:
        """The query parameters that ask for this set again (for links between pages)."""
        return {"n": self.n, "seed": list(self.seeds), "theme_set": self.name}


class Params:
    """The query parameters of one request.

    Args:
        items: ``(name, value)`` pairs, repeats kept (``request.query_params.multi_items()``).
        known: The names this endpoint accepts.
    """

    def __init__(self, items: Iterable[tuple[str, str]], known: Iterable[str]):
        self.values: dict[str, list[str]] = {}
        for name, value in items:
            self.values.setdefault(name, []).append(value)
        allowed = set(known)
        unknown = sorted(set(self.values) - allowed)
        if unknown:
            takes = f"takes: {', '.join(sorted(allowed))}" if allowed else "takes no parameters"
            raise QueryError(f"unknown parameter '{unknown[0][:40]}'; this endpoint {takes}")

    def many(self, name: str, *, limit: int = 50) -> list[str]:
        """Every value of a repeatable parameter (blank ones dropped)."""
        values = [v for v in self.values.get(name, []) if v.strip()]
        if len(values) > limit:
            raise QueryError(f"at most {limit} values of '{name}' per request (got {len(values)})")
        for v in values:
            _check_length(name, v)
        return values

    def one(self, name: str) -> str | None:
        """The value of a parameter given at most once (None when absent)."""
        values = self.values.get(name, [])
        if len(values) > 1:
            raise QueryError(f"parameter '{name}' is given {len(values)} times; give it once")
        if not values:
            return None
        _check_length(name, values[0])
        return values[0]

    def required(self, name: str, example: str) -> str:
        value = self.one(name)
        if value is None or not value.strip():
            raise QueryError(f"missing parameter '{name}'; e.g. ?{name}={example}")
        return value

    @overload
    def integer(self, name: str, default: int, low: int, high: int) -> int: ...

    @overload
    def integer(self, name: str, default: None, low: int, high: int) -> int | None: ...

    def integer(self, name: str, default: int | None, low: int, high: int) -> int | None:
        raw = self.one(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise QueryError(
                f"{name} must be a whole number from {low} to {high} (got '{raw[:40]}'); e.g. {name}={min(max(10, low), high)}"
            )
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.one(name)
        if raw is None:
            return default
        key = raw.strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise QueryError(f"{name} must be true or false (got '{raw[:40]}'); e.g. {name}=true")

    @overload
    def choice(self, name: str, options: Iterable[str], default: str) -> str: ...

    @overload
    def choice(self, name: str, options: Iterable[str], default: None) -> str | None: ...

    def choice(self, name: str, options: Iterable[str], default: str | None) -> str | None:
        options = tuple(options)
        raw = self.one(name)
        if raw is None or raw == "":
            return default
        if raw not in options:
            raise QueryError(f"unknown {name} '{raw[:40]}'; use one of: {', '.join(options)}")
        return raw

    def kind(self) -> Kind:
        return cast(Kind, self.choice("kind", KINDS, "auto"))

    def rank_options(self, *, why_default: bool = True) -> SearchOptions:
        """k, mode, theme, diverse and why (the why is on by default: pages and API show it)."""
        theme = self.one("theme")
        return SearchOptions(
            k=self.integer("k", 10, 1, MAX_K),
            theme=theme if theme and theme.strip() else None,
            mode=self.choice("mode", MODES, DEFAULT_MODE),
            diverse=self.flag("diverse", False),
            why=self.flag("why", why_default),
        )

    def theme_set(self) -> ThemeSetQuery:
        """Which theme set, as ``paperlike themes -n N --seed S`` or ``--theme-set NAME`` (none: the automatic themes)."""
        n, seeds, name = self.integer("n", None, 1, 500), tuple(self.many("seed", limit=50)), self.one("theme_set") or None
        if name is not None and (n is not None or seeds):
            raise QueryError("theme_set already fixes the theme options; give either theme_set or n and seed, not both")
        return ThemeSetQuery(n, seeds, name, ThemeSetChoice.of(n, list(seeds), name))

    def search_options(self, *, why_default: bool = True) -> tuple[SearchOptions, ThemeSetQuery]:
        """:meth:`rank_options` and the set their ``theme`` is named in (set options need a theme)."""
        opts, sets = self.rank_options(why_default=why_default), self.theme_set()
        if opts.theme is None and sets.given:
            raise QueryError("n, seed and theme_set choose the theme set of 'theme'; give theme too, e.g. ?theme=t1&n=5")
        return opts, sets

    def export_format(self) -> str | None:
        return self.choice("format", EXPORT_FORMATS, None)


def _check_length(name: str, value: str) -> None:
    if len(value) > MAX_TEXT:
        raise QueryError(f"parameter '{name}' is {len(value)} characters long; give at most {MAX_TEXT}")
    if "\x00" in value:
        raise QueryError(f"parameter '{name}' contains a NUL character; remove it")
