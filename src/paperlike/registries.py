"""One registry of plug-in records by name, as the ranking modes, export formats and corpus
formats each keep (see mode_registry.py, format_registry.py, readers/formats.py).

A registry hands out its names as a live, read-only view (:class:`LiveNames`): a name
registered after a module took the view (a plug-in, a test) is listed and accepted there too,
e.g. in a ``click.Choice`` made at import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["LiveNames", "Registry"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=_Named)


class LiveNames(Sequence[str]):
    """The names of a registry, in registration order, read at each use."""

    def __init__(self, registry: Mapping[str, Any]) -> None:
        self._registry = registry

    def __getitem__(self, index):
        return list(self._registry)[index]

    def __len__(self) -> int:
        return len(self._registry)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._registry))

    def __contains__(self, name: object) -> bool:
        return name in self._registry

    def __repr__(self) -> str:
        return repr(tuple(self._registry))


class Registry(Generic[R]):
    """Records by name (``what`` names the kind in errors: "ranking mode", "export format")."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.records: dict[str, R] = {}
        self.names: Sequence[str] = LiveNames(self.records)

    def register(self, record: R) -> R:
        """Add a record (a name already taken is an error: records are never silently replaced)."""
        if record.name in self.records:
            raise ValueError(f"{self.what} {record.name!r} is already registered")
        self.records[record.name] = record
        return record

    def unregister(self, name: str) -> None:
        """Remove a record (for tests that register one of their own)."""
        self.records.pop(name, None)

    def find(self, name: str) -> R:
        """The record called ``name``; a ValueError naming the known ones otherwise."""
        try:
            return self.records[name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown {self.what} '{name}'; known: {', '.join(self.records)}") from None
