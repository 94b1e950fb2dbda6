"""Why a result matched: the key terms it shares with the query and the best sentence pair.

Uses the BM25 index only, so explaining needs no model.
"""

from __future__ import annotations

import math
import re

from ..records import Why
from .lexical import WORD as _WORD
from .lexical import LexicalIndex

__all__ = ["split_sentences", "Explainer", "explain"]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a title + abstract (the title ends at its first '. ')."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


class Explainer:
    """Explains results for one query text against one lexical index."""

    def __init__(self, lex: LexicalIndex, query_text: str, n_terms: int = 5):
        self.lex = lex
        self.n_terms = n_terms
        self.query_sentences = split_sentences(query_text) or [query_text]
        words, terms = self._sentence_terms(self.query_sentences)
        # Per query sentence, its distinct words (first occurrence first) that have a term.
        qterms = [[(t, w) for w, t in dict(zip(ws, ts)).items() if t is not None] for ws, ts in zip(words, terms)]
        self.surface: dict[int, str] = {}
        for pairs in qterms:
            for term, word in pairs:
                self.surface.setdefault(term, word)
        # Per query sentence, its terms with their IDF, in word order (the order they are summed
        # in), and as a set, to skip the sentences a result sentence shares nothing with.
        idf = {t: self._idf(t) for t in self.surface}
        self._qidf = [[(t, idf[t]) for t, _ in pairs] for pairs in qterms]
        self._qsets = [{t for t, _ in pairs} for pairs in qterms]
        self._qall = set(self.surface)

    def _sentence_terms(self, sentences: list[str]) -> tuple[list[list[str]], list[list[int | None]]]:
        """Each sentence's words (lowercased) and the term of each word, in one lookup call."""
        words = [_words(s) for s in sentences]
        flat = self.lex.word_terms([w for ws in words for w in ws])
        terms, end = [], 0
        for ws in words:
            terms.append(flat[end : end + len(ws)])
            end += len(ws)
        return words, terms

    def _idf(self, term: int) -> float:
        df = int(self.lex.indptr[term + 1] - self.lex.indptr[term])
        return math.log(1 + (self.lex.count - df + 0.5) / (df + 0.5))

    def _weight(self, term: int, position: int) -> float:
        lo, hi = int(self.lex.indptr[term]), int(self.lex.indptr[term + 1])
        column = self.lex.indices[lo:hi]
        # The position in the column's own type: a Python int would convert the whole column.
        hit = int(column.searchsorted(column.dtype.type(position)))
        return float(self.lex.data[lo + hit]) if hit < len(column) and column[hit] == position else 0.0

    def why(self, position: int, result_text: str) -> Why:
        """The explanation for the indexed paper at ``position`` whose text is ``result_text``."""
        doc_terms = set(self.lex.paper_terms(position).tolist())
        shared = [(self._weight(t, position), w, t) for t, w in self.surface.items() if t in doc_terms]
        shared.sort(key=lambda x: (-x[0], x[1]))
        terms = tuple(w for _, w, _ in shared[: self.n_terms])
        result_sentences = split_sentences(result_text) or [result_text]
        best = (0.0, 0, 0)
        for j, sentence_terms in enumerate(self._sentence_terms(result_sentences)[1]):
            rterms = set(sentence_terms)
            if self._qall.isdisjoint(rterms):
                continue  # every pair scores 0, which never beats the best so far
            for i, (qset, qidf) in enumerate(zip(self._qsets, self._qidf)):
                if qset.isdisjoint(rterms):
                    continue
                score = sum(idf for t, idf in qidf if t in rterms)
                if score > best[0]:
                    best = (score, i, j)
        if best[0] == 0.0:
            return Why(terms, "", "")
        return Why(terms, self.query_sentences[best[1]], result_sentences[best[2]])


def _words(text: str) -> list[str]:
    """The words of a text as the lexical side splits them, each lowercased after splitting
    (lowercasing first is the same for ASCII text only: "İ" lowercases to two characters)."""
    if text.isascii():
        return _WORD.findall(text.lower())
    return [w.lower() for w in _WORD.findall(text)]


def explain(lex: LexicalIndex, query_text: str, hits: list[tuple[int, str]]) -> list[Why]:
    """Explanations for results ``hits`` = ``[(position, text), ...]`` of a query text."""
    explainer = Explainer(lex, query_text)
    return [explainer.why(pos, text) for pos, text in hits]
