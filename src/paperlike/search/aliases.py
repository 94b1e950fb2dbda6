"""The names of merged records as a lookup reads them: an old id, DOI, arXiv id, URL or whole
title leads to the paper the record was merged into (see :mod:`paperlike.storage.aliases`).

A paper of the index always comes first: these names are only read when no paper has the name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..storage.aliases import Alias
from .identifiers import paper_keys

__all__ = ["AliasNames"]


class AliasNames:
    """Old names -> the ids of the papers they lead to (indexes made on first use)."""

    def __init__(self, aliases: Sequence[Alias] = (), title_key: Callable[[str], str] = str.casefold):
        self.aliases = tuple(aliases)
        self.title_key = title_key  # how titles are compared (the lookup's own rule)
        self._by_id = {a.id: a.into for a in self.aliases}
        self._folded: dict[str, list[str]] | None = None
        self._keys: dict[str, list[str]] | None = None
        self._titles: dict[str, list[str]] | None = None

    def __bool__(self) -> bool:
        return bool(self.aliases)

    def exact_id(self, name: str) -> str | None:
        """The paper a merged record with exactly this id was merged into."""
        return self._by_id.get(name)

    def folded_id(self, name: str) -> list[str]:
        """The papers that merged records with this id, in any case, were merged into."""
        if self._folded is None:
            self._folded = _grouped((a.id.casefold(), a.into) for a in self.aliases)
        return self._folded.get(name.casefold(), [])

    def identifier(self, key: str) -> list[str]:
        """The papers that merged records with this identifier key (``doi:10.x/y``) went into."""
        if self._keys is None:
            self._keys = _grouped((key, a.into) for a in self.aliases for key in paper_keys(a.as_paper()))
        return self._keys.get(key, [])

    def title(self, loose_title: str) -> list[str]:
        """The papers that merged records with this whole title (compared by ``title_key``) went into."""
        if self._titles is None:
            self._titles = _grouped((self.title_key(a.title), a.into) for a in self.aliases if a.title)
        return self._titles.get(loose_title, [])


def _grouped(pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, into in pairs:
        if key and into not in out.setdefault(key, []):
            out[key].append(into)
    return out
