"""The ranking modes paperlike knows: one record each, registered in one place.

Dependency-free on purpose (no numpy): the CLI reads the names and help text from here without
importing the scorer. Every surface (``--mode`` choices and help, the web form, the API's
parameters and OpenAPI document, the ``score_scale`` of an answer, the errors) reads this
registry; the scorer (:mod:`paperlike.search.ranker`) reads what each mode needs from its
record. Adding a mode is one record registered here (and, for a new kind of score, one
function in the search package).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .registries import Registry

__all__ = [
    "RankingMode",
    "MODES",
    "DEFAULT_MODE",
    "register_mode",
    "find_mode",
    "modes_help",
    "SCORE_SCALES",
    "unregister_mode",
]


@dataclass(frozen=True)
class RankingMode:
    """One ranking mode.

    Attributes:
        name: What ``--mode`` and the API take.
        summary: One line for ``--help`` and the docs.
        score_scale: What a result's ``score`` means in this mode.
        scale_note: A short note printed under the CLI's header (None: nothing).
        dense: The query is embedded and every paper's cosine is scored.
        lexical: The lexical side: ``"tfidf"`` (the TF-IDF cosine, fused with the cosine when
            ``dense``), ``"bm25"`` (BM25 scores) or None.
        neighbours: Answers to a paper query are re-ranked by neighbour overlap
            (:mod:`paperlike.search.neighbours`).
        dense_weights: For a fused mode, the cosine's weight by query kind (``paper``,
            ``papers``, ``text``; the lexical side gets the rest); None: 0.8 for every kind.
    """

    name: str
    summary: str
    score_scale: str
    scale_note: str | None
    dense: bool
    lexical: str | None
    neighbours: bool = False
    dense_weights: Mapping[str, float] | None = None

    def dense_weight(self, kind: str) -> float:
        """The cosine's weight in the fusion for a query of this kind."""
        return 0.8 if self.dense_weights is None else self.dense_weights[kind]

    def __post_init__(self) -> None:
        if self.lexical not in (None, "tfidf", "bm25"):
            raise ValueError(f"mode {self.name!r}: lexical side is 'tfidf', 'bm25' or None, not {self.lexical!r}")
        if not self.dense and self.lexical is None:
            raise ValueError(f"mode {self.name!r} scores nothing: it needs the cosine, a lexical side or both")

    @property
    def fused(self) -> bool:
        """Cosine and lexical scores fused (z-scores; weights by query kind)."""
        return self.dense and self.lexical is not None


_MODES: Registry[RankingMode] = Registry("ranking mode")
_REGISTRY = _MODES.records
register_mode = _MODES.register
unregister_mode = _MODES.unregister
find_mode = _MODES.find
MODES: Sequence[str] = _MODES.names


def modes_help() -> str:
    """``--mode`` help: each mode and what its score means."""
    return "Ranking. " + " ".join(f"{m.name}: {m.summary}" for m in _REGISTRY.values())


# What a result's ``score`` means in each mode (the former records.results.SCORE_SCALES).
SCORE_SCALES: Mapping[str, str] = _MODES.view(lambda mode: mode.score_scale)

DEFAULT_MODE = "hybrid"

register_mode(
    RankingMode(
        "hybrid",
        "TF-IDF fused with the model's cosine (the default; best measured): score 0.7 z(cosine) + 0.3 z(TF-IDF "
        "cosine) for a paper, in standard deviations above the average paper.",
        "0.7 x z(cosine) + 0.3 x z(TF-IDF cosine) for a paper (0.3/0.7 for several papers, 0.5/0.5 for "
        "free text), z-scores over the papers ranked: how many standard deviations a paper stands above the "
        "average one (best match on the bundled papers: 1.3 to 4.1)",
        None,
        dense=True,
        lexical="tfidf",
        # Chosen on the dev half of each query kind of benchmarks/ranking.py (PwC-areas).
        dense_weights={"paper": 0.7, "papers": 0.3, "text": 0.5},
    )
)
register_mode(
    RankingMode(
        "dense",
        "the model alone: score the cosine (-1 to 1).",
        "cosine similarity of the vectors, -1 to 1 (best match on the bundled papers: 0.5 to 0.85)",
        "score = cosine",
        dense=True,
        lexical=None,
    )
)
register_mode(
    RankingMode(
        "lexical",
        "BM25 alone: score the BM25 score (0 and up).",
        "BM25 score, 0 and up, unbounded: grows with shared rare terms and with the query's length",
        "score = BM25",
        dense=False,
        lexical="bm25",
    )
)
register_mode(
    RankingMode(
        "topical",
        "hybrid with its own weights, then the best 200 answers to a paper re-ranked by how many of their own nearest papers "
        "are among the query's best: more papers on the same task, fewer that it cites (measured; from 800 "
        "papers up).",
        "hybrid's score plus a neighbour-overlap bonus for the best 200 answers to a paper query (free text: hybrid's score)",
        "hybrid + neighbour overlap",
        dense=True,
        lexical="tfidf",
        neighbours=True,
        # Chosen with the neighbour settings (search/neighbours.py) on the PwC dev halves.
        dense_weights={"paper": 0.6, "papers": 0.4, "text": 0.5},
    )
)

# How `paperlike rank` scores a new batch against the library (search/stream.py implements
# each); here so that its --method choices need no numpy.
STREAM_METHODS = ("hybrid", "dense", "lexical", "max", "centroid", "svm")
DEFAULT_STREAM_METHOD = "hybrid"
