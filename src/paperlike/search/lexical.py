"""BM25 over the indexed papers: the lexical half of hybrid ranking.

The small model blurs rare technical terms ("lottery ticket", "grokking"); BM25 matches them
exactly. ``bm25s`` builds the index (tokenise, English stopwords, Snowball stemming when
PyStemmer is installed, BM25 "lucene" weights precomputed per term and paper as a sparse matrix).

Scoring a query only sums the matrix columns of its terms, which is done here in NumPy on the
saved arrays, so looking up papers like an *indexed* paper needs neither bm25s nor scipy: its own
term ids are stored too. Free-text queries are tokenised by bm25s exactly as the papers were.
The arrays are saved beside the index by :mod:`paperlike.storage.lexical`.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from ..storage.lexical import lexical_folder, load_lexical, save_lexical

__all__ = ["LexicalIndex", "build_lexical", "load_or_build_lexical", "tokenizer_settings", "WORD"]

log = logging.getLogger("paperlike")

# bm25s's own token pattern (its ``tokenize`` default): the one word splitter of the lexical
# side, so explanations split words exactly as the index did. (The hashing embedder keeps its
# own feature tokeniser: a different purpose, and its vectors must not change.)
WORD = re.compile(r"(?u)\b\w\w+\b")

# Words whose term :meth:`LexicalIndex.word_terms` keeps (explanations look words up one by one).
WORD_CACHE_SIZE = 200_000
_UNSEEN = object()


def tokenizer_settings(stem: bool | None = None) -> dict:
    """The tokeniser options an index is built with (stemming only where PyStemmer is installed)."""
    if stem is None:
        stem = importlib.util.find_spec("Stemmer") is not None
    return {"lower": True, "stopwords": "en", "stemmer": "english" if stem else None}


def _tokenize(texts: Sequence[str], settings: dict):
    import bm25s

    stemmer = None
    if settings.get("stemmer"):
        import Stemmer

        stemmer = Stemmer.Stemmer(settings["stemmer"]).stemWords
    return bm25s.tokenize(
        list(texts),
        lower=True,
        stopwords=settings["stopwords"],
        stemmer=stemmer,
        show_progress=False,
        token_pattern=WORD.pattern,
    )


@dataclass
class LexicalIndex:
    """A BM25 index over ``count`` papers, in the order of the paper index it belongs to."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    doc_terms: np.ndarray
    doc_offsets: np.ndarray
    vocab: dict[str, int]
    count: int
    settings: dict
    _word_cache: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)

    def term_ids(self, text: str) -> np.ndarray:
        """Vocabulary ids of the terms of a free text (unknown terms dropped; repeats kept)."""
        tokens = _tokenize([text], self.settings)
        inverse = {i: t for t, i in tokens.vocab.items()}
        known = [self.vocab.get(inverse[i]) for i in tokens.ids[0]]
        return np.asarray([t for t in known if t is not None], dtype=np.int64)

    def word_terms(self, words: Sequence[str]) -> list[int | None]:
        """The vocabulary id of each single word (None for stopwords and unknown words)."""
        # A word's term does not depend on the words around it, so each word is tokenised (and
        # stemmed) once per index, not once per explanation. One .get per word: another thread
        # may clear the cache meanwhile, and then this call just tokenises more.
        cache = self._word_cache
        terms: list[Any] = list(map(cache.get, words, repeat(_UNSEEN)))
        if _UNSEEN not in terms:
            return terms
        missing = list(dict.fromkeys(w for w, t in zip(words, terms) if t is _UNSEEN))
        tokens = _tokenize(missing, self.settings)
        inverse = {i: t for t, i in tokens.vocab.items()}
        found = dict(zip(missing, (self.vocab.get(inverse[ids[0]]) if len(ids) == 1 else None for ids in tokens.ids)))
        if len(cache) + len(found) > WORD_CACHE_SIZE:
            cache.clear()  # a vocabulary's worth of words seen: start again
        cache.update(found)
        return [found[w] if t is _UNSEEN else t for w, t in zip(words, terms)]

    def paper_terms(self, position: int) -> np.ndarray:
        """The term ids of an indexed paper (as stored at build time)."""
        return self.doc_terms[self.doc_offsets[position] : self.doc_offsets[position + 1]]

    def scores_for_terms(self, terms: np.ndarray, *, merge_repeats: bool = False) -> np.ndarray:
        """BM25 score of every paper for a query made of ``terms`` (repeats count again).

        Args:
            terms: Term ids, in query order.
            merge_repeats: Add each distinct term once, times its count, in term order: faster
                (a paper's abstract repeats its common terms, whose columns are the long ones),
                and the same scores to float32 rounding (about 1e-7 relative), not bit for bit.
        """
        scores = np.zeros(self.count, dtype=np.float32)
        terms = np.asarray(terms, dtype=np.int64)
        counts = [1] * len(terms)
        if merge_repeats:
            terms, repeats = np.unique(terms, return_counts=True)
            counts = repeats.tolist()
        starts, ends = self.indptr[terms].tolist(), self.indptr[terms + 1].tolist()
        # np.add.at takes the stored int32 rows as they are (``scores[rows] += ...`` converts
        # every row number to int64 first: twice as slow). A paper appears once per column.
        for lo, hi, count in zip(starts, ends, counts):
            weights = self.data[lo:hi]
            np.add.at(scores, self.indices[lo:hi], weights if count == 1 else weights * np.float32(count))
        return scores

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every paper for a free-text query."""
        return self.scores_for_terms(self.term_ids(text))


def build_lexical(texts: Sequence[str], settings: dict | None = None) -> LexicalIndex:
    """Tokenise and index ``texts`` with bm25s (BM25, lucene variant, k1=1.5, b=0.75)."""
    import bm25s

    settings = settings or tokenizer_settings()
    tokens = _tokenize(texts, settings)
    if not any(len(ids) for ids in tokens.ids):
        # No paper has a single term (empty index, titles of stopwords only): nothing matches.
        return LexicalIndex(
            data=np.zeros(0, np.float32),
            indices=np.zeros(0, np.int32),
            indptr=np.zeros(1, np.int64),
            doc_terms=np.zeros(0, np.int32),
            doc_offsets=np.zeros(len(texts) + 1, np.int64),
            vocab={},
            count=len(texts),
            settings=settings,
        )
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    # bm25s keeps the vocabulary of the tokeniser; its column ids are those ids.
    lengths = np.fromiter((len(ids) for ids in tokens.ids), dtype=np.int64, count=len(tokens.ids))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    doc_terms = np.fromiter((i for ids in tokens.ids for i in ids), dtype=np.int32, count=int(offsets[-1]))
    s = retriever.scores
    return LexicalIndex(
        data=np.asarray(s["data"], dtype=np.float32),
        indices=np.asarray(s["indices"], dtype=np.int32),
        indptr=np.asarray(s["indptr"], dtype=np.int64),
        doc_terms=doc_terms,
        doc_offsets=offsets,
        # bm25s adds "" (the token of an empty text) to the vocabulary without a matrix column.
        vocab={str(k): int(v) for k, v in tokens.vocab.items() if k and int(v) < len(s["indptr"]) - 1},
        count=len(texts),
        settings=settings,
    )


def load_or_build_lexical(index_dir: str | Path, generation: str, count: int, texts: Callable[[], list[str]]) -> LexicalIndex:
    """The BM25 index of an index generation: loaded when saved and intact, else built and saved.

    Args:
        index_dir: The paper index's directory.
        generation: Its current generation (from the manifest).
        count: Its number of papers.
        texts: Returns the papers' texts in index order (only called to build).
    """
    index_dir = Path(index_dir)
    folder = lexical_folder(index_dir, generation)
    if folder.is_dir():
        try:
            return LexicalIndex(**load_lexical(folder, count))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("rebuilding the BM25 index in %s (%s)", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
    if count > 20000:
        log.info("building the BM25 index of %d papers (once per index change)", count)
    lex = build_lexical(texts())
    if lex.count != count:
        raise ValueError(f"{lex.count} texts for an index of {count} papers")
    try:
        save_lexical(lex, folder)
    except OSError as exc:  # a read-only index still answers, just without the saved copy
        log.warning("BM25 index not saved beside the index (%s)", exc)
    # Folders of older generations are removed by the next index write (under its lock).
    return lex
