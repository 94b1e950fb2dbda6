"""The saved BM25 and TF-IDF arrays of an index generation: ``lexical-<generation>/`` beside the index.

NumPy + JSON only, no pickle: ``{meta.json, data.npy, indices.npy, indptr.npy, doc_terms.npy,
doc_offsets.npy, tfidf_*.npy, vocab.json}``. The folder is derived data: written whole and renamed into place
(:func:`~.files.atomic_write_dir`), checked on load by the one :class:`~.files.Verifier` against
the sizes and SHA-256 sums in ``meta.json`` (whose every value is validated first), and rebuilt
when missing or damaged (by :mod:`paperlike.search.lexical`). Its generation is checked like the
manifest's, and the folder must sit in the index folder: no value read from disk leads elsewhere.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import files as store
from .names import check_generation, contained, inside, lexical_name

__all__ = ["LEXICAL_FORMAT", "ARRAYS", "lexical_folder", "save_lexical", "load_lexical"]


# 2: the TF-IDF arrays (paperlike.search.tfidf) are saved too; a format-1 folder is rebuilt.
LEXICAL_FORMAT = 2


ARRAYS = (
    "data",
    "indices",
    "indptr",
    "doc_terms",
    "doc_offsets",
    "tfidf_data",
    "tfidf_indices",
    "tfidf_indptr",
    "tfidf_keys",
    "tfidf_idf",
)


_FILES = (*(f"{name}.npy" for name in ARRAYS), "vocab.json")


_SHA = re.compile(r"^[0-9a-f]{64}$")


# The tokeniser settings an index can be built with (see paperlike.search.lexical.tokenizer_settings).
_SETTINGS = ({"lower": True, "stopwords": "en", "stemmer": "english"}, {"lower": True, "stopwords": "en", "stemmer": None})


def lexical_folder(index_dir: Path, generation: str) -> Path:
    """The BM25 folder of an index generation.

    Raises:
        IndexCorruptError: ``generation`` is not a generation, or the folder leads outside ``index_dir``.
    """
    name = lexical_name(check_generation(Path(index_dir), generation, "the BM25 folder name"))
    return contained(Path(index_dir), name)


def save_lexical(lex: Any, target: Path) -> None:
    """Save the arrays of a BM25 index (any object with the :data:`ARRAYS` attributes, ``vocab``,
    ``count`` and ``settings``) as the folder ``target`` (from :func:`lexical_folder`), atomically.

    Called through :func:`~paperlike.storage.writer.write_derived` (the writer lock held, the
    generation still live).
    """
    target = Path(target)

    def fill(tmp: Path) -> None:
        blobs = {}
        for name in ARRAYS:
            buffer = io.BytesIO()
            np.save(buffer, getattr(lex, name), allow_pickle=False)
            blobs[f"{name}.npy"] = buffer.getvalue()
        blobs["vocab.json"] = json.dumps(lex.vocab, ensure_ascii=False).encode("utf-8")
        for file, data in blobs.items():
            (tmp / file).write_bytes(data)
        meta = {
            "format": LEXICAL_FORMAT,
            "count": lex.count,
            "settings": lex.settings,
            "sha256": {file: store.sha256_bytes(data) for file, data in blobs.items()},
            "bytes": {file: len(data) for file, data in blobs.items()},
        }
        (tmp / "meta.json").write_bytes(store.json_bytes(meta))

    store.atomic_write_dir(target, fill)


def _npy_view(buffer: Any) -> np.ndarray:
    """A read-only array over the bytes of a ``.npy`` file, without copying them."""
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


def _read_meta(folder: Path, count: int) -> dict[str, Any]:
    """``meta.json`` after checking every value (raises ValueError: the folder is rebuilt)."""
    meta = store.read_json(inside(folder, "meta.json"))
    if not isinstance(meta, dict) or meta.get("format") != LEXICAL_FORMAT or meta.get("count") != count:
        raise ValueError("format or paper count differs")
    if meta.get("settings") not in _SETTINGS:
        raise ValueError("unknown tokeniser settings")
    sums, sizes = meta.get("sha256"), meta.get("bytes")
    if not (isinstance(sums, dict) and all(isinstance(sums.get(f), str) and _SHA.fullmatch(sums[f]) for f in _FILES)):
        raise ValueError("checksums missing or malformed")
    if sizes is None:  # saved by an older paperlike: sizes come from the files, the sums still decide
        sizes = {f: inside(folder, f).stat().st_size for f in _FILES}
    if not (isinstance(sizes, dict) and all(type(sizes.get(f)) is int and sizes[f] >= 0 for f in _FILES)):
        raise ValueError("sizes missing or malformed")
    return {**meta, "bytes": sizes}


def load_lexical(folder: Path, count: int) -> dict[str, Any]:
    """The verified arrays, vocabulary and settings of a saved BM25 folder (raises ValueError)."""
    meta = _read_meta(folder, count)
    verifier = store.Verifier(folder)
    arrays = {}
    for file in _FILES:
        data, problem = verifier.open(file, meta["bytes"][file], meta["sha256"][file])
        if problem:
            raise ValueError(problem)
        # Views of the verified mapping (not a second open of the path, which a rebuild could
        # have replaced meanwhile): a query reads only the columns of its own terms.
        arrays[file.split(".")[0]] = json.loads(data[:]) if file == "vocab.json" else _npy_view(data)
    verifier.save()
    _check_arrays(arrays, count)
    return {**arrays, "count": count, "settings": dict(meta["settings"])}


def _offsets_ok(offsets: np.ndarray, end: int) -> bool:
    return len(offsets) >= 1 and offsets[0] == 0 and offsets[-1] == end and bool(np.all(offsets[1:] >= offsets[:-1]))


def _check_arrays(arrays: dict[str, Any], count: int) -> None:
    """Every index a query follows stays in range (checksums only say the files are as saved)."""
    vocab = _check_vocab(arrays["vocab"])
    data, indices, indptr, terms, offsets = (arrays[name] for name in ARRAYS[:5])
    if not all(a.dtype.kind in "iu" for a in (indices, indptr, terms, offsets)) or data.dtype.kind != "f":
        raise ValueError("array types differ")
    columns = len(indptr) - 1
    if max(vocab.values(), default=-1) >= columns or len(offsets) != count + 1 or len(indices) != len(data):
        raise ValueError("array shapes disagree")
    if not (_offsets_ok(indptr, len(data)) and _offsets_ok(offsets, len(terms))):
        raise ValueError("offsets out of order or out of range")
    if not (_in_range(indices, count) and _in_range(terms, columns)):
        raise ValueError("a paper or term number out of range")
    if not np.isfinite(data).all():
        raise ValueError("NaN or infinite scores")
    _check_tfidf(arrays, count, columns)


def _check_tfidf(arrays: dict[str, Any], count: int, columns: int) -> None:
    data, indices, indptr, keys, idf = (arrays[f"tfidf_{name}"] for name in ("data", "indices", "indptr", "keys", "idf"))
    if data.dtype.kind != "f" or idf.dtype.kind != "f" or not all(a.dtype.kind in "iu" for a in (indices, indptr, keys)):
        raise ValueError("TF-IDF array types differ")
    if len(indptr) != len(keys) + 1 or len(idf) != len(keys) or len(indices) != len(data) or not _offsets_ok(indptr, len(data)):
        raise ValueError("TF-IDF array shapes disagree")
    # Feature keys are unigram ids below ``columns`` and pairs below columns * (columns + 1).
    if not (_in_range(indices, count) and _in_range(keys, columns * (columns + 1))) or bool(np.any(keys[1:] <= keys[:-1])):
        raise ValueError("a TF-IDF paper or feature out of range")
    if not (np.isfinite(data).all() and np.isfinite(idf).all()):
        raise ValueError("NaN or infinite TF-IDF weights")


def _check_vocab(vocab: Any) -> dict[str, int]:
    if not isinstance(vocab, dict) or not all(type(v) is int and v >= 0 for v in vocab.values()):
        raise ValueError("vocab.json is not a term -> column map")
    return vocab


def _in_range(values: np.ndarray, end: int) -> bool:
    return len(values) == 0 or bool(values.min() >= 0 and values.max() < end)
