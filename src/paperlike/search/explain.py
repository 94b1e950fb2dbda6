"""Why a result matched: the key terms it shares with the query and the best sentence pair.

Uses the BM25 index only, so explaining needs no model.
"""

from __future__ import annotations

import math
import re

import numpy as np

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
        self._word_term: dict[str, int | None] = {}
        self.query_sentences = split_sentences(query_text) or [query_text]
        self._resolve(_WORD.findall(query_text))  # one tokeniser call for the whole query
        self._qterms = [self._terms_with_words(s) for s in self.query_sentences]
        self.surface: dict[int, str] = {}
        for pairs in self._qterms:
            for term, word in pairs:
                self.surface.setdefault(term, word)

    def _resolve(self, words) -> None:
        # Tokenise word by word (in one call) so each term id keeps the word it came from.
        new = list(dict.fromkeys(w.lower() for w in words if w.lower() not in self._word_term))
        self._word_term.update(zip(new, self.lex.word_terms(new)))

    def _terms_with_words(self, text: str) -> list[tuple[int, str]]:
        words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))
        self._resolve(words)
        return [(t, w) for w in words if (t := self._word_term[w]) is not None]

    def _idf(self, term: int) -> float:
        df = int(self.lex.indptr[term + 1] - self.lex.indptr[term])
        return math.log(1 + (self.lex.count - df + 0.5) / (df + 0.5))

    def _weight(self, term: int, position: int) -> float:
        lo, hi = self.lex.indptr[term], self.lex.indptr[term + 1]
        col = self.lex.indices[lo:hi]
        hit = np.searchsorted(col, position)
        return float(self.lex.data[lo + hit]) if hit < len(col) and col[hit] == position else 0.0

    def why(self, position: int, result_text: str) -> Why:
        """The explanation for the indexed paper at ``position`` whose text is ``result_text``."""
        doc_terms = set(int(t) for t in self.lex.paper_terms(position))
        shared = [(self._weight(t, position), w, t) for t, w in self.surface.items() if t in doc_terms]
        shared.sort(key=lambda x: (-x[0], x[1]))
        terms = tuple(w for _, w, _ in shared[: self.n_terms])
        best = (0.0, 0, 0)
        result_sentences = split_sentences(result_text) or [result_text]
        self._resolve(_WORD.findall(result_text))  # one tokeniser call per result
        for j, sentence in enumerate(result_sentences):
            rterms = {t for t, _ in self._terms_with_words(sentence)}
            for i, qterms in enumerate(self._qterms):
                score = sum(self._idf(t) for t, _ in qterms if t in rterms)
                if score > best[0]:
                    best = (score, i, j)
        if best[0] == 0.0:
            return Why(terms, "", "")
        return Why(terms, self.query_sentences[best[1]], result_sentences[best[2]])


def explain(lex: LexicalIndex, query_text: str, hits: list[tuple[int, str]]) -> list[Why]:
    """Explanations for results ``hits`` = ``[(position, text), ...]`` of a query text."""
    explainer = Explainer(lex, query_text)
    return [explainer.why(pos, text) for pos, text in hits]
