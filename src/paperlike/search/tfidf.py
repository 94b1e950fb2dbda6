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

    def text_scores(self, term_ids: np.ndarray) -> np.ndarray:
        """Cosine of every paper to a free text, given its BM25 term ids in text order."""
        t = np.asarray(term_ids, dtype=np.int64)
        papers, keys = _keys(t, np.array([0, len(t)]), self.columns, 0, 1)
        return self._scores(*self._features(papers, keys))


def build_tfidf(terms: np.ndarray, offsets: np.ndarray, columns: int, *, chunk: int = _CHUNK) -> TfidfIndex:
    """The TF-IDF index of papers given as BM25 term ids (``terms``, split by ``offsets``)."""
    count = len(offsets) - 1
    spans = [(lo, min(lo + chunk, count)) for lo in range(0, count, chunk)]
    parts = [_tf(*_keys(terms, offsets, columns, lo, hi)) for lo, hi in spans]
    all_keys = np.concatenate([k for _, k, _ in parts]) if parts else np.zeros(0, np.int64)
    keys, df = np.unique(all_keys, return_counts=True)
    # Every word is kept, however rare ("grokking" in one paper must find that paper from a text
    # query); word pairs only where two papers share them (a pair of one paper only lengthens it).
    kept_features = (keys < columns) | (df >= MIN_DF)
    keys, df = keys[kept_features], df[kept_features]
    idf = np.log((1 + count) / (1 + df)) + 1
    papers = np.concatenate([p for p, _, _ in parts]) if parts else np.zeros(0, np.int64)
    tfs = np.concatenate([c for _, _, c in parts]) if parts else np.zeros(0, np.int64)
    at = np.searchsorted(keys, all_keys)
    kept = (
        (at < len(keys)) & (keys[np.minimum(at, max(len(keys) - 1, 0))] == all_keys)
        if len(keys)
        else np.zeros(len(all_keys), bool)
    )
    papers, features, tfs = papers[kept], at[kept], tfs[kept]
    weights = (1 + np.log(tfs)) * idf[features]
    norms = np.sqrt(np.bincount(papers, weights=np.square(weights), minlength=count))
    weights = weights / np.where(norms[papers] > 0, norms[papers], 1.0)
    order = np.lexsort((papers, features))  # by feature, then paper
    indptr = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(np.bincount(features, minlength=len(keys)), out=indptr[1:])
    return TfidfIndex(
        weights[order].astype(np.float32),
        papers[order].astype(np.int32),
        indptr,
        keys,
        idf,
        columns,
        count,
    )
