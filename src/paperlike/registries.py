"""One registry of plug-in records by name, as the ranking modes, export formats and corpus
formats each keep (see mode_registry.py, format_registry.py, readers/formats.py).

A registry hands out its names as a live, read-only view (:class:`LiveNames`): a name
registered after a module took the view (a plug-in, a test) is listed and accepted there too,
e.g. in a ``click.Choice`` made at import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["LiveNames", "LiveRecords", "Registry", "load_callable"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=_Named)
V = TypeVar("V")


def load_callable(path: str) -> Callable[..., Any]:
    """The function a record names as ``"module:function"``, imported on first use (so naming
    plug-ins costs no import)."""
    module, _, function = path.partition(":")
    return getattr(importlib.import_module(module), function)


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


class LiveRecords(Sequence[R]):
    """The records of a registry, in registration order, read at each use."""

    def __init__(self, registry: Mapping[str, R]) -> None:
        self._registry = registry

    def __getitem__(self, index):
        return list(self._registry.values())[index]

    def __len__(self) -> int:
        return len(self._registry)

    def __iter__(self) -> Iterator[R]:
        return iter(list(self._registry.values()))

    def __repr__(self) -> str:
        return repr(tuple(self._registry.values()))


class _RecordView(Mapping[str, V], Generic[R, V]):
    """``{name: value(record)}`` of a registry's records (those ``where`` keeps), read at each use."""

    def __init__(self, records: Mapping[str, R], value: Callable[[R], V], where: Callable[[R], bool]) -> None:
        self._records, self._value, self._where = records, value, where

    def __getitem__(self, name: str) -> V:
        record = self._records.get(name)
        if record is None or not self._where(record):
            raise KeyError(name)
        return self._value(record)

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, record in self._records.items() if self._where(record)])

    def __len__(self) -> int:
        return sum(1 for record in self._records.values() if self._where(record))


class Registry(Generic[R]):
    """Records by name (``what`` names the kind in errors: "ranking mode", "export format")."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.records: dict[str, R] = {}
        self.names: Sequence[str] = LiveNames(self.records)
        self.all: Sequence[R] = LiveRecords(self.records)

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

    def view(self, value: Callable[[R], V], where: Callable[[R], bool] = lambda record: True) -> Mapping[str, V]:
        """A live mapping of each name (of the records ``where`` keeps) to ``value(record)``."""
        return _RecordView(self.records, value, where)
