"""Choices read from a registry (ranking modes, export formats) at each use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["RegistryChoice"]


class RegistryChoice(click.Choice):
    """A choice of the names in a registry, read at each use: a name registered after the
    CLI was imported (a plug-in, a test) is accepted and listed like the built-in ones."""

    def __init__(self, names: Callable[[], Any]) -> None:
        self._names = names
        super().__init__(list(names()))

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, value: Any) -> None:  # click sets it once in __init__; the registry rules
        pass
