"""Query-string parameters, checked the way the CLI checks its options.

A bad value is a :class:`~paperlike.errors.QueryError` with a one-line message that names the
parameter and a good value; an unknown parameter is an error too (a typo such as ``kk=5`` would
otherwise be silently ignored).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from paperlike.errors import QueryError

from .backend import EXPORT_FORMATS, MODES

__all__ = ["MAX_K", "MAX_TEXT", "Params", "RankOptions"]

MAX_K = 1000
MAX_TEXT = 20_000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class RankOptions:
    """The options shared by similar, text and like (as in ``paperlike similar``)."""

    k: int = 10
    mode: str = "hybrid"
    theme: str | None = None
    diverse: bool = False
    why: bool = True

    def kwargs(self) -> dict[str, Any]:
        return {"theme": self.theme, "mode": self.mode, "diverse": self.diverse, "why": self.why}


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

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.values.get(name, [])
        if len(values) > 1:
            raise QueryError(f"parameter '{name}' is given {len(values)} times; give it once")
        if not values:
            return default
        _check_length(name, values[0])
        return values[0]

    def required(self, name: str, example: str) -> str:
        value = self.one(name)
        if value is None or not value.strip():
            raise QueryError(f"missing parameter '{name}'; e.g. ?{name}={example}")
        return value

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

    def choice(self, name: str, options: Iterable[str], default: str | None) -> str | None:
        options = tuple(options)
        raw = self.one(name)
        if raw is None or raw == "":
            return default
        if raw not in options:
            raise QueryError(f"unknown {name} '{raw[:40]}'; use one of: {', '.join(options)}")
        return raw

    def rank_options(self, *, why_default: bool = True) -> RankOptions:
        theme = self.one("theme")
        return RankOptions(
            k=self.integer("k", 10, 1, MAX_K),
            mode=self.choice("mode", MODES, "hybrid"),
            theme=theme if theme and theme.strip() else None,
            diverse=self.flag("diverse", False),
            why=self.flag("why", why_default),
        )

    def export_format(self) -> str | None:
        return self.choice("format", EXPORT_FORMATS, None)


RANK_PARAMS = ("k", "mode", "theme", "diverse", "why", "format")


def _check_length(name: str, value: str) -> None:
    if len(value) > MAX_TEXT:
        raise QueryError(f"parameter '{name}' is {len(value)} characters long; give at most {MAX_TEXT}")
    if "\x00" in value:
        raise QueryError(f"parameter '{name}' contains a NUL character; remove it")
