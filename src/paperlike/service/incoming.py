"""Which of today's papers should I read? Ranking a batch of *new* papers against a library.

A batch (a Daily Papers page, an arXiv listing, a colleague's .bib: any format
:func:`~paperlike.readers.read_corpus` reads) is embedded with the library's model and ranked by
how like the library (or one theme of it, or chosen library papers) each paper is. Nothing is
added to the library. Each ranked paper comes with its nearest library papers and why it matched
the nearest one (shared key terms and the best sentence pair).

Papers of the batch that are already in the library (same arXiv id, DOI or title: see
:mod:`paperlike.identity`) are not ranked by default; :attr:`BatchRanking.known` lists them.
How the score is computed is :mod:`paperlike.search.stream`'s default, measured best on ACM-CR
by ``benchmarks/rank_stream.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..embedding import embed_texts
from ..errors import IdListError, QueryError
from ..identity import find_same, identity_keys
from ..online import Online, as_online
from ..readers import read_corpus
from ..records import Corpus, Paper, Theme, Why, paper_text_hash
from ..records.incoming import BatchRanking, Neighbour, RankedPaper
from ..records.search_options import check_k
from ..search.explain import Explainer
from ..search.marks import steer
from ..search.stream import DEFAULT_STREAM_METHOD, STREAM_METHODS, nearest_targets, stream_scores, tfidf_topk_scores
from ..stopwords import is_stop_word
from ..storage.rank_cache import RankCache
from ..storage.triage import MAX_MARKS
from .idlists import id_list_corpus
from .open_index import OpenIndex
from .recommender import Recommender
from .themes import member_positions, named_theme
from .triage import MarkedSet, in_dates, marked_set, remember_shown, split_unseen

__all__ = ["Neighbour", "RankedPaper", "BatchRanking", "Target", "resolve_target", "rank_batch"]

# Batches at least this big show a progress bar while they are embedded (when progress is on).
PROGRESS_FROM = 64

# The lexical side compares each new paper with target papers' texts. Above this many targets
# only each new paper's dense-nearest targets take part, so a 96k-paper library does not need
# every abstract parsed and vectorised for a page of new papers.
LEXICAL_TARGETS_CAP = 5000
LEXICAL_CANDIDATES = 20


@dataclass(frozen=True)
class Target:
    """The library papers a batch is ranked against: their index positions (sorted) and a description."""

    positions: np.ndarray
    description: str


def _opened(library: Recommender | OpenIndex) -> OpenIndex:
    return library.opened if isinstance(library, Recommender) else library


def resolve_target(library: Recommender | OpenIndex, theme: str | Theme | None = None, like: Sequence[str] = ()) -> Target:
    """The papers to be like: the whole library, one theme of it, or chosen papers.

    A theme name is turned into papers as a ranking's ``--theme`` is
    (:func:`~paperlike.service.themes.named_theme`, :func:`~paperlike.service.themes.member_positions`).

    Raises:
        QueryError: Both a theme and papers given, or the target holds no paper.
        UnknownPaperError: A ``like`` paper is not in the library.
    """
    opened = _opened(library)
    count = opened.index.count
    if theme is not None and like:
        raise QueryError("give a theme or papers to be like, not both (--theme or --like)")
    if like:
        positions = sorted({opened.find(p) for p in like})
        names = ", ".join(opened.index.ids[p] for p in positions[:5]) + (" ..." if len(positions) > 5 else "")
        return Target(np.asarray(positions, dtype=np.int64), f"{len(positions)} chosen paper(s): {names}")
    if theme is not None:
        found = named_theme(opened, theme)
        positions = sorted(member_positions(opened, found))
        if not positions:
            raise QueryError(f"theme '{theme}' has no paper in this index; recompute themes with: paperlike themes")
        return Target(np.asarray(positions, dtype=np.int64), f"theme {found.id} '{found.label}' ({len(positions)} papers)")
    if count == 0:
        raise QueryError(f"the library in {opened.directory} holds no papers; add some with: paperlike add FILE")
    return Target(np.arange(count, dtype=np.int64), f"the library ({count} papers)")


def _as_papers(
    opened: OpenIndex, batch: Corpus | Sequence[Paper] | str | Path, fmt: str | None, online: Online | None = None
) -> tuple[list[Paper], str, frozenset[str]]:
    if isinstance(batch, (str, Path)):
        try:
            batch = read_corpus(batch, fmt)
        except IdListError as exc:  # papers by name: the library's, and (online) fetched ones
            batch = id_list_corpus(opened.index, exc, online)
    if isinstance(batch, Corpus):
        return list(batch.papers), batch.source, batch.explicit_ids
    papers = list(batch)
    if not all(isinstance(p, Paper) for p in papers):
        raise QueryError("a batch is a corpus file, a Corpus or a list of Paper records")
    return papers, "papers", frozenset(p.id for p in papers)


def _known(opened: OpenIndex, papers: list[Paper], explicit: frozenset[str]) -> list[str | None]:
    """For each batch paper, the id of the same library paper (arXiv id, DOI or title), or None."""
    library = opened.index.papers()
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


def _vectors(opened: OpenIndex, positions: np.ndarray) -> np.ndarray:
    if len(positions) == opened.index.count:  # the whole library: its (cached) matrix, in order
        return opened.index.all_vectors()
    return opened.index.vectors_at(positions.tolist())


def _text_positions(opened: OpenIndex) -> dict[str, int]:
    """Text hash -> the first library paper with that text (every record read once a ranking)."""
    in_index: dict[str, int] = {}
    for pos, paper in enumerate(opened.index.papers()):
        in_index.setdefault(paper_text_hash(paper), pos)
    return in_index


def _library_vectors(opened: OpenIndex, hashes: list[str], in_index: dict[str, int]) -> dict[str, np.ndarray]:
    """The index's vectors of the texts among ``hashes`` that a library paper has."""
    found = sorted({h for h in hashes if h in in_index})
    return dict(zip(found, opened.index.vectors_at([in_index[h] for h in found]))) if found else {}


def _source(digest: str, library: dict[str, np.ndarray], cached: dict[str, np.ndarray]) -> str:
    if digest in library:
        return "library"
    return "cache" if digest in cached else "embedded"


def _batch_vectors(
    opened: OpenIndex, papers: list[Paper], progress: bool, in_index: dict[str, int], marked: bool = False
) -> tuple[np.ndarray, list[str]]:
    """The papers' vectors, and where each came from: ``library`` (a library paper with the same
    text, found in ``in_index``: the index's vector), ``cache`` (ranked before: see
    :mod:`paperlike.storage.rank_cache`; ``marked``: the marked papers' own cache) or ``embedded``
    (new). Both sources are of the index's model only: the embedder is checked against it, and
    the cache is kept per model identity."""
    embedder = opened.checked_embedder()
    hashes = [paper_text_hash(p) for p in papers]
    library = _library_vectors(opened, hashes, in_index)
    cache = RankCache(opened.directory, embedder.identity(), embedder.dim, *((MAX_MARKS, "-marks") if marked else ()))
    cached = cache.load()
    sources = [_source(h, library, cached) for h in hashes]
    todo = sorted({h: i for i, h in reversed(list(enumerate(hashes))) if sources[i] == "embedded"}.values())
    fresh = embed_texts(
        [papers[i].text for i in todo], embedder, progress=progress and len(todo) >= PROGRESS_FROM, desc="Embedding the batch"
    )
    known = {**cached, **library, **dict(zip((hashes[i] for i in todo), fresh))}
    vectors = np.stack([known[h] for h in hashes]).astype(np.float32, copy=False)
    used = [h for h, s in zip(hashes, sources) if s == "cache"]
    if todo or used:
        cache.save(cached, used, dict(zip((hashes[i] for i in todo), fresh)))
    return vectors, sources


@dataclass
class _Run:
    """One ranking under way: the target, the papers being ranked and their vectors, and what is
    derived from them once (the target vectors and texts, word document frequencies)."""

    opened: OpenIndex
    target: Target
    papers: list[Paper]
    vectors: np.ndarray
    _targets: np.ndarray | None = None
    _target_texts: list[str] | None = None

    @property
    def targets(self) -> np.ndarray:
        if self._targets is None:
            self._targets = _vectors(self.opened, self.target.positions)
        return self._targets

    def target_texts(self) -> list[str]:
        """Texts of the target papers the lexical side compares with (see :data:`LEXICAL_TARGETS_CAP`)."""
        if self._target_texts is None:
            rows = np.arange(len(self.target.positions))
            if len(rows) > LEXICAL_TARGETS_CAP:
                near, _ = nearest_targets(self.vectors, self.targets, LEXICAL_CANDIDATES)
                rows = np.unique(near)
            positions = [int(p) for p in self.target.positions[rows]]
            self._target_texts = [p.text for p in self.opened.index.papers_at(positions)]
        return self._target_texts

    def lexical(self) -> np.ndarray:
        """The lexical side of the score (see :func:`~paperlike.search.stream.tfidf_topk_scores`)."""
        return tfidf_topk_scores(self.target_texts(), [p.text for p in self.papers])


def _whys(run: _Run, papers: list[Paper], nearest_pos: list[int]) -> list[Why]:
    """Why each paper is like its nearest target paper: the best sentence pair of
    :class:`~paperlike.search.explain.Explainer` (the library's BM25 index), and the shared terms
    by their part of the two texts' TF-IDF dot product, ``(1 + ln tf) (1 + ln tf') idf**2``
    (IDF over library + batch), words of no topic and bare numbers left out (:mod:`paperlike.stopwords`). The Explainer's
    own terms follow BM25 weights, which in a small library put words like "generally" first."""
    lex = run.opened.lexical()
    batch_terms = [Counter(int(t) for t in lex.term_ids(p.text)) for p in run.papers]
    df = np.diff(lex.indptr).astype(np.float64)
    for terms in batch_terms:
        df[list(terms)] += 1
    idf = np.log((lex.count + len(run.papers) + 1) / (df + 1)) + 1
    tf_of = dict(zip((id(p) for p in run.papers), batch_terms))
    unique = sorted(set(nearest_pos))
    texts = {p: paper.text for p, paper in zip(unique, run.opened.index.papers_at(unique))}
    out = []
    for paper, pos in zip(papers, nearest_pos):
        explainer = Explainer(lex, paper.text)
        found = explainer.why(pos, texts[pos])
        mine, theirs = tf_of[id(paper)], Counter(int(t) for t in lex.paper_terms(pos))
        weights = {
            t: (1 + np.log(mine[t])) * (1 + np.log(theirs[t])) * idf[t] ** 2
            for t in mine
            if t in theirs and (w := explainer.surface.get(t)) and not is_stop_word(w)
        }
        best = sorted(weights, key=lambda t: (-weights[t], explainer.surface[t]))[:5]
        out.append(Why(tuple(explainer.surface[t] for t in best), found.query_sentence, found.result_sentence))
    return out


def _check_options(k: int | None, method: str, nearest: int) -> None:
    if k is not None:
        check_k(k)
    if method not in STREAM_METHODS:
        raise QueryError(f"unknown rank method '{method}'; use one of: {', '.join(STREAM_METHODS)}")
    if isinstance(nearest, bool) or not isinstance(nearest, int) or nearest < 0:
        raise QueryError(f"nearest must be a whole number of at least 0 (got {nearest!r})")


def _scores(run: _Run, method: str) -> np.ndarray:
    opened, target = run.opened, run.target
    negatives = None
    if method == "svm" and len(target.positions) < opened.index.count:
        # Library papers outside the theme / chosen papers are known negatives for the classifier.
        negatives = _vectors(opened, np.setdiff1d(np.arange(opened.index.count), target.positions))
    return stream_scores(method, run.vectors, run.targets, lexical=run.lexical, negatives=negatives)


def _assemble(run: _Run, order: list[int], scores: np.ndarray, nearest: int, why: bool) -> list[RankedPaper]:
    """The papers at ``order`` (best first), with their nearest target papers and explanations."""
    opened = run.opened
    rows, cos = nearest_targets(run.vectors[order], run.targets, max(nearest, 1))
    near_pos = run.target.positions[rows]  # library positions, nearest first
    papers = [run.papers[i] for i in order]
    whys: list[Why | None] = [None] * len(papers)
    if why:
        whys = list(_whys(run, papers, [int(p) for p in near_pos[:, 0]]))
    out = []
    for rank, (i, paper) in enumerate(zip(order, papers), 1):
        near = tuple(
            Neighbour(opened.index.ids[p], opened.index.titles[p], float(c))
            for p, c in zip(near_pos[rank - 1, :nearest], cos[rank - 1, :nearest])
        )
        out.append(RankedPaper(rank, paper, float(scores[i]), float(cos[rank - 1, 0]), near, whys[rank - 1]))
    return out


def rank_batch(
    library: Recommender | OpenIndex,
    batch: Corpus | Sequence[Paper] | str | Path,
    *,
    theme: str | Theme | None = None,
    like: Sequence[str] = (),
    k: int | None = None,
    method: str = DEFAULT_STREAM_METHOD,
    nearest: int = 3,
    why: bool = True,
    include_known: bool = False,
    fmt: str | None = None,
    online: bool | Online = False,
    progress: bool = False,
    unseen: bool = False,
    since: str | None = None,
    until: str | None = None,
    use_marks: bool = True,
    remember: bool = False,
) -> BatchRanking:
    """Rank new papers by how like the library (or a theme of it, or chosen papers) they are.

    Args:
        library: The library (a :class:`Recommender`, or the :class:`OpenIndex` it wraps).
        batch: The new papers: a corpus file (any format; ``fmt`` to skip detection), a
            :class:`~paperlike.records.Corpus` or a list of :class:`~paperlike.records.Paper`.
        theme: Rank against this theme's papers (id, seed name or label phrase).
        like: Rank against these library papers (ids or titles).
        k: Keep the best ``k`` (default: all).
        method: One of :data:`~paperlike.search.stream.STREAM_METHODS`.
        nearest: Nearest target papers listed per ranked paper.
        why: Explain each paper against its nearest target paper.
        include_known: Also rank batch papers already in the library (marked ``in_library``).
        online: A batch file listing papers by name: fetch the arXiv ids and DOIs the library
            does not have (True, or a :class:`~paperlike.online.Online` client; see :mod:`.idlists`).
        progress: Progress bar on stderr while a big batch is embedded.
        unseen: Leave out papers an earlier ranking showed (recorded with ``remember``).
        since, until: Keep papers dated within these bounds (``YYYY[-MM[-DD]]``; undated papers
            are left out when a bound is given).
        use_marks: Let the index's marks (liked / not liked, see :mod:`.triage`) steer the
            scores (:mod:`paperlike.search.marks`); each ranked paper carries its own mark.
        remember: Record the ranked papers as shown, for a later ``unseen`` (best effort).

    Returns:
        The ranking; empty when the batch is (nothing to rank).

    Raises:
        CorpusError: The batch file cannot be read.
        IdListError: The batch file lists papers by name (one a line) and some are not in the
            library (nor, with ``online``, found online; see :mod:`.idlists`).
        OnlineError: With ``online``: a service cannot be reached, is too slow or limits the rate.
        QueryError: Bad ``k``/``method``/``nearest``, ``theme`` and ``like`` both given, unknown theme.
        UnknownPaperError: A ``like`` paper is not in the library.
        ModelMismatchError: The model in use is not the library's.
    """
    _check_options(k, method, nearest)
    opened = _opened(library)
    papers, source, explicit = _as_papers(opened, batch, fmt, as_online(online))
    target = resolve_target(opened, theme, like)
    in_library = _known(opened, papers, explicit) if papers else []
    known = [(p, lib) for p, lib in zip(papers, in_library) if lib is not None]
    chosen = [i for i, lib in enumerate(in_library) if include_known or lib is None]
    ranking = BatchRanking([], target.description, method, known, len(papers), source)
    chosen, ranking.outside_dates, ranking.hidden_seen = _filtered(opened, papers, chosen, since, until, unseen)
    if not chosen:
        return ranking
    todo = [papers[i] for i in chosen]
    in_index = _text_positions(opened)
    vectors, sources = _batch_vectors(opened, todo, progress, in_index)
    ranking.embedded = sources.count("embedded")
    ranking.reused = len(sources) - ranking.embedded
    run = _Run(opened, target, todo, vectors)
    scores = _scores(run, method)
    marked = marked_set(opened) if use_marks else MarkedSet({}, [], [])
    if len(marked):
        liked, disliked = marked.vectors(lambda ps: _batch_vectors(opened, ps, False, in_index, marked=True)[0])
        scores = steer(scores, vectors, liked, disliked)
        ranking.marks = (len(marked.liked), len(marked.disliked))
    order = sorted(range(len(todo)), key=lambda i: (-float(scores[i]), i))[:k]
    ranking.results = _assemble(run, order, scores, nearest, why)
    ranking.results = [
        replace(r, in_library=in_library[chosen[i]], vector_from=sources[i], mark=marked.mark_of(r.paper))
        for r, i in zip(ranking.results, order)
    ]
    if remember:
        ranking.remembered = remember_shown(opened, ranking.papers())
    return ranking


def _filtered(
    opened: OpenIndex, papers: list[Paper], chosen: list[int], since: str | None, until: str | None, unseen: bool
) -> tuple[list[int], int, int]:
    """``chosen`` less the papers outside the dates and (``unseen``) those shown before, with how many each left out."""
    dated = in_dates([papers[i] for i in chosen], since, until)
    kept = [i for i, ok in zip(chosen, dated) if ok]
    outside = len(chosen) - len(kept)
    if unseen and kept:
        fresh = {id(p) for p in split_unseen(opened, [papers[i] for i in kept])[0]}
        before = len(kept)
        kept = [i for i in kept if id(papers[i]) in fresh]
        return kept, outside, before - len(kept)
    return kept, outside, 0
