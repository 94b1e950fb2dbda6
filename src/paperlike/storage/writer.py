"""Writing an index: a new generation of files, then the manifest switch, then cleanup."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import IndexBusyError, ModelError, QueryError
from ..records import Paper, paper_text_hash
from ..text import clean_text
from . import files as store
from .aliases import Alias, aliases_bytes, prune_aliases
from .generations import claim_folder, live_generation, record_generation, retire
from .manifest import FORMAT, FORMAT_VERSION, MANIFEST
from .names import data_file_names

__all__ = ["write_index", "write_derived", "choose_search", "ANN_THRESHOLD", "HNSW_PARAMS", "SEARCH_KINDS"]


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


def _make_faiss(kind: str, vectors: np.ndarray) -> Any:
    import faiss

    index: Any
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_PARAMS["m"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_PARAMS["ef_construction"]
        index.hnsw.efSearch = HNSW_PARAMS["ef_search"]
    else:
        index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _check_vectors(papers: Sequence[Paper], vectors: np.ndarray, model: dict[str, Any]) -> None:
    if vectors.shape != (len(papers), model["dim"]):
        raise ModelError(f"vectors of shape {vectors.shape} do not match {len(papers)} papers of dim {model['dim']}")
    bad = ~np.isfinite(vectors).all(axis=1) if len(vectors) else np.zeros(0, bool)
    if bad.any():
        first = papers[int(np.argmax(bad))].id
        raise ModelError(
            f"the model returned {int(bad.sum())} vector(s) with NaN or infinite values (first: paper '{first}'); "
            "nothing was written; check the model with: paperlike model info"
        )


# Paper records joined into one write of the papers file.
_RECORDS_PER_WRITE = 4096

Writer = Callable[[Any], object]  # fills a file: gets a binary file to write() to


def _writers(papers: Sequence[Paper], faiss_index: Any, aliases: Sequence[Alias]) -> dict[str, Writer]:
    """What writes each data file, a piece at a time: none of them is ever whole in memory (at
    1M papers the vectors are 1.5 GB, the papers file as much again)."""
    import faiss

    def vectors(fh: Any) -> None:
        # Through a callback, not serialize_index: no copy of the whole file in memory, and
        # FAISS never has to open a path (it cannot take every path Python can).
        writer = faiss.PyCallbackIOWriter(fh.write)  # type: ignore[attr-defined]  # (not in the stubs)
        faiss.write_index(faiss_index, writer)
        del writer  # flushes whatever it still holds

    def records(fh: Any) -> None:
        # Each paper record carries the hash of its embedded text, so later builds can match
        # vectors to papers without decoding every abstract's LaTeX again.
        for start in range(0, len(papers), _RECORDS_PER_WRITE):
            chunk = papers[start : start + _RECORDS_PER_WRITE]
            fh.write(
                "".join(
                    json.dumps({**p.to_dict(), "text_sha": paper_text_hash(p)}, ensure_ascii=False) + "\n" for p in chunk
                ).encode("utf-8")
            )

    def titles(fh: Any) -> None:
        fh.write(store.json_bytes({"ids": [p.id for p in papers], "titles": [p.title for p in papers]}))

    writers: dict[str, Writer] = {"vectors": vectors, "titles": titles, "papers": records}
    if aliases:  # (an index without merged records has no aliases file)
        writers["aliases"] = lambda fh: fh.write(aliases_bytes(aliases))
    return writers


def _write_files(directory: Path, names: dict[str, str], writers: dict[str, Writer]) -> dict[str, dict[str, Any]]:
    """Write each data file; returns the manifest's ``files`` entries (name, bytes, sha256),
    counted as the bytes went to disk."""
    files = {}
    try:
        for kind, write in writers.items():
            size, sha256 = store.atomic_write_stream(directory / names[kind], write)
            files[kind] = {"name": names[kind], "bytes": size, "sha256": sha256}
    except BaseException:
        for name in names.values():  # a failed build leaves nothing of its own behind
            (directory / name).unlink(missing_ok=True)
        raise
    return files


def _new_generation(live: str | None) -> str:
    while True:
        gen = f"{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        if gen != live:
            return gen


def _moved(directory: Path, base: str, live: str | None) -> IndexBusyError:
    return IndexBusyError(
        f"index in {directory} was changed by another writer while this command ran (generation {base} is now "
        f"{live}); nothing was written; run the command again"
    )


def write_index(
    directory: str | Path,
    papers: Sequence[Paper],
    vectors: np.ndarray,
    model: dict[str, Any],
    corpus_source: str,
    corpus_sha256: str,
    corpus_file_sha256: str | None = None,
    search: str = "auto",
    *,
    base_generation: str | None = None,
    edited: bool = False,
    force: bool = False,
    aliases: Sequence[Alias] = (),
) -> dict[str, Any]:
    """Write a new generation of index files, then switch the manifest to it.

    ``search`` picks the FAISS index: ``exact`` (flat), ``hnsw`` (approximate), or ``auto``
    (exact below :data:`ANN_THRESHOLD` papers, HNSW from there on).

    Takes the directory's writer lock (re-entrant: a caller that read the index under the lock
    keeps it); records the new generation before writing its files; after the switch deletes
    the files of older generations (only those the generation record lists).

    Args:
        base_generation: The generation the caller read and changed (add, remove); when the
            index is no longer at it, nothing is written.
        edited: The papers are the index's papers changed by add or remove, not a corpus file
            as it is (the default index is then never rebuilt from the bundled papers over them).
        force: Write into a non-empty folder that holds no index (see :func:`claim_folder`).
        aliases: The names of merged records (see :mod:`.aliases`); those that no longer lead to
            one of ``papers``, or that are a paper's id again, are dropped.

    Returns:
        The manifest written.

    Raises:
        ModelError: The vectors do not fit the papers, or some are NaN or infinite.
        NotAnIndexError: The folder holds other files and no index, and ``force`` is off.
        IndexBusyError: Another writer held the lock too long, or the index moved past ``base_generation``.
    """
    directory = Path(directory)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    _check_vectors(papers, vectors, model)
    claim_folder(directory, force)
    with store.writer_lock(directory):
        live = live_generation(directory)
        if base_generation is not None and live != base_generation:
            raise _moved(directory, base_generation, live)
        gen = _new_generation(live)
        record_generation(directory, gen, live)
        kind = choose_search(len(papers), search)
        faiss_index = _make_faiss(kind, vectors)
        names = data_file_names(gen)
        files = _write_files(directory, names, _writers(papers, faiss_index, prune_aliases(aliases, papers)))
        corpus = {"source": clean_text(corpus_source), "sha256": corpus_sha256}
        corpus |= {"file_sha256": corpus_file_sha256} if corpus_file_sha256 else {}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "generation": gen,
            "parent": live,
            "paperlike_version": __version__,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "count": len(papers),
            "dim": int(vectors.shape[1]),
            "metric": "inner_product",
            "faiss_index": type(faiss_index).__name__,
            **({"hnsw": HNSW_PARAMS} if kind == "hnsw" else {}),
            "model": model,
            "corpus": corpus | ({"edited": True} if edited else {}),
            # Sizes and checksums of the bytes just written: no need to read the files back.
            "files": files,
        }
        store.atomic_write_json(directory / MANIFEST, manifest)
        # Only now is the new generation live; older ones can go.
        retire(directory, gen)
    return manifest


def write_derived(directory: str | Path, generation: str, write: Callable[[], object]) -> bool:
    """The one lazy path for the files derived from a generation (the BM25 / TF-IDF arrays,
    theme sets), which the first query that needs them computes: ``write`` runs under the writer
    lock, taken only if it is free now, and only while ``generation`` is still the live one.

    So every file of an index folder is written under its writer lock (by :func:`write_index`
    or here), a derived file is never written for a generation a writer has just retired, and a
    query never waits for a build: with the lock busy, or the index removed or replaced, nothing
    is written and the caller answers from what it computed (the next query writes it).

    Returns:
        Whether ``write`` ran.

    Raises:
        OSError: The folder cannot be written (a read-only mount); the caller logs it and goes on.
    """
    directory = Path(directory)
    if not (directory / MANIFEST).is_file():  # a removed index stays removed: no lock file made
        return False
    try:
        with store.writer_lock(directory, timeout=0):
            if live_generation(directory) != generation:
                return False
            write()
            return True
    except IndexBusyError:
        return False
