"""paperlike: find papers like a paper, and browse a pile of papers by theme.

Example::

    from paperlike import Recommender
    rec = Recommender.load()              # default index, built from the bundled papers on first use
    rec.similar("AutoDistil", k=5)        # -> [Result(rank=1, id=..., title=..., score=...), ...]
    rec.similar_to_text("few-shot continual learning", k=5)

Names are imported lazily, so ``import paperlike`` (and the CLI's ``--help``) stay fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

__all__ = [
    "__version__",
    "Settings",
    "Recommender",
    "SearchOptions",
    "Result",
    "Answer",
    "Results",
    "Why",
    "map_figure",
    "map_html",
    "Paper",
    "Corpus",
    "read_corpus",
    "bundled_corpus",
    "Embedder",
    "MiniLMEmbedder",
    "HashingEmbedder",
    "get_embedder",
    "PaperIndex",
    "build_index",
    "rank_batch",
    "load_index",
    "verify_index",
    "PaperlikeError",
    "CorpusError",
    "ModelError",
    "IndexMissingError",
    "IndexCorruptError",
    "ModelMismatchError",
    "QueryError",
    "UnknownPaperError",
    "AmbiguousQueryError",
    "OnlineError",
]

_HOME = {
    "Recommender": "service",
    "SearchOptions": "records.search_options",
    "Result": "records",
    "Answer": "records",
    "Results": "records",
    "Why": "records",
    "map_figure": "viz.map",
    "map_html": "viz.map",
    "Paper": "records",
    "Corpus": "records",
    "read_corpus": "readers",
    "bundled_corpus": "readers",
    "Embedder": "embedding",
    "MiniLMEmbedder": "embedding",
    "HashingEmbedder": "embedding",
    "get_embedder": "embedding",
    "PaperIndex": "storage",
    "build_index": "service",
    "rank_batch": "service.incoming",
    "load_index": "storage",
    "verify_index": "storage",
    "Settings": "settings",
}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    if name in __all__:
        return getattr(import_module(".errors", __name__), name)
    raise AttributeError(f"module 'paperlike' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .embedding import Embedder, HashingEmbedder, MiniLMEmbedder, get_embedder
    from .errors import (
        AmbiguousQueryError,
        CorpusError,
        IndexCorruptError,
        IndexMissingError,
        ModelError,
        ModelMismatchError,
        OnlineError,
        PaperlikeError,
        QueryError,
        UnknownPaperError,
    )
    from .readers import bundled_corpus, read_corpus
    from .records import Answer, Corpus, Paper, Result, Results, Why
    from .records.search_options import SearchOptions
    from .service import Recommender, build_index
    from .service.incoming import rank_batch
    from .settings import Settings
    from .storage import PaperIndex, load_index, verify_index
    from .viz.map import map_figure, map_html
