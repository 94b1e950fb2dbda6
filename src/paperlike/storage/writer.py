"""Writing an index: a new generation of files, then the manifest switch, then cleanup."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import ModelError, QueryError
from ..records import Paper, paper_text_hash
from ..text import clean_text
from . import files as store
from .lexical import remove_stale_lexical
from .manifest import FILE_NAME as _FILE_NAME
from .manifest import FORMAT, FORMAT_VERSION, MANIFEST

__all__ = ["write_index", "choose_search", "ANN_THRESHOLD", "HNSW_PARAMS", "SEARCH_KINDS"]


# Exact search up to here; approximate (HNSW) from here on. At 96k papers an exact query costs
# about 10 ms, at 1M about 100 ms (benchmarks/ann.py).
ANN_THRESHOLD = 200_000


# Chosen with benchmarks/ann.py on ACM-CR vectors (recall@10 vs exact search and latency).
HNSW_PARAMS = {"m": 32, "ef_construction": 80, "ef_search": 128}


SEARCH_KINDS = ("auto", "exact", "hnsw")


def choose_search(count: int, search: str = "auto") -> str:
    """``exact`` or ``hnsw`` for an index of ``count`` papers (see :data:`ANN_THRESHOLD`)."""
    if search not in SEARCH_KINDS:
        raise QueryError(f"unknown search kind '{search}'; use one of: {', '.join(SEARCH_KINDS)}")
    if search == "auto":
        return "hnsw" if count >= ANN_THRESHOLD else "exact"
    return search


def _make_faiss(kind: str, vectors: np.ndarray):
    import faiss

    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_PARAMS["m"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_PARAMS["ef_construction"]
        index.hnsw.efSearch = HNSW_PARAMS["ef_search"]
    else:
        index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def write_index(
    directory: str | Path,
    papers: Sequence[Paper],
    vectors: np.ndarray,
    model: dict[str, Any],
    corpus_source: str,
    corpus_sha256: str,
    corpus_file_sha256: str | None = None,
    search: str = "auto",
) -> dict[str, Any]:
    """Write a new generation of index files, then switch the manifest to it.

    ``search`` picks the FAISS index: ``exact`` (flat), ``hnsw`` (approximate), or ``auto``
    (exact below :data:`ANN_THRESHOLD` papers, HNSW from there on).

    Takes the directory's writer lock; removes older generations and stale temp files afterwards.

    Returns:
        The manifest written.
    """
    import faiss

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape != (len(papers), model["dim"]):
        raise ModelError(f"vectors of shape {vectors.shape} do not match {len(papers)} papers of dim {model['dim']}")
    with store.writer_lock(directory):
        store.remove_stale_temp_files(directory)
        gen = f"{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        names = {"vectors": f"vectors-{gen}.faiss", "titles": f"titles-{gen}.json", "papers": f"papers-{gen}.jsonl"}

        kind = choose_search(len(papers), search)
        faiss_index = _make_faiss(kind, vectors)

        # Each paper record carries the hash of its embedded text, so later builds can match
        # vectors to papers without decoding every abstract's LaTeX again.
        lines = "".join(json.dumps({**p.to_dict(), "text_sha": paper_text_hash(p)}, ensure_ascii=False) + "\n" for p in papers)
        contents = {
            # serialize_index, not write_index(path): FAISS cannot take every path Python can.
            "vectors": faiss.serialize_index(faiss_index).tobytes(),
            "titles": store.json_bytes({"ids": [p.id for p in papers], "titles": [p.title for p in papers]}),
            "papers": lines.encode("utf-8"),
        }
        try:
            for kind, data in contents.items():
                store.atomic_write_bytes(directory / names[kind], data)
        except BaseException:
            for name in names.values():  # a failed build leaves nothing of its own behind
                (directory / name).unlink(missing_ok=True)
            raise

        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "generation": gen,
            "paperlike_version": __version__,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "count": len(papers),
            "dim": int(vectors.shape[1]),
            "metric": "inner_product",
            "faiss_index": type(faiss_index).__name__,
            **({"hnsw": HNSW_PARAMS} if kind == "hnsw" else {}),
            "model": model,
            "corpus": {"source": clean_text(corpus_source), "sha256": corpus_sha256}
            | ({"file_sha256": corpus_file_sha256} if corpus_file_sha256 else {}),
            # Sizes and checksums of the bytes just written: no need to read the files back.
            "files": {
                kind: {"name": names[kind], "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for kind, data in contents.items()
            },
        }
        store.atomic_write_json(directory / MANIFEST, manifest)
        # Only now is the new generation live; older ones can go.
        for old in directory.iterdir():
            if _FILE_NAME.match(old.name) and old.name not in names.values():
                old.unlink(missing_ok=True)

        remove_stale_lexical(directory, gen)
    return manifest
