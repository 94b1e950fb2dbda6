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
    "Recommender",
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
]

_HOME = {
    "Recommender": "recommend",
    "Result": "recommend",
    "Answer": "recommend",
    "Results": "recommend",
    "Why": "explain",
    "map_figure": "mapview",
    "map_html": "mapview",
    "Paper": "corpus",
    "Corpus": "corpus",
    "read_corpus": "corpus",
    "bundled_corpus": "corpus",
    "Embedder": "embed",
    "MiniLMEmbedder": "embed",
    "HashingEmbedder": "embed",
    "get_embedder": "embed",
    "PaperIndex": "index",
    "build_index": "index",
    "load_index": "index",
    "verify_index": "index",
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
    from .corpus import Corpus, Paper, bundled_corpus, read_corpus
    from .embed import Embedder, HashingEmbedder, MiniLMEmbedder, get_embedder
    from .errors import (
        AmbiguousQueryError,
        CorpusError,
        IndexCorruptError,
        IndexMissingError,
        ModelError,
        ModelMismatchError,
        PaperlikeError,
        QueryError,
        UnknownPaperError,
    )
    from .index import PaperIndex, build_index, load_index, verify_index
    from .explain import Why
    from .mapview import map_figure, map_html
    from .recommend import Answer, Recommender, Result, Results
