"""Result records: one recommended paper, a list of them, an answer, and why a result matched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import QueryError

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["Why", "Result", "Results", "Answer", "DEFAULT_MODE", "MODES"]

MODES = ("hybrid", "dense", "lexical")
DEFAULT_MODE = "hybrid"


@dataclass(frozen=True)
class Why:
    """An explanation of one result.

    Attributes:
        terms: Key terms shared with the query, most telling first.
        query_sentence: The query's sentence that best matches the result ("" for a short query).
        result_sentence: The result's sentence that best matches it.
    """

    terms: tuple[str, ...]
    query_sentence: str
    result_sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {"terms": list(self.terms), "query_sentence": self.query_sentence, "result_sentence": self.result_sentence}

    def short(self, width: int = 60) -> str:
        """One line for a table: the shared terms."""
        line = ", ".join(self.terms) if self.terms else "(no shared terms: similar in meaning)"
        return line if len(line) <= width else line[: width - 1] + "…"


@dataclass(frozen=True)
class Result:
    """One recommended paper.

    Attributes:
        rank: 1 for the most similar.
        id: Paper id.
        title: Paper title.
        score: The ranking mode's score (hybrid: a weighted sum of z-scores, so about 0-10;
            dense: the cosine; lexical: the BM25 score). Higher is more similar.
        cosine: Cosine similarity of the paper's vector to the query vector, in [-1, 1].
        why: Shared key terms and best-matching sentences, when asked for.
    """

    rank: int
    id: str
    title: str
    score: float
    cosine: float | None = None
    why: Why | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 6),
            "cosine": None if self.cosine is None else round(self.cosine, 6),
            "why": self.why.to_dict() if self.why else None,
        }


class Results(list):
    """A list of :class:`Result` that shows as a table in Jupyter and converts to a DataFrame."""

    def to_frame(self) -> "pandas.DataFrame":
        """One row per result: rank, id, title, score, cosine, why (shared terms)."""
        try:
            import pandas as pd
        except ImportError:
            raise QueryError("pandas is not installed; run: pip install pandas") from None
        return pd.DataFrame(
            [
                {
                    "rank": r.rank,
                    "id": r.id,
                    "title": r.title,
                    "score": round(r.score, 4),
                    "cosine": None if r.cosine is None else round(r.cosine, 4),
                    "why": ", ".join(r.why.terms) if r.why else None,
                }
                for r in self
            ],
            columns=["rank", "id", "title", "score", "cosine", "why"],
        )

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{r.rank}</td><td>{r.score:.3f}</td><td>{escape(r.id)}</td><td>{escape(r.title)}</td>"
            f"<td>{escape(r.why.short(80)) if r.why else ''}</td></tr>"
            for r in self
        )
        return f"<table><tr><th>rank</th><th>score</th><th>id</th><th>title</th><th>why</th></tr>{rows}</table>"


@dataclass(frozen=True)
class Answer:
    """Results for a query, with what the query was taken to be.

    Attributes:
        query: The query as given.
        kind: ``"paper"`` when it named an indexed paper, ``"text"`` when embedded as free text,
            ``"papers"`` for several papers ("like these, not those").
        paper_id: The query paper's id (``kind == "paper"``).
        paper_title: The query paper's title (``kind == "paper"``).
        results: Ranked results; the query paper is never among them.
        note: Something the user should know about how the query was read.
    """

    query: str
    kind: Literal["paper", "text", "papers"]
    results: list[Result]
    paper_id: str | None = None
    paper_title: str | None = None
    note: str | None = None
    mode: str = DEFAULT_MODE

    def _repr_html_(self) -> str:
        return Results(self.results)._repr_html_()

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.kind,
            "paper_id": self.paper_id,
            "paper_title": self.paper_title,
            "mode": self.mode,
            "results": [r.to_dict() for r in self.results],
        }
