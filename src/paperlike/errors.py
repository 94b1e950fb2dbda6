"""Exceptions raised by paperlike.

Every error a user can cause derives from :class:`PaperlikeError`; its message is one line that
names the problem and the fix. The CLI prints that line and exits with code 2.
"""

from __future__ import annotations

__all__ = [
    "PaperlikeError",
    "CorpusError",
    "IdListError",
    "ModelError",
    "IndexMissingError",
    "IndexCorruptError",
    "IndexBusyError",
    "NotAnIndexError",
    "ModelMismatchError",
    "QueryError",
    "UnknownPaperError",
    "AmbiguousQueryError",
    "EngineError",
    "PathError",
    "OnlineError",
]


class PaperlikeError(Exception):
    """Base class for every error caused by input, files on disk or the environment."""


class CorpusError(PaperlikeError):
    """A corpus file is missing, empty or cannot be parsed."""


class IdListError(CorpusError):
    """A file is a list of identifiers or titles (one per line), not papers with abstracts.

    Attributes:
        path: The file.
        entries: Its entries, in file order.
    """

    def __init__(self, message: str, path: str, entries: list[str]):
        super().__init__(message)
        self.path = path
        self.entries = entries


class ModelError(PaperlikeError):
    """The embedding model is unknown or cannot be loaded."""


class IndexMissingError(PaperlikeError):
    """There is no index where one was expected."""


class IndexCorruptError(PaperlikeError):
    """An index file is missing, truncated, altered or of an unknown format version."""


class IndexBusyError(PaperlikeError):
    """Another paperlike command held the index's writer lock for longer than the wait allowed."""


class NotAnIndexError(PaperlikeError):
    """A build was pointed at a folder that holds files of its own and no paperlike index."""


class EngineError(PaperlikeError):
    """The engine that spreads embedding (Ray) is not installed, not reachable or failed."""


class PathError(PaperlikeError):
    """A folder path from the environment or an option cannot be used: a symlink loop, an unknown ``~user``."""


class OnlineError(PaperlikeError):
    """An online service (``--online``: the arXiv API, Crossref) could not be reached, answered
    too slowly, limited the rate, or answered something that is not what it should be."""


class ModelMismatchError(PaperlikeError):
    """The index was built with a different embedding model than the one in use."""


class QueryError(PaperlikeError):
    """A query is empty or an option value is out of range."""


class UnknownPaperError(QueryError):
    """No indexed paper matches the given id or title.

    Attributes:
        query: The query as given.
        suggestions: Titles closest to the query, best first.
    """

    def __init__(self, message: str, query: str, suggestions: list[str]):
        super().__init__(message)
        self.query = query
        self.suggestions = suggestions


class AmbiguousQueryError(QueryError):
    """A title prefix or fuzzy title matches several papers.

    Attributes:
        query: The query as given.
        candidates: ``(id, title)`` pairs of the matching papers.
    """

    def __init__(self, message: str, query: str, candidates: list[tuple[str, str]]):
        super().__init__(message)
        self.query = query
        self.candidates = candidates
