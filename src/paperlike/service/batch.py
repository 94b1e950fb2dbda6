"""Which of today's papers should I read? Ranking a batch of *new* papers against a library.

A batch (a Daily Papers page, an arXiv listing, a colleague's .bib: any format
:func:`~paperlike.readers.read_corpus` reads) is embedded with the library's model and ranked by
how like the library (or one theme of it, or chosen library papers) each paper is. Nothing is
added to the library. Each ranked paper comes with its nearest library papers and why it matched
the nearest one (shared key terms and the best sentence pair, from the library's BM25 index).

Papers of the batch that are already in the library (same arXiv id, DOI or title: see
:mod:`paperlike.identity`) are not ranked by default; :attr:`BatchRanking.known` lists them.
How the score is computed is :mod:`paperlike.search.stream`'s default, measured best on ACM-CR
by ``benchmarks/rank_stream.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..embedding import Embedder, check_model, embed_texts, get_embedder
from ..errors import QueryError
from ..identity import find_same, identity_keys
from ..readers import read_corpus
from ..records import Corpus, Paper, Why
from ..search.explain import Explainer
from ..search.stream import DEFAULT_STREAM_METHOD, STREAM_METHODS, nearest_targets, stream_scores, tfidf_topk_scores
from .recommender import Recommender

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Neighbour", "RankedPaper", "BatchRanking", "Target", "resolve_target", "rank_batch"]

# Batches at least this big show a progress bar while they are embedded (when progress is on).
PROGRESS_FROM = 64

# The lexical side compares each new paper with target papers' texts. Above this many targets
# only each new paper's dense-nearest targets take part, so a 96k-paper library does not need
# every abstract parsed and vectorised for a page of new papers.
LEXICAL_TARGETS_CAP = 5000
LEXICAL_CANDIDATES = 20


@dataclass(frozen=True)
class Neighbour:
    """A library paper near a new paper: its id, title and cosine similarity."""

    id: str
    title: str
    cosine: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "cosine": round(self.cosine, 6)}


@dataclass(frozen=True)
class RankedPaper:
    """One new paper of the batch, ranked.

    Attributes:
        rank: 1 for the paper most like the target.
        paper: The paper's record, as read from the batch (its id is the batch's, not the library's).
        score: The ranking score; comparable within one batch only (see :mod:`paperlike.search.stream`).
        cosine: Cosine similarity to the nearest target paper, in [-1, 1] (comparable across batches).
        nearest: The nearest target papers, best first.
        why: Why it is like its nearest target paper (shared terms, best sentence pair), when asked.
        in_library: The library id of the same paper, for a batch paper already in the library
            (only ranked with ``include_known``).
    """

    rank: int
    paper: Paper
    score: float
    cosine: float
    nearest: tuple[Neighbour, ...] = ()
    why: Why | None = None
    in_library: str | None = None

    @property
    def id(self) -> str:
        return self.paper.id

    @property
    def title(self) -> str:
        return self.paper.title

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``paperlike rank --json`` (one object per ranked paper)."""
        return {
            "rank": self.rank,
            "id": self.paper.id,
            "title": self.paper.title,
            "score": round(self.score, 6),
            "cosine": round(self.cosine, 6),
            "nearest": [n.to_dict() for n in self.nearest],
            "why": self.why.to_dict() if self.why else None,
            "in_library": self.in_library,
            "year": self.paper.year,
            "url": self.paper.url,
            "arxiv_id": self.paper.arxiv_id,
            "doi": self.paper.doi,
        }


@dataclass
class BatchRanking:
    """The ranked batch: a list of :class:`RankedPaper` (best first) and what it was ranked against.

    Attributes:
        results: The ranked papers, best first (the best ``k`` when ``k`` was given).
        target: What the batch was ranked against, in words (e.g. ``the library (75 papers)``).
        method: The scoring method (see :data:`~paperlike.search.stream.STREAM_METHODS`).
        known: ``(batch paper, library id)`` for each batch paper already in the library.
        total: Papers in the batch.
        source: Where the batch came from.
    """

    results: list[RankedPaper]
    target: str
    method: str
    known: list[tuple[Paper, str]] = field(default_factory=list)
    total: int = 0
    source: str = ""

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> RankedPaper:
        return self.results[i]

    def papers(self) -> list[Paper]:
        """The ranked papers' records, best first (e.g. for :func:`paperlike.export.export_papers`)."""
        return [r.paper for r in self.results]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.results]

    def to_frame(self) -> "pandas.DataFrame":
        """One row per ranked paper: rank, id, title, score, cosine, nearest (ids), why (terms), in_library."""
        try:
            import pandas as pd
        except ImportError:
            raise QueryError("pandas is not installed; run: pip install pandas") from None
        columns = ["rank", "id", "title", "score", "cosine", "nearest", "why", "in_library"]
        rows = [
            {
                "rank": r.rank,
                "id": r.id,
                "title": r.title,
                "score": round(r.score, 4),
                "cosine": round(r.cosine, 4),
                "nearest": ", ".join(n.id for n in r.nearest),
                "why": ", ".join(r.why.terms) if r.why else None,
                "in_library": r.in_library,
            }
            for r in self.results
        ]
        return pd.DataFrame(rows, columns=columns)

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{r.rank}</td><td>{r.score:.3f}</td><td>{escape(r.id)}</td><td>{escape(r.title)}</td>"
            f"<td>{escape(', '.join(n.id for n in r.nearest))}</td><td>{escape(r.why.short(80)) if r.why else ''}</td></tr>"
            for r in self.results
        )
        head = "<tr><th>rank</th><th>score</th><th>id</th><th>title</th><th>nearest</th><th>why</th></tr>"
        return f"<p>{escape(str(self.total))} papers against {escape(self.target)}</p><table>{head}{rows}</table>"


@dataclass(frozen=True)
class Target:
    """The library papers a batch is ranked against: their index positions (sorted) and a description."""

    positions: np.ndarray
    description: str


def resolve_target(rec: Recommender, theme: str | None = None, like: Sequence[str] = ()) -> Target:
    """The papers to be like: the whole library, one theme of it, or chosen papers.

    This is the one place a theme name is turned into papers, so a new way of naming theme sets
    changes only this function.

    Raises:
        QueryError: Both a theme and papers given, or the target holds no paper.
        UnknownPaperError: A ``like`` paper is not in the library.
    """
    count = rec.index.count
    if theme is not None and like:
        raise QueryError("give a theme or papers to be like, not both (--theme or --like)")
    if like:
        positions = sorted({rec.find(p) for p in like})
        names = ", ".join(rec.index.ids[p] for p in positions[:5]) + (" ..." if len(positions) > 5 else "")
        return Target(np.asarray(positions, dtype=np.int64), f"{len(positions)} chosen paper(s): {names}")
    if theme is not None:
        found = rec.theme(theme)
        positions = sorted({p for m in found.papers if (p := rec.index.position(m.id)) is not None})
        if not positions:
            raise QueryError(f"theme '{theme}' has no paper in this index; recompute themes with: paperlike themes")
        return Target(np.asarray(positions, dtype=np.int64), f"theme {found.id} '{found.label}' ({len(positions)} papers)")
    if count == 0:
        raise QueryError(f"the library in {rec.directory} holds no papers; add some with: paperlike add FILE")
    return Target(np.arange(count, dtype=np.int64), f"the library ({count} papers)")


def _as_papers(batch: Corpus | Sequence[Paper] | str | Path, fmt: str | None) -> tuple[list[Paper], str, frozenset[str]]:
    if isinstance(batch, (str, Path)):
        batch = read_corpus(batch, fmt)
    if isinstance(batch, Corpus):
        return list(batch.papers), batch.source, batch.explicit_ids
    papers = list(batch)
    if not all(isinstance(p, Paper) for p in papers):
        raise QueryError("a batch is a corpus file, a Corpus or a list of Paper records")
    return papers, "papers", frozenset(p.id for p in papers)


def _known(rec: Recommender, papers: list[Paper], explicit: frozenset[str]) -> list[str | None]:
    """For each batch paper, the id of the same library paper (arXiv id, DOI or title), or None."""
    library = rec.index.papers()
    owner: dict[str, int] = {}
    for i, p in enumerate(library):
        for key in identity_keys(p):
            owner.setdefault(key, i)
    out: list[str | None] = []
    for paper in papers:
        # An id the batch's reader made up (a title slug) says nothing about identity.
        probe = paper if paper.id in explicit else replace(paper, id="")
        hit = find_same(probe, owner, library)
        out.append(None if hit is None else library[hit].id)
    return out


def _embedder(rec: Recommender) -> Embedder:
    if rec.embedder is None:
        rec.embedder = get_embedder(rec.index.model.get("name"))
    check_model(rec.index.model, rec.embedder, rec.directory)
    return rec.embedder


def _vectors(rec: Recommender, positions: np.ndarray) -> np.ndarray:
    if len(positions) == rec.index.count:  # the whole library: its (cached) matrix, in order
        return rec.index.all_vectors()
    return rec.index.vectors_at(positions.tolist())


def _whys(rec: Recommender, papers: list[Paper], nearest_pos: list[int]) -> list[Why]:
    texts = {p: paper.text for p, paper in zip(sorted(set(nearest_pos)), rec.index.papers_at(sorted(set(nearest_pos))))}
    lex = rec.lexical()
    return [Explainer(lex, paper.text).why(pos, texts[pos]) for paper, pos in zip(papers, nearest_pos)]


def _lexical(rec: Recommender, target: Target, texts: list[str], vectors: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The lexical side of the hybrid score (see :func:`~paperlike.search.stream.tfidf_topk_scores`)."""
    rows = np.arange(len(target.positions))
    if len(rows) > LEXICAL_TARGETS_CAP:
        near, _ = nearest_targets(vectors, targets, LEXICAL_CANDIDATES)
        rows = np.unique(near)
    target_texts = [p.text for p in rec.index.papers_at([int(p) for p in target.positions[rows]])]
    return tfidf_topk_scores(target_texts, texts)


def _check_options(k: int | None, method: str, nearest: int) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise QueryError(f"k must be a whole number of at least 1 (got {k!r}); e.g. -k 10")
    if method not in STREAM_METHODS:
        raise QueryError(f"unknown rank method '{method}'; use one of: {', '.join(STREAM_METHODS)}")
    if isinstance(nearest, bool) or not isinstance(nearest, int) or nearest < 0:
        raise QueryError(f"nearest must be a whole number of at least 0 (got {nearest!r})")


def _scores(rec: Recommender, target: Target, method: str, papers: list[Paper], vectors: np.ndarray) -> np.ndarray:
    targets = _vectors(rec, target.positions)
    negatives = None
    if method == "svm" and len(target.positions) < rec.index.count:
        # Library papers outside the theme / chosen papers are known negatives for the classifier.
        negatives = _vectors(rec, np.setdiff1d(np.arange(rec.index.count), target.positions))
    texts = [p.text for p in papers]
    return stream_scores(
        method, vectors, targets, lexical=lambda: _lexical(rec, target, texts, vectors, targets), negatives=negatives
    )


def _assemble(
    rec: Recommender, target: Target, papers: list[Paper], vectors: np.ndarray, scores: np.ndarray, nearest: int, why: bool
) -> list[RankedPaper]:
    """Ranked papers (already in rank order) with their nearest target papers and explanations."""
    rows, cos = nearest_targets(vectors, _vectors(rec, target.positions), max(nearest, 1))
    near_pos = target.positions[rows]  # library positions, nearest first
    whys: list[Why | None] = [None] * len(papers)
    if why:
        whys = list(_whys(rec, papers, [int(p) for p in near_pos[:, 0]]))
    out = []
    for i, paper in enumerate(papers):
        near = tuple(
            Neighbour(rec.index.ids[p], rec.index.titles[p], float(c)) for p, c in zip(near_pos[i, :nearest], cos[i, :nearest])
        )
        out.append(RankedPaper(i + 1, paper, float(scores[i]), float(cos[i, 0]), near, whys[i]))
    return out


def rank_batch(
    rec: Recommender,
    batch: Corpus | Sequence[Paper] | str | Path,
    *,
    theme: str | None = None,
    like: Sequence[str] = (),
    k: int | None = None,
    method: str = DEFAULT_STREAM_METHOD,
    nearest: int = 3,
    why: bool = True,
    include_known: bool = False,
    fmt: str | None = None,
    progress: bool = False,
) -> BatchRanking:
    """Rank new papers by how like the library (or a theme of it, or chosen papers) they are.

    Args:
        rec: The library.
        batch: The new papers: a corpus file (any format; ``fmt`` to skip detection), a
            :class:`~paperlike.records.Corpus` or a list of :class:`~paperlike.records.Paper`.
        theme: Rank against this theme's papers (id, seed name or label phrase).
        like: Rank against these library papers (ids or titles).
        k: Keep the best ``k`` (default: all).
        method: One of :data:`~paperlike.search.stream.STREAM_METHODS`.
        nearest: Nearest target papers listed per ranked paper.
        why: Explain each paper against its nearest target paper.
        include_known: Also rank batch papers already in the library (marked ``in_library``).
        progress: Progress bar on stderr while a big batch is embedded.

    Returns:
        The ranking; empty when the batch is (nothing to rank).

    Raises:
        CorpusError: The batch file cannot be read.
        QueryError: Bad ``k``/``method``/``nearest``, ``theme`` and ``like`` both given, unknown theme.
        UnknownPaperError: A ``like`` paper is not in the library.
        ModelMismatchError: The model in use is not the library's.
    """
    _check_options(k, method, nearest)
    papers, source, explicit = _as_papers(batch, fmt)
    target = resolve_target(rec, theme, like)
    in_library = _known(rec, papers, explicit) if papers else []
    known = [(p, lib) for p, lib in zip(papers, in_library) if lib is not None]
    chosen = [i for i, lib in enumerate(in_library) if include_known or lib is None]
    ranking = BatchRanking([], target.description, method, known, len(papers), source)
    if not chosen:
        return ranking
    todo = [papers[i] for i in chosen]
    vectors = embed_texts(
        [p.text for p in todo], _embedder(rec), progress=progress and len(todo) >= PROGRESS_FROM, desc="Embedding the batch"
    )
    scores = _scores(rec, target, method, todo, vectors)
    order = sorted(range(len(todo)), key=lambda i: (-float(scores[i]), i))[:k]
    ranking.results = _assemble(rec, target, [todo[i] for i in order], vectors[order], scores[order], nearest, why)
    ranking.results = [replace(r, in_library=in_library[chosen[i]]) for r, i in zip(ranking.results, order)]
    return ranking
