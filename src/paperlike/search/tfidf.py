"""TF-IDF cosine over the papers' BM25 tokens, unigrams and bigrams: the lexical side of hybrid
ranking.

BM25 was made for short queries; with a whole abstract as the query it sums the weights of every
word the abstract shares, so long papers that repeat common words rise. The cosine of TF-IDF
vectors compares whole texts, and word pairs ("image classification", "time series") carry much
of what a paper is about: on PwC-areas paper queries TF-IDF alone had task-P@10 0.352 against
BM25's 0.297, unigrams only 0.299 (dev half; ``benchmarks/ranking.py`` measures every variant).

The tokens are the BM25 index's own (bm25s: lower case, English stopwords removed, Snowball
stems), read from its stored arrays, so nothing is tokenised again and an id lookup needs
neither bm25s nor scipy. Features are the stems and the pairs of consecutive stems that occur in
at least ``MIN_DF`` papers (every single stem counts); weights are ``(1 + ln tf) * idf`` with scikit-learn's smooth idf
``ln((1 + n) / (1 + df)) + 1``, each paper's vector of unit length. The matrix is kept by
feature (CSC), so scoring a query adds the columns of its features, as BM25 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TfidfIndex", "build_tfidf", "MIN_DF"]

MIN_DF = 2  # papers a word pair must be in to be a feature (single words: any)
_CHUNK = 50_000  # papers counted at a time (bounds the memory of the pair counts)


def _keys(terms: np.ndarray, offsets: np.ndarray, columns: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """``(paper, feature key)`` of every unigram and bigram of papers ``lo..hi`` (repeats kept).
    A unigram's key is its term id; a bigram's is ``columns + first * columns + second``."""
    start, end = int(offsets[lo]), int(offsets[hi])
    t = terms[start:end].astype(np.int64)
    paper = np.repeat(np.arange(lo, hi), np.diff(offsets[lo : hi + 1]))
    follows = np.ones(len(t), dtype=bool)
    follows[0:1] = False
    heads = offsets[lo:hi] - start
    follows[heads[heads < len(t)]] = False  # a paper's first token follows nothing
    at = np.flatnonzero(follows)
    keys = np.concatenate([t, columns + t[at - 1] * columns + t[at]])
    return np.concatenate([paper, paper[at]]), keys


def _tf(papers: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(paper, key)`` pairs, sorted, with their counts."""
    order = np.lexsort((keys, papers))
    papers, keys = papers[order], keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = (papers[1:] != papers[:-1]) | (keys[1:] != keys[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(keys)])
    return papers[starts], keys[starts], counts


@dataclass
class TfidfIndex:
    """Unit-length TF-IDF vectors of ``count`` papers, by feature (CSC)."""

    data: np.ndarray  # float32 weights
    indices: np.ndarray  # int32 paper of each weight, ascending within a feature
    indptr: np.ndarray  # int64, one more than features
    keys: np.ndarray  # int64 feature keys, ascending (see _keys)
    idf: np.ndarray  # float64 idf of each feature
    columns: int  # the BM25 vocabulary size the keys are made with
    count: int

    def _features(self, papers: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(feature, weight)`` of a query's unit-length vector, from its (paper, key) pairs."""
        _, distinct, counts = _tf(np.zeros(len(keys), dtype=np.int64), keys)
        if not len(self.keys):  # no feature in two papers (one paper, or words shared by none)
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        at = np.searchsorted(self.keys, distinct)
        known = (at < len(self.keys)) & (self.keys[np.minimum(at, len(self.keys) - 1)] == distinct)
        features = at[known]
        weights = (1 + np.log(counts[known])) * self.idf[features]
        size = float(np.sqrt(np.square(weights).sum()))
        return features, (weights / size if size > 0 else weights)

    def _scores(self, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        scores = np.zeros(self.count, dtype=np.float64)
        for f, w in zip(features.tolist(), weights.tolist()):
            lo, hi = int(self.indptr[f]), int(self.indptr[f + 1])
            np.add.at(scores, self.indices[lo:hi], self.data[lo:hi] * w)
        return scores

    def paper_scores(self, terms: np.ndarray, offsets: np.ndarray, positions: Sequence[int]) -> np.ndarray:
        """Cosine of every paper to the query papers (their unit vectors summed, then made unit
        length again): "papers like these"."""
        total: dict[int, float] = {}
        for p in positions:
            papers, keys = _keys(terms, offsets, self.columns, int(p), int(p) + 1)
            for f, w in zip(*(a.tolist() for a in self._features(papers, keys))):
                total[f] = total.get(f, 0.0) + w
        features = np.array(sorted(total), dtype=np.int64)
        weights = np.array([total[f] for f in features.tolist()], dtype=np.float64)
        size = float(np.sqrt(np.square(weights).sum()))
        return self._scores(features, weights / size if size > 0 else weights)

    def matrix(self) -> Any:
        """The papers' unit TF-IDF vectors as a SciPy sparse matrix, one row a paper (for theme
        clustering; SciPy comes with scikit-learn)."""
        from scipy.sparse import csc_matrix

        return csc_matrix((self.data, self.indices, self.indptr), shape=(self.count, len(self.keys))).tocsr()

    def text_scores(self, term_ids: np.ndarray) -> np.ndarray:
        """Cosine of every paper to a free text, given its BM25 term ids in text order."""
        t = np.asarray(term_ids, dtype=np.int64)
        papers, keys = _keys(t, np.array([0, len(t)]), self.columns, 0, 1)
        return self._scores(*self._features(papers, keys))


def _merge_counts(
    keys: np.ndarray, counts: np.ndarray, more: np.ndarray, more_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted (key, count) lists as one, counts of equal keys added."""
    both = np.concatenate([keys, more])
    order = np.argsort(both, kind="stable")
    both, summed = both[order], np.concatenate([counts, more_counts])[order]
    first = np.ones(len(both), dtype=bool)
    first[1:] = both[1:] != both[:-1]
    starts = np.flatnonzero(first)
    return both[starts], np.add.reduceat(summed, starts) if len(starts) else summed[:0]


def build_tfidf(terms: np.ndarray, offsets: np.ndarray, columns: int, *, chunk: int = _CHUNK) -> TfidfIndex:
    """The TF-IDF index of papers given as BM25 term ids (``terms``, split by ``offsets``).

    Two passes over the papers, ``chunk`` at a time, so memory follows the index's size, not
    every (paper, word pair) at once: the first counts each feature's papers (its df), the
    second weighs each chunk's features, keeps them compact (int32 feature and paper, float32
    weight) and lays them out by feature. 300,000 papers peaked at 6 GB in one pass.
    """
    count = len(offsets) - 1
    spans = [(lo, min(lo + chunk, count)) for lo in range(0, count, chunk)]
    keys, df = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for lo, hi in spans:  # pass 1: document frequencies
        _, chunk_keys, _ = _tf(*_keys(terms, offsets, columns, lo, hi))
        distinct, papers_with = np.unique(chunk_keys, return_counts=True)
        keys, df = _merge_counts(keys, df, distinct, papers_with)
    # Every word is kept, however rare ("grokking" in one paper must find that paper from a text
    # query); word pairs only where two papers share them (a pair of one paper only lengthens it).
    kept_features = (keys < columns) | (df >= MIN_DF)
    keys, df = keys[kept_features], df[kept_features]
    idf = np.log((1 + count) / (1 + df)) + 1
    del kept_features, df
    per_feature = np.zeros(len(keys), dtype=np.int64)
    parts = []
    for lo, hi in spans:  # pass 2: unit-length weights, a chunk at a time
        papers, chunk_keys, tfs = _tf(*_keys(terms, offsets, columns, lo, hi))
        at = np.searchsorted(keys, chunk_keys)
        kept = (at < len(keys)) & (keys[np.minimum(at, max(len(keys) - 1, 0))] == chunk_keys) if len(keys) else at < 0
        papers, features, tfs = papers[kept], at[kept], tfs[kept]
        weights = (1 + np.log(tfs)) * idf[features]
        norms = np.sqrt(np.bincount(papers - lo, weights=np.square(weights), minlength=hi - lo))
        weights = weights / np.where(norms[papers - lo] > 0, norms[papers - lo], 1.0)
        order = np.lexsort((papers, features))  # by feature, then paper
        parts.append((features[order].astype(np.int32), papers[order].astype(np.int32), weights[order].astype(np.float32)))
        per_feature += np.bincount(features, minlength=len(keys))
    indptr = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(per_feature, out=indptr[1:])
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    filled = indptr[:-1].copy()  # the next free slot of each feature
    for i in range(len(parts)):  # chunks in paper order: papers stay ascending within a feature
        features, papers, weights = parts[i]
        parts[i] = None  # type: ignore[call-overload]  # freed as it is laid out
        first = np.ones(len(features), dtype=bool)
        first[1:] = features[1:] != features[:-1]
        starts = np.flatnonzero(first)
        runs = np.diff(np.r_[starts, len(features)])
        slot = np.repeat(filled[features[starts]] - starts, runs) + np.arange(len(features))
        data[slot], indices[slot] = weights, papers
        filled[features[starts]] += runs
    return TfidfIndex(data, indices, indptr, keys, idf, columns, count)
