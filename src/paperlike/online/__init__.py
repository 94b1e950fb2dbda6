"""Papers from identifiers, online: the arXiv API and Crossref, only when asked.

Nothing in paperlike touches the network unless a command is given ``--online`` (``rank
today_ids.txt --online``, ``similar 2401.12345 --online``), ``rank --arxiv CATEGORY`` (itself
a request for the network), or Python code uses this module. Then an arXiv id or DOI the
library does not have is fetched: arXiv ids from the arXiv API (many in one request), DOIs from
Crossref (one request each), and each answer is kept in the cache folder for a week (the latest
listing of a category for an hour), so the same command does not ask again.

Example::

    from paperlike.online import Online
    online = Online()                            # settings from the environment
    found = online.papers(["2401.12345", "10.1145/3292500.3330701", "A title"])
    found.papers                                 # {"2401.12345": Paper(...), ...}
    found.unknown                                # {"A title": "a title: only arXiv ids and DOIs are fetched"}
    corpus = online.arxiv_listing("cs.LG", 50)   # the latest 50 papers of cs.LG, a Corpus

Base URLs, the timeout and the contact address come from :class:`~paperlike.settings.Settings`
(``$PAPERLIKE_ARXIV_API``, ``$PAPERLIKE_CROSSREF_API``, ``$PAPERLIKE_HTTP_TIMEOUT``,
``$PAPERLIKE_MAILTO``); the cache folder is ``online/`` in the cache folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..records import Corpus, Paper
from ..search.identifiers import Identifier, parse_identifier
from ..settings import Settings
from ..storage.online_cache import ResponseCache
from ..text import clean_text
from .arxiv import arxiv_listing, fetch_arxiv
from .crossref import fetch_crossref
from .fetch import MAX_BODY_BYTES, Http

__all__ = ["Online", "Fetched", "as_online", "MAX_BODY_BYTES"]


@dataclass
class Fetched:
    """What :meth:`Online.papers` found.

    Attributes:
        papers: The record of each entry that was found, by the entry as given.
        unknown: Each entry that was not, with why (in words, for a message).
    """

    papers: dict[str, Paper] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)


class Online:
    """Fetches papers by arXiv id or DOI, and the latest papers of an arXiv category.

    Args:
        settings: Base URLs, timeout, cache folder (default: :meth:`Settings.from_env`).
        cache: As :class:`~paperlike.online.fetch.Http`: True for the settings' cache folder,
            None for no cache, or a :class:`~paperlike.storage.online_cache.ResponseCache`.
        sleep: How to wait between two requests to arXiv (3 s apart).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        cache: ResponseCache | bool | None = True,
        sleep: Callable[[float], None] | None = None,
    ):
        self.http = Http(settings, cache=cache, sleep=sleep or time.sleep)

    def papers(self, entries: Sequence[str]) -> Fetched:
        """The records of the entries that are arXiv ids, DOIs or arXiv / doi.org URLs.

        Raises:
            OnlineError: A service cannot be reached, is too slow, limits the rate, or answers
                something unusable (nothing is returned then).
        """
        out = Fetched()
        idents = {e: parse_identifier(clean_text(e)) for e in entries}
        arxiv = [i.value for i in idents.values() if i is not None and i.kind == "arxiv"]
        dois = [i.value for i in idents.values() if i is not None and i.kind == "doi"]
        by_arxiv = fetch_arxiv(self.http, arxiv) if arxiv else {}
        by_doi = fetch_crossref(self.http, dois) if dois else {}
        for entry, ident in idents.items():
            found = {"arxiv": by_arxiv, "doi": by_doi}.get(ident.kind if ident else "", {})
            paper = found.get(ident.value) if ident is not None else None
            if paper is not None:
                out.papers[entry] = paper
            else:
                out.unknown[entry] = _why_unknown(ident)
        return out

    def arxiv_listing(self, category: str, max_results: int = 100) -> Corpus:
        """The latest ``max_results`` papers submitted to an arXiv category (e.g. ``cs.LG``), newest first.

        Raises:
            QueryError: Not a category, ``max_results`` not from 1 to 1000, or an empty category.
            OnlineError: As :meth:`papers`.
        """
        return arxiv_listing(self.http, category, max_results)

    @property
    def sent(self) -> int:
        """Requests sent over the network so far."""
        return self.http.sent

    @property
    def from_cache(self) -> int:
        """Requests answered from the cache so far."""
        return self.http.from_cache


def _why_unknown(ident: Identifier | None) -> str:
    """Why an entry was not found online, in words."""
    if ident is None:
        return "a title: only arXiv ids and DOIs are fetched"
    if ident.kind == "url":
        return "a URL that names no arXiv id or DOI"
    return "arXiv has no paper with this id" if ident.kind == "arxiv" else "Crossref knows no such DOI"


def as_online(online: "bool | Online") -> Online | None:
    """The client an ``online`` argument asks for: None for False, a new one for True."""
    if isinstance(online, Online):
        return online
    if online is True:
        return Online()
    if online is False or online is None:
        return None
    raise TypeError(f"online is True, False or an Online client, not {type(online).__name__}")
