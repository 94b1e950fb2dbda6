"""Result records: one recommended paper, a list of them, an answer, and why a result matched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import QueryError
from ..mode_registry import DEFAULT_MODE, MODES, SCORE_SCALES

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from .papers import Paper

__all__ = ["Why", "Result", "Results", "Answer", "DEFAULT_MODE", "MODES", "SCORE_SCALES", "paper_link"]

# The modes and their score scales live in the mode registry (dependency-free; see mode_registry.py).


def paper_link(paper: "Paper") -> str | None:
    """A link for a reader: the record's URL, else its DOI or arXiv page."""
    if paper.url:
        return paper.url
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    return None


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
        score: The ranking mode's relevance score, one scale per mode (see :data:`SCORE_SCALES`):
            hybrid, a weighted sum of z-scores; dense, the cosine; lexical, the BM25 score.
            Higher is more similar.
        cosine: Cosine similarity of the paper's vector to the query vector, in [-1, 1].
        why: Shared key terms and best-matching sentences, when asked for.
        year: Publication year, when the record has one.
        authors: Author names, in order.
        venue: Journal, proceedings or other venue, when the record has one.
        link: The record's URL, else a DOI or arXiv link.
        mmr: With ``diverse``: the maximal-marginal-relevance gain that chose this rank (it
            decreases with the rank; ``score`` need not, since diversity overrides relevance).
    """

    rank: int
    id: str
    title: str
    score: float
    cosine: float | None = None
    why: Why | None = None
    year: int | None = None
    authors: tuple[str, ...] = ()
    venue: str | None = None
    link: str | None = None
    mmr: float | None = None

    @classmethod
    def of_paper(
        cls,
        rank: int,
        paper: "Paper",
        score: float,
        cosine: float | None = None,
        why: Why | None = None,
        mmr: float | None = None,
    ) -> "Result":
        """A result for an indexed paper, with the fields a reader scans for."""
        venue = getattr(paper, "venue", None)  # a newer Paper carries it; older records do not
        return cls(
            rank,
            paper.id,
            paper.title,
            score,
            cosine,
            why,
            year=paper.year,
            authors=tuple(paper.authors),
            venue=venue if isinstance(venue, str) and venue else None,
            link=paper_link(paper),
            mmr=mmr,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 6),
            "cosine": None if self.cosine is None else round(self.cosine, 6),
            "why": self.why.to_dict() if self.why else None,
            "year": self.year,
            "authors": list(self.authors),
            "venue": self.venue,
            "link": self.link,
            "mmr": None if self.mmr is None else round(self.mmr, 6),
        }

    def byline(self) -> str:
        """First author(s), year and venue in one short line ("" when the record has none)."""
        if len(self.authors) > 2:
            who = f"{self.authors[0]} et al."
        else:
            who = " and ".join(self.authors)
        return " · ".join(str(part) for part in (who, self.year, self.venue) if part)


class Results(list):
    """A list of :class:`Result` that shows as a table in Jupyter and converts to a DataFrame."""

    def to_frame(self) -> "pandas.DataFrame":
        """One row per result: rank, id, title, score, cosine, why (shared terms), year, authors, venue,
        link, and url (the same link: the record's URL, else its doi.org or arXiv page; the name
        :meth:`BatchRanking.to_frame` uses too)."""
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
                    "year": r.year,
                    "authors": ", ".join(r.authors) or None,
                    "venue": r.venue,
                    "link": r.link,
                    "url": r.link,
                }
                for r in self
            ],
            columns=["rank", "id", "title", "score", "cosine", "why", "year", "authors", "venue", "link", "url"],
        )

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{r.rank}</td><td>{r.score:.3f}</td><td>{escape(r.id)}</td><td>{escape(r.title)}</td>"
            f"<td>{escape(r.byline())}</td><td>{escape(r.why.short(80)) if r.why else ''}</td></tr>"
            for r in self
        )
        head = "<tr><th>rank</th><th>score</th><th>id</th><th>title</th><th>by</th><th>why</th></tr>"
        return f"<table>{head}{rows}</table>"


# Answer.read_as: what each query_kind was of the paper.
_READINGS = {
    "id": "the id",
    "arxiv_id": "the arXiv id",
    "doi": "the DOI",
    "url": "the URL",
    "title": "the title",
    "title_prefix": "the start of the title",
    "near_match": "a close spelling of the title or id",
    "alias": "an alias (a merged record's name)",
}


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
        mode: The ranking mode (what ``score`` means: :data:`SCORE_SCALES`).
        papers: ``(id, title)`` of each query paper (``kind == "papers"``).
        unlike: ``(id, title)`` of each paper the results should not be like.
        diverse: Whether the results were re-ranked for diversity (MMR).
        query_kind: How the query was read: ``"text"`` (free text), ``"papers"`` (several), or
            which name of one paper it was: ``"id"``, ``"arxiv_id"``, ``"doi"``, ``"url"``,
            ``"title"``, ``"title_prefix"``, ``"near_match"`` (a close misspelling), ``"alias"``
            (a name of a record merged into the paper by ``dupes --merge``), ``"online"`` (an
            arXiv id or DOI not in the index, whose fetched title and abstract were searched as
            text: ``kind`` is ``"text"`` and ``paper_title`` the fetched title).
        alternatives: ``(id, title)`` of the papers whose titles a free-text query starts: the
            other reading, too short to be taken (see :mod:`paperlike.search.lookup`).
    """

    query: str
    kind: Literal["paper", "text", "papers"]
    results: list[Result]
    paper_id: str | None = None
    paper_title: str | None = None
    note: str | None = None
    mode: str = DEFAULT_MODE
    papers: tuple[tuple[str, str], ...] = ()
    unlike: tuple[tuple[str, str], ...] = ()
    diverse: bool = False
    query_kind: str | None = None
    alternatives: tuple[tuple[str, str], ...] = ()

    @property
    def read_as(self) -> str:
        """How the query was read, in words: ``free text``, ``the title of paper autodistil``..."""
        if self.kind == "text":
            return "free text"
        if self.kind == "papers":
            return "papers " + ", ".join(pid for pid, _ in self.papers)
        name = _READINGS.get(self.query_kind or "", "a name")
        return f"{name} of paper {self.paper_id}"

    def _repr_html_(self) -> str:
        return Results(self.results)._repr_html_()

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.kind,
            "query_kind": self.query_kind,
            "read_as": self.read_as,
            "alternatives": [{"id": i, "title": t} for i, t in self.alternatives],
            "paper_id": self.paper_id,
            "paper_title": self.paper_title,
            "mode": self.mode,
            "score_scale": SCORE_SCALES.get(self.mode),
            "diverse": self.diverse,
            "papers": [{"id": i, "title": t} for i, t in self.papers],
            "unlike": [{"id": i, "title": t} for i, t in self.unlike],
            "results": [r.to_dict() for r in self.results],
        }
