"""Why a result matched: the key terms it shares with the query and the best sentence pair.

Uses the BM25 index only, so explaining needs no model. :func:`explain` explains all results
of a query at once: their words are looked up in one call (each word is tokenised once per
index, see :meth:`~paperlike.search.lexical.LexicalIndex.word_terms`) and the BM25 weights of
the terms they share with the query in one vectorised search.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from itertools import compress

import numpy as np

from ..records import Why
from ..stopwords import is_stop_word
from .lexical import WORD as _WORD
from .lexical import LexicalIndex

__all__ = ["split_sentences", "Explainer", "explain"]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a title + abstract (the title ends at its first '. ')."""
    return [s for s in map(str.strip, _SENTENCE_END.split(text)) if s]


class Explainer:
    """Explains results for one query text against one lexical index."""

    def __init__(self, lex: LexicalIndex, query_text: str, n_terms: int = 5):
        self.lex = lex
        self.n_terms = n_terms
        self.query_sentences = split_sentences(query_text) or [query_text]
        qterms, uses = _query_terms(_sentence_word_terms(lex, self.query_sentences))
        self.surface: dict[int, str] = {}
        for pairs in qterms:
            for term, word in pairs:
                self.surface.setdefault(term, word)
        # Per query sentence, its terms with their IDF, in word order (the order they are summed
        # in), and as a set, to skip the sentences a result sentence shares nothing with.
        idf = {t: self._idf(t) for t in self.surface}
        self._qidf = [([t for t, _ in pairs], [idf[t] for t, _ in pairs]) for pairs in qterms]
        self._qsets = [{t for t, _ in pairs} for pairs in qterms]
        self._qall = set(self.surface)
        # 1 + ln(times the query uses the term), for ordering the key terms (see _why).
        self._query_tf = {t: 1 + math.log(c) for t, c in uses.items()}

    def _idf(self, term: int) -> float:
        df = int(self.lex.indptr[term + 1] - self.lex.indptr[term])
        return math.log(1 + (self.lex.count - df + 0.5) / (df + 0.5))

    def _shared(self, position: int) -> list[int]:
        """The query's terms (in :attr:`surface` order) that the paper at ``position`` has."""
        doc_terms = set(self.lex.paper_terms(position).tolist())
        return [t for t in self.surface if t in doc_terms]

    def why(self, position: int, result_text: str) -> Why:
        """The explanation for the indexed paper at ``position`` whose text is ``result_text``."""
        return explain_with(self, [(position, result_text)])[0]

    def _why(
        self,
        shared: list[tuple[int, float]],
        sentences: list[str],
        sentence_terms: list[list[int | None]],
    ) -> Why:
        """The explanation of one result, from the query terms it has with their BM25 weight in
        it, its sentences and the term of each of their words. Key terms leave out words that
        name no topic (:mod:`paperlike.stopwords`) and are ordered by weight x (1 + ln tf in the
        query): the query's subject recurs in it, its asides do not (benchmarks/why_terms.py)."""
        ranked = sorted(
            ((weight * self._query_tf.get(t, 1.0), self.surface[t]) for t, weight in shared if not is_stop_word(self.surface[t])),
            key=lambda x: (-x[0], x[1]),
        )
        terms = tuple(w for _, w in ranked[: self.n_terms])
        best = (0.0, 0, 0)
        for j, words_terms in enumerate(sentence_terms):
            rterms = set(words_terms)
            if self._qall.isdisjoint(rterms):
                continue  # every pair scores 0, which never beats the best so far
            for i, (qset, (qterms, qidf)) in enumerate(zip(self._qsets, self._qidf)):
                if qset.isdisjoint(rterms):
                    continue
                score = sum(compress(qidf, map(rterms.__contains__, qterms)))  # in word order
                if score > best[0]:
                    best = (score, i, j)
        if best[0] == 0.0:
            return Why(terms, "", "")
        return Why(terms, self.query_sentences[best[1]], sentences[best[2]])


def _words(text: str) -> list[str]:
    """The words of a text as the lexical side splits them, each lowercased after splitting
    (lowercasing first is the same for ASCII text only: "İ" lowercases to two characters)."""
    if text.isascii():
        return _WORD.findall(text.lower())
    return [w.lower() for w in _WORD.findall(text)]


def _sentence_word_terms(lex: LexicalIndex, sentences: list[str]) -> list[list[tuple[str, int | None]]]:
    """Per sentence, each of its words (repeats kept) with its term (None: no term), all looked up at once."""
    words = [_words(s) for s in sentences]
    terms = _chunks(lex.word_terms([w for ws in words for w in ws]), map(len, words))
    return [list(zip(ws, ts)) for ws, ts in zip(words, terms)]


def _query_terms(words_terms: list[list[tuple[str, int | None]]]) -> tuple[list[list[tuple[int, str]]], Counter[int]]:
    """Per query sentence, its distinct words (first occurrence first) that have a term, with
    it; and how many times the query uses each term."""
    pairs = [[(t, w) for w, t in dict(sentence).items() if t is not None] for sentence in words_terms]
    return pairs, Counter(t for sentence in words_terms for _, t in sentence if t is not None)


def _chunks(flat: list, sizes: Iterable[int]) -> list[list]:
    """``flat`` cut into consecutive pieces of the given sizes."""
    out, end = [], 0
    for size in sizes:
        out.append(flat[end : end + size])
        end += size
    return out


def _weights(lex: LexicalIndex, terms: list[int], positions: list[int]) -> list[float]:
    """BM25 weight of each term in the paper at the same place of ``positions`` (0 if it lacks
    it): one binary search per pair, all pairs at once, in each term's column of paper rows."""
    if not terms:
        return []
    t = np.asarray(terms, dtype=np.int64)
    want = np.asarray(positions, dtype=np.int64)
    lo, end = lex.indptr[t].astype(np.int64), lex.indptr[t + 1].astype(np.int64)
    hi = end.copy()
    last = len(lex.indices) - 1
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) // 2
        right = open_ & (lex.indices[np.minimum(mid, last)] < want)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(open_ & ~right, mid, hi)
    at = np.minimum(lo, last)
    hit = (lo < end) & (lex.indices[at] == want)
    return [float(w) for w in np.where(hit, lex.data[at], 0)]


def _sentence_terms(lex: LexicalIndex, texts: list[str]) -> tuple[list[list[str]], list[list[list[int | None]]]]:
    """Each text's sentences, and the term of each word of each sentence. The words of all
    texts are looked up at once: those never seen before are tokenised in one call."""
    sentences = [split_sentences(text) or [text] for text in texts]
    words = [[_words(s) for s in ss] for ss in sentences]
    flat = lex.word_terms([w for ws in words for sw in ws for w in sw])
    return sentences, _chunks(_chunks(flat, (len(sw) for ws in words for sw in ws)), map(len, words))


def explain_with(explainer: Explainer, hits: list[tuple[int, str]]) -> list[Why]:
    """Explanations of results ``hits`` = ``[(position, text), ...]`` by one explainer."""
    shared = [explainer._shared(pos) for pos, _ in hits]
    pairs = [(t, pos) for (pos, _), terms in zip(hits, shared) for t in terms]
    weights = _chunks(_weights(explainer.lex, [t for t, _ in pairs], [p for _, p in pairs]), map(len, shared))
    sentences, terms = _sentence_terms(explainer.lex, [text for _, text in hits])
    return [explainer._why(list(zip(*sw)), ss, ts) for sw, ss, ts in zip(zip(shared, weights), sentences, terms)]


def explain(lex: LexicalIndex, query_text: str, hits: list[tuple[int, str]]) -> list[Why]:
    """Explanations for results ``hits`` = ``[(position, text), ...]`` of a query text."""
    return explain_with(Explainer(lex, query_text), hits)
