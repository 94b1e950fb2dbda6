"""The saved BM25 arrays of an index generation: ``lexical-<generation>/`` beside the index.

NumPy + JSON only, no pickle: ``{meta.json, data.npy, indices.npy, indptr.npy, doc_terms.npy,
doc_offsets.npy, vocab.json}``. The folder is derived data: written to a temp folder and renamed
into place, checked against the SHA-256 sums in ``meta.json`` on load, and rebuilt when missing
or damaged (by :mod:`paperlike.search.lexical`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .files import Verifier

__all__ = ["LEXICAL_FORMAT", "ARRAYS", "lexical_folder", "save_lexical", "load_lexical", "remove_stale_lexical"]


LEXICAL_FORMAT = 1


ARRAYS = ("data", "indices", "indptr", "doc_terms", "doc_offsets")


def lexical_folder(index_dir: Path, generation: str) -> Path:
    """The BM25 folder of an index generation."""
    return index_dir / f"lexical-{generation}"


def save_lexical(lex: Any, target: Path) -> None:
    """Save the arrays of a BM25 index (any object with the :data:`ARRAYS` attributes, ``vocab``,
    ``count`` and ``settings``) as the folder ``target``, atomically."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}.", dir=target.parent))
    try:
        sums = {}
        for name in ARRAYS:
            with open(tmp / f"{name}.npy", "wb") as fh:
                np.save(fh, getattr(lex, name), allow_pickle=False)
            sums[f"{name}.npy"] = hashlib.sha256((tmp / f"{name}.npy").read_bytes()).hexdigest()
        vocab = json.dumps(lex.vocab, ensure_ascii=False).encode("utf-8")
        (tmp / "vocab.json").write_bytes(vocab)
        sums["vocab.json"] = hashlib.sha256(vocab).hexdigest()
        meta = {"format": LEXICAL_FORMAT, "count": lex.count, "settings": lex.settings, "sha256": sums}
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


def load_lexical(folder: Path, count: int) -> dict[str, Any]:
    """The verified arrays, vocabulary and settings of a saved BM25 folder (raises ValueError)."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != LEXICAL_FORMAT or meta.get("count") != count:
        raise ValueError("format or paper count differs")
    verifier = Verifier(folder)
    arrays = {}
    for name in (*ARRAYS, "vocab"):
        file = f"{name}.json" if name == "vocab" else f"{name}.npy"
        data, problem = verifier.open(file, (folder / file).stat().st_size, meta["sha256"][file])
        if problem:
            raise ValueError(problem)
        # Views of the verified mapping (not a second open of the path, which a rebuild could
        # have replaced meanwhile): a query reads only the columns of its own terms.
        arrays[name] = json.loads(data[:]) if name == "vocab" else _npy_view(data)
    verifier.save()
    vocab = arrays["vocab"]
    if not isinstance(vocab, dict) or not all(isinstance(v, int) for v in vocab.values()):
        raise ValueError("vocab.json is not a term -> column map")
    if max(vocab.values(), default=-1) >= len(arrays["indptr"]) - 1 or len(arrays["doc_offsets"]) != count + 1:
        raise ValueError("array shapes disagree")
    return {**arrays, "count": count, "settings": meta["settings"]}


def remove_stale_lexical(index_dir: str | Path, keep_generation: str) -> None:
    """Delete BM25 folders of other generations and half-written ones (call with the writer lock)."""
    import re

    # Only names paperlike makes (a generation is 14 digits, a dash, 6 hex digits): a folder of
    # the user's that happens to start with "lexical-" is never touched.
    ours = re.compile(r"^(\.tmp-)?lexical-\d{14}-[0-9a-f]{6}(\..*)?$")
    for old in Path(index_dir).iterdir():
        if old.is_dir() and ours.match(old.name) and old.name != f"lexical-{keep_generation}":
            shutil.rmtree(old, ignore_errors=True)
