"""BM25 over the indexed papers: the lexical half of hybrid ranking.

The small model blurs rare technical terms ("lottery ticket", "grokking"); BM25 matches them
exactly. ``bm25s`` tokenises (English stopwords, Snowball stemming when PyStemmer is installed),
a chunk of texts at a time; the BM25 "lucene" weights per term and paper (a sparse matrix) are
computed here in NumPy, bit for bit bm25s's own (the tests compare them), because bm25s's
indexer needs every paper's token list at once as Python lists: over 6 GB at 1M papers.

Scoring a query only sums the matrix columns of its terms, which is done here in NumPy on the
saved arrays, so looking up papers like an *indexed* paper needs neither bm25s nor scipy: its own
term ids are stored too. Free-text queries are tokenised by bm25s exactly as the papers were.
The arrays are saved beside the index by :mod:`paperlike.storage.lexical`.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from pathlib import Path
from typing import Any

import numpy as np

from ..storage.lexical import lexical_folder, load_lexical, save_lexical
from ..storage.writer import write_derived
from .tfidf import TfidfIndex, build_tfidf

__all__ = ["LexicalIndex", "build_lexical", "load_or_build_lexical", "tokenizer_settings", "WORD"]

log = logging.getLogger("paperlike")

# What loading a damaged or foreign BM25 folder raises (it is then rebuilt).
_DAMAGED = (OSError, ValueError, KeyError, TypeError, AttributeError)

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
    tfidf_data: np.ndarray | None = None
    tfidf_indices: np.ndarray | None = None
    tfidf_indptr: np.ndarray | None = None
    tfidf_keys: np.ndarray | None = None
    tfidf_idf: np.ndarray | None = None
    _word_cache: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)
    _tfidf: TfidfIndex | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tfidf_data is None:  # built here, from the tokens already counted
            made = build_tfidf(self.doc_terms, self.doc_offsets, len(self.indptr) - 1)
            self.tfidf_data, self.tfidf_indices, self.tfidf_indptr = made.data, made.indices, made.indptr
            self.tfidf_keys, self.tfidf_idf = made.keys, made.idf
            self._tfidf = made

    def tfidf(self) -> TfidfIndex:
        """The TF-IDF vectors of the same papers (unigram and bigram stems; see :mod:`.tfidf`)."""
        if self._tfidf is None:
            arrays = (self.tfidf_data, self.tfidf_indices, self.tfidf_indptr, self.tfidf_keys, self.tfidf_idf)
            data, indices, indptr, keys, idf = (np.asarray(a) for a in arrays)
            self._tfidf = TfidfIndex(data, indices, indptr, keys, idf, len(self.indptr) - 1, self.count)
        return self._tfidf

    def tfidf_paper_scores(self, positions: Sequence[int]) -> np.ndarray:
        """TF-IDF cosine of every paper to indexed papers (their vectors summed)."""
        return self.tfidf().paper_scores(self.doc_terms, self.doc_offsets, positions)

    def tfidf_text_scores(self, text: str) -> np.ndarray:
        """TF-IDF cosine of every paper to a free text."""
        return self.tfidf().text_scores(self.term_ids(text))

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

    def coverage(self, text: str) -> np.ndarray:
        """Per paper, the share of ``text``'s distinct terms it contains, each term weighted by its
        BM25 idf: 1 for a paper naming every word of a seed, little for one naming only its common
        word ("law" of "tax law"). A word no paper has counts with the highest idf, so "knitting
        patterns" is not covered by "patterns" alone."""
        tokens = _tokenize([text], self.settings)
        inverse = {i: t for t, i in tokens.vocab.items()}
        words = {inverse[i] for i in tokens.ids[0]}
        known = np.array(sorted(self.vocab[w] for w in words if w in self.vocab), dtype=np.int64)
        unknown = len(words) - len(known)
        lo, hi = self.indptr[known], self.indptr[known + 1]
        df = (hi - lo).astype(np.float64)
        idf = np.log(1 + (self.count - df + 0.5) / (df + 0.5))
        total = float(idf.sum()) + unknown * math.log(1 + (self.count + 0.5) / 0.5)
        share = np.zeros(self.count, dtype=np.float64)
        for a, b, weight in zip(lo.tolist(), hi.tolist(), idf.tolist()):
            share[self.indices[a:b]] += weight
        return share / total if total > 0 else share


# BM25 "lucene" weights (bm25s's defaults): idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
# tf part = tf / (tf + k1 (1 - b + b |d| / avg|d|)).
K1, B = 1.5, 0.75

# Texts tokenised at a time (bm25s returns a Python list of token ids per text).
BUILD_CHUNK = 20_000


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(texts)
    while chunk := list(islice(it, size)):
        yield chunk


def _tokenized_chunks(
    texts: Iterable[str], settings: dict, vocab: dict[str, int], size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(term ids, lengths)`` of each chunk of texts, term ids in the growing ``vocab``."""
    for chunk in _chunks(texts, size):
        tokens = _tokenize(chunk, settings)
        # bm25s numbers the terms of each call afresh: map them to ids over all chunks.
        to_global = np.full(max(len(tokens.vocab), 1), -1, dtype=np.int32)
        # In word order, not bm25s's (which follows Python's per-process string hashing): the same
        # texts get the same term ids in every process, so the TF-IDF columns, and the themes
        # clustered with them (themes/space.py), are the same on every run.
        for word, i in sorted(tokens.vocab.items(), key=lambda item: str(item[0])):
            if word:  # bm25s's token of an empty text
                to_global[i] = vocab.setdefault(str(word), len(vocab))
        lengths = np.fromiter(map(len, tokens.ids), dtype=np.int64, count=len(tokens.ids))
        terms = to_global[np.fromiter(chain.from_iterable(tokens.ids), dtype=np.int64, count=int(lengths.sum()))]
        if terms.size and terms.min() < 0:  # (older bm25s versions give empty texts that token)
            owner = np.repeat(np.arange(len(lengths)), lengths)
            lengths = np.bincount(owner[terms >= 0], minlength=len(lengths)).astype(np.int64)
            terms = terms[terms >= 0]
        yield terms, lengths


def _doc_term_counts(
    terms: np.ndarray, offsets: np.ndarray, first: int, last: int, columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(paper, term, count)`` of papers ``first..last-1``, by paper then term."""
    lo, hi = int(offsets[first]), int(offsets[last])
    papers = np.repeat(np.arange(first, last, dtype=np.int64), np.diff(offsets[first : last + 1]))
    keys, counts = np.unique(papers * columns + terms[lo:hi], return_counts=True)
    return keys // columns, keys % columns, counts


def build_lexical(texts: Iterable[str], settings: dict | None = None, *, chunk: int = BUILD_CHUNK) -> LexicalIndex:
    """Tokenise ``texts`` (a list or a generator) with bm25s, a chunk at a time, and weight them
    with BM25 (lucene variant, k1=1.5, b=0.75: bm25s's own weights, checked against it in the tests)."""
    settings = settings or tokenizer_settings()
    vocab: dict[str, int] = {}
    parts = list(_tokenized_chunks(texts, settings, vocab, chunk))
    doc_terms = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
    lengths = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    del parts
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # (No paper with a single term, e.g. titles of stopwords only: an empty matrix, nothing matches.)
    data, indices, indptr = _bm25_matrix(doc_terms, offsets, len(vocab), chunk)
    return LexicalIndex(data, indices, indptr, doc_terms.astype(np.int32, copy=False), offsets, vocab, len(lengths), settings)


def _bm25_matrix(doc_terms: np.ndarray, offsets: np.ndarray, columns: int, chunk: int) -> tuple[np.ndarray, ...]:
    """``(data, indices, indptr)``: the BM25 weight of every term in every paper, by term (CSC),
    filled a chunk of papers at a time straight into the final arrays."""
    count = len(offsets) - 1
    spans = [(lo, min(lo + chunk, count)) for lo in range(0, count, chunk)]
    df = np.zeros(columns, dtype=np.int64)
    # The pairs are counted again in the loop below rather than kept (12 bytes a pair for every
    # paper): about 0.25 s of an 8 s build at 60k texts; tokenising is the rest.
    for lo, hi in spans:
        df += np.bincount(_doc_term_counts(doc_terms, offsets, lo, hi, columns)[1], minlength=columns)
    idf = np.array([math.log(1 + (count - d + 0.5) / (d + 0.5)) for d in df.tolist()], dtype=np.float32)
    lengths = np.diff(offsets)
    avg = float(lengths.mean()) if count else 0.0
    indptr = np.zeros(columns + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    cursor = indptr[:-1].copy()  # where each column's next paper goes (papers come in order)
    for lo, hi in spans:
        papers, terms, tf = _doc_term_counts(doc_terms, offsets, lo, hi, columns)
        if not len(terms):
            continue  # papers of stopwords only
        # In float64 as bm25s computes it, then stored as float32: the same bits as bm25s.
        tf = tf.astype(np.float64)
        weights = idf[terms] * (tf / (K1 * ((1 - B) + B * lengths[papers] / avg) + tf))
        order = np.argsort(terms, kind="stable")  # by term, and by paper within a term
        terms = terms[order]
        starts = np.flatnonzero(np.r_[True, terms[1:] != terms[:-1]])
        sizes = np.diff(np.r_[starts, len(terms)])
        place = cursor[terms] + (np.arange(len(terms)) - np.repeat(starts, sizes))
        data[place] = weights[order]
        indices[place] = papers[order]
        cursor[terms[starts]] += sizes
    return data, indices, indptr


def load_or_build_lexical(
    index_dir: str | Path, generation: str, count: int, texts: Callable[[], Iterable[str]], save: bool = True
) -> LexicalIndex:
    """The BM25 index of an index generation: loaded when saved and intact, else built and saved.

    Args:
        index_dir: The paper index's directory.
        generation: Its current generation (from the manifest).
        count: Its number of papers.
        texts: Returns the papers' texts in index order, as a list or a generator (only called to build).
        save: False: build it in memory only; the index folder is neither written nor cleaned
            (a read-only server, a read-only mount).
    """
    index_dir = Path(index_dir)
    folder = lexical_folder(index_dir, generation)
    if folder.is_dir():
        try:
            return LexicalIndex(**load_lexical(folder, count))
        except _DAMAGED as exc:
            log.warning("rebuilding the BM25 index in %s (%s)", folder, exc)
    if count > 20000:
        log.info("building the BM25 index of %d papers (once per index change)", count)
    lex = build_lexical(texts())
    if lex.count != count:
        raise ValueError(f"{lex.count} texts for an index of {count} papers")
    if not save:
        return lex

    def write() -> None:
        if folder.is_dir():
            try:
                load_lexical(folder, count)
                return  # another command saved it meanwhile
            except _DAMAGED:
                shutil.rmtree(folder)  # under the writer lock: no writer is using it
        save_lexical(lex, folder)

    try:  # the storage layer's one lazy path for derived files (writer lock, live generation)
        write_derived(index_dir, generation, write)
    except OSError as exc:  # a read-only index still answers, just without the saved copy
        log.warning("BM25 index not saved beside the index (%s)", exc)
    # Folders of older generations are removed by the next index write (under its lock).
    return lex
