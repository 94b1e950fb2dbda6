"""A read-only view of a registry's names, read at each use.

The registries (ranking modes, export formats) hand this out as their ``MODES`` /
``EXPORT_FORMATS``: a name registered after a module took the view (a plug-in, a test) is
listed and accepted there too, e.g. in a ``click.Choice`` made at import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["LiveNames"]


class LiveNames(Sequence[str]):
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
