"""Records of a ranked batch of new papers (``paperlike rank``): each paper with its score,
nearest library papers and why, and the ranking as a whole (a table in Jupyter, a DataFrame)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import QueryError
from .papers import Paper
from .results import Why, paper_link

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Neighbour", "RankedPaper", "BatchRanking"]


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
        vector_from: Where its vector came from: ``embedded`` by this ranking, ``library`` (a
            library paper with the same text) or ``cache`` (ranked before with the same model).
        mark: The reader's mark of this paper: True (liked), False (not liked), None (none).
    """

    rank: int
    paper: Paper
    score: float
    cosine: float
    nearest: tuple[Neighbour, ...] = ()
    why: Why | None = None
    in_library: str | None = None
    vector_from: str | None = None
    mark: bool | None = None

    @property
    def id(self) -> str:
        return self.paper.id

    @property
    def title(self) -> str:
        return self.paper.title

    @property
    def link(self) -> str | None:
        """The record's URL, else its doi.org or arXiv page (see :func:`~paperlike.records.paper_link`)."""
        return paper_link(self.paper)

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
            "link": self.link,
            "arxiv_id": self.paper.arxiv_id,
            "doi": self.paper.doi,
            "vector_from": self.vector_from,
            "mark": None if self.mark is None else ("like" if self.mark else "dislike"),
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
        embedded: Papers ranked whose text was embedded by this ranking.
        reused: Papers ranked whose vector was reused (the index's, or the rank cache's).
        hidden_seen: Papers left out because an earlier ranking showed them (``unseen``).
        outside_dates: Papers left out by the date filter (``since``/``until``), undated ones included.
        marks: ``(liked, not liked)`` marks that steered the scores.
        remembered: Whether the papers shown were recorded (None: not asked to).
    """

    results: list[RankedPaper]
    target: str
    method: str
    known: list[tuple[Paper, str]] = field(default_factory=list)
    total: int = 0
    source: str = ""
    embedded: int = 0
    reused: int = 0
    hidden_seen: int = 0
    outside_dates: int = 0
    marks: tuple[int, int] = (0, 0)
    remembered: bool | None = None

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
        """One row per ranked paper: rank, id, title, score, cosine, nearest (ids), why (terms), in_library,
        url (the record's URL, else its doi.org or arXiv page)."""
        try:
            import pandas as pd
        except ImportError:
            raise QueryError("pandas is not installed; run: pip install pandas") from None
        columns = ["rank", "id", "title", "score", "cosine", "nearest", "why", "in_library", "url"]
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
                "url": r.link,
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
