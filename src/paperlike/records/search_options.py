"""The options every ranking call takes, as one record checked once: how many, within which
theme, which ranking mode, diverse or not, explained or not.

The record travels unchanged from the CLI and the web to the scorer
(:class:`~paperlike.search.ranker.Query` carries it): the service resolves the theme to the
index positions of its papers once (:meth:`SearchOptions.within_positions`), and nothing after
that unpacks the options into keywords or checks them again. ``Recommender.similar``,
``similar_to_text``, ``like``, ``recommend`` and ``ask`` keep their keyword arguments (scripts
call them by name); each builds one :class:`SearchOptions`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import QueryError
from ..mode_registry import DEFAULT_MODE, MODES
from .themes import Theme

__all__ = ["SearchOptions", "check_k", "paper_names"]


def check_k(k: Any) -> int:
    """``k`` as an int, or a :class:`QueryError` (bools and non-integers are refused)."""
    try:
        value = operator.index(k)
    except TypeError:
        value = 0
    if isinstance(k, bool) or value <= 0:
        raise QueryError(f"k must be a whole number of at least 1 (got {k!r}); e.g. -k 10")
    return value


@dataclass(frozen=True)
class SearchOptions:
    """How to rank, checked on creation.

    Attributes:
        k: Number of results (more than the index holds returns all other papers).
        theme: Only papers of this theme (id, seed name or label phrase, or a :class:`Theme`), or None.
        mode: A ranking mode's name (``hybrid``: TF-IDF fused with the model's cosine, ``dense``,
            ``lexical``...; see :mod:`paperlike.mode_registry`).
        diverse: Re-rank with maximal marginal relevance so the top is not one idea repeated.
        why: Attach an explanation (shared terms, best sentence pair) to each result.
        within: The theme resolved to the index positions of its papers (set by the service,
            :meth:`within_positions`); None: not resolved yet, or no theme (every paper).

    Raises:
        QueryError: ``k`` below 1 or not a whole number, or an unknown mode.
        TypeError: ``theme`` is not a string or a Theme, ``diverse`` / ``why`` not booleans, or
            ``within`` not a set of positions.
    """

    k: int = 10
    theme: str | Theme | None = None
    mode: str = DEFAULT_MODE
    diverse: bool = False
    why: bool = False
    within: frozenset[int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", check_k(self.k))
        if self.mode not in MODES:
            raise QueryError(f"unknown ranking mode '{self.mode}'; use one of: {', '.join(MODES)}")  # the registry's names
        if self.theme is not None and not isinstance(self.theme, (str, Theme)):
            raise TypeError(f"theme is a theme id, seed name or label (a string) or a Theme, not {type(self.theme).__name__}")
        for name in ("diverse", "why"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} is True or False, not {getattr(self, name)!r}")
        if self.within is not None and not (
            isinstance(self.within, frozenset) and all(isinstance(p, int) and not isinstance(p, bool) for p in self.within)
        ):
            raise TypeError("within is a frozenset of index positions (set by the service from the theme)")

    @property
    def resolved(self) -> bool:
        """Whether the theme (if any) has been turned into index positions."""
        return self.theme is None or self.within is not None

    def within_positions(self, positions: Iterable[int]) -> "SearchOptions":
        """These options with the theme resolved to the index positions of its papers."""
        return replace(self, within=frozenset(int(p) for p in positions))


def paper_names(papers: Sequence[str], what: str) -> list[str]:
    """``papers`` as a list of queries; a single string is refused, not split into characters.

    Raises:
        TypeError: ``papers`` is a string, or not a sequence of strings.
    """
    if isinstance(papers, (str, bytes)):
        raise TypeError(f"{what} is a list of paper ids or titles, not the string {papers!r}; write [{papers!r}]")
    try:
        names = list(papers)
    except TypeError:
        raise TypeError(f"{what} is a list of paper ids or titles, not {type(papers).__name__}") from None
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"{what} holds {type(bad[0]).__name__} {bad[0]!r}; give paper ids or titles as strings")
    return names
