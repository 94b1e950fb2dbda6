"""BM25 over the indexed papers: the lexical half of hybrid ranking.

The small model blurs rare technical terms ("lottery ticket", "grokking"); BM25 matches them
exactly. ``bm25s`` builds the index (tokenise, English stopwords, Snowball stemming when
PyStemmer is installed, BM25 "lucene" weights precomputed per term and paper as a sparse matrix).

Scoring a query only sums the matrix columns of its terms, which is done here in NumPy on the
saved arrays, so looking up papers like an *indexed* paper needs neither bm25s nor scipy: its own
term ids are stored too. Free-text queries are tokenised by bm25s exactly as the papers were.

On disk (beside the index, one folder per index generation, NumPy + JSON only, no pickle):
``lexical-<generation>/{meta.json, data.npy, indices.npy, indptr.npy, doc_terms.npy,
doc_offsets.npy, vocab.json}``. The folder is derived data: written to a temp folder and renamed
into place, checked against the SHA-256 sums in ``meta.json`` on load, and rebuilt when missing
or damaged.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

__all__ = ["LexicalIndex", "build_lexical", "load_or_build_lexical", "remove_stale_lexical", "tokenizer_settings"]

log = logging.getLogger("paperlike")

FORMAT = 1
_ARRAYS = ("data", "indices", "indptr", "doc_terms", "doc_offsets")


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
    return bm25s.tokenize(list(texts), lower=True, stopwords=settings["stopwords"], stemmer=stemmer, show_progress=False)


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

    def term_ids(self, text: str) -> np.ndarray:
        """Vocabulary ids of the terms of a free text (unknown terms dropped; repeats kept)."""
        tokens = _tokenize([text], self.settings)
        inverse = {i: t for t, i in tokens.vocab.items()}
        known = [self.vocab.get(inverse[i]) for i in tokens.ids[0]]
        return np.asarray([t for t in known if t is not None], dtype=np.int64)

    def word_terms(self, words: Sequence[str]) -> list[int | None]:
        """The vocabulary id of each single word (None for stopwords and unknown words)."""
        if not words:
            return []
        tokens = _tokenize(list(words), self.settings)
        inverse = {i: t for t, i in tokens.vocab.items()}
        return [self.vocab.get(inverse[ids[0]]) if len(ids) == 1 else None for ids in tokens.ids]

    def paper_terms(self, position: int) -> np.ndarray:
        """The term ids of an indexed paper (as stored at build time)."""
        return self.doc_terms[self.doc_offsets[position] : self.doc_offsets[position + 1]]

    def scores_for_terms(self, terms: np.ndarray) -> np.ndarray:
        """BM25 score of every paper for a query made of ``terms`` (repeats count again)."""
        scores = np.zeros(self.count, dtype=np.float32)
        for term in terms:
            lo, hi = self.indptr[term], self.indptr[term + 1]
            scores[self.indices[lo:hi]] += self.data[lo:hi]  # a paper appears once per column
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
            data=np.zeros(0, np.float32), indices=np.zeros(0, np.int32), indptr=np.zeros(1, np.int64),
            doc_terms=np.zeros(0, np.int32), doc_offsets=np.zeros(len(texts) + 1, np.int64), vocab={},
            count=len(texts), settings=settings,
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


def _folder(index_dir: Path, generation: str) -> Path:
    return index_dir / f"lexical-{generation}"


def _save(lex: LexicalIndex, target: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}.", dir=target.parent))
    try:
        sums = {}
        for name in _ARRAYS:
            with open(tmp / f"{name}.npy", "wb") as fh:
                np.save(fh, getattr(lex, name), allow_pickle=False)
            sums[f"{name}.npy"] = hashlib.sha256((tmp / f"{name}.npy").read_bytes()).hexdigest()
        vocab = json.dumps(lex.vocab, ensure_ascii=False).encode("utf-8")
        (tmp / "vocab.json").write_bytes(vocab)
        sums["vocab.json"] = hashlib.sha256(vocab).hexdigest()
        meta = {"format": FORMAT, "count": lex.count, "settings": lex.settings, "sha256": sums}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        try:
            os.replace(tmp, target)  # a folder renamed into place: readers see all of it or none
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process saved this generation first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _npy_view(buffer) -> np.ndarray:
    """A read-only array over the bytes of a ``.npy`` file, without copying them."""
    import io

    header = io.BytesIO(buffer[:4096])
    version = np.lib.format.read_magic(header)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(header)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(header)
    if fortran or dtype.hasobject or len(shape) != 1:
        raise ValueError("unexpected array layout")
    count = int(shape[0])
    if header.tell() + count * dtype.itemsize != len(buffer):
        raise ValueError("array size does not match the file")
    return np.frombuffer(buffer, dtype=dtype, count=count, offset=header.tell())


def _load(folder: Path, count: int) -> LexicalIndex:
    from .store import Verifier

    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("count") != count:
        raise ValueError("format or paper count differs")
    verifier = Verifier(folder)
    arrays = {}
    for name in (*_ARRAYS, "vocab"):
        file = f"{name}.json" if name == "vocab" else f"{name}.npy"
        data, problem = verifier.open(file, (folder / file).stat().st_size, meta["sha256"][file])
        if problem:
            raise ValueError(problem)
        # Views of the verified mapping (not a second open of the path, which a rebuild could
        # have replaced meanwhile): a query reads only the columns of its own terms.
        arrays[name] = json.loads(data[:]) if name == "vocab" else _npy_view(data)
    verifier.save()
    vocab = arrays.pop("vocab")
    lex = LexicalIndex(**arrays, vocab=vocab, count=count, settings=meta["settings"])
    if max(lex.vocab.values(), default=-1) >= len(lex.indptr) - 1 or len(lex.doc_offsets) != count + 1:
        raise ValueError("array shapes disagree")
    return lex


def load_or_build_lexical(index_dir: str | Path, generation: str, count: int, texts: Callable[[], list[str]]) -> LexicalIndex:
    """The BM25 index of an index generation: loaded when saved and intact, else built and saved.

    Args:
        index_dir: The paper index's directory.
        generation: Its current generation (from the manifest).
        count: Its number of papers.
        texts: Returns the papers' texts in index order (only called to build).
    """
    index_dir = Path(index_dir)
    folder = _folder(index_dir, generation)
    if folder.is_dir():
        try:
            return _load(folder, count)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("rebuilding the BM25 index in %s (%s)", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
    if count > 20000:
        log.info("building the BM25 index of %d papers (once per index change)", count)
    lex = build_lexical(texts())
    if lex.count != count:
        raise ValueError(f"{lex.count} texts for an index of {count} papers")
    try:
        _save(lex, folder)
    except OSError as exc:  # a read-only index still answers, just without the saved copy
        log.warning("BM25 index not saved beside the index (%s)", exc)
    # Folders of older generations are removed by the next index write (under its lock).
    return lex


def remove_stale_lexical(index_dir: str | Path, keep_generation: str) -> None:
    """Delete BM25 folders of other generations and half-written ones (call with the writer lock)."""
    import re

    # Only names paperlike makes (a generation is 14 digits, a dash, 6 hex digits): a folder of
    # the user's that happens to start with "lexical-" is never touched.
    ours = re.compile(r"^(\.tmp-)?lexical-\d{14}-[0-9a-f]{6}(\..*)?$")
    for old in Path(index_dir).iterdir():
        if old.is_dir() and ours.match(old.name) and old.name != f"lexical-{keep_generation}":
            shutil.rmtree(old, ignore_errors=True)
