"""The on-disk index: FAISS vectors, paper records and a manifest that ties them together.

Layout of an index directory::

    manifest.json            what is here: format, model identity, counts, file checksums
    vectors-<gen>.faiss      FAISS IndexFlatIP over unit vectors (inner product = cosine)
    titles-<gen>.json        ids and titles only, so lookups never parse the abstracts
    papers-<gen>.jsonl       full paper records, one JSON object a line

A build writes a new generation ``<gen>`` of data files, then replaces ``manifest.json``
atomically, then deletes older generations. A reader that reads the manifest therefore always
gets one complete, consistent set of files, even while a rebuild is running.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import store
from ._version import __version__
from .corpus import Corpus, Paper, clean_text
from .embed import Embedder
from .errors import IndexCorruptError, IndexMissingError, ModelError, ModelMismatchError, QueryError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "PaperIndex",
    "BuildReport",
    "build_index",
    "embed_texts",
    "write_index",
    "read_manifest",
    "load_index",
    "verify_index",
    "check_model",
]

FORMAT = "paperlike-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_FILE_KINDS = ("vectors", "titles", "papers")
# Exactly the names write_index makes; only such files are ever deleted from an index directory.
_FILE_NAME = re.compile(r"^(vectors-\d{14}-[0-9a-f]{6}\.faiss|titles-\d{14}-[0-9a-f]{6}\.json|papers-\d{14}-[0-9a-f]{6}\.jsonl)$")


def _rebuild_hint(directory: Path) -> str:
    return f"rebuild it with: paperlike index build --index-dir {directory}"


def _corrupt(directory: Path, what: str) -> IndexCorruptError:
    return IndexCorruptError(f"index in {directory}: {what}; {_rebuild_hint(directory)}")


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """Read and validate ``manifest.json`` (no data file is opened).

    Raises:
        IndexMissingError: No directory or no manifest.
        IndexCorruptError: The manifest is unreadable or not a paperlike manifest of a known version.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        if directory.is_dir() and any(directory.glob("vectors-*.faiss")):
            raise _corrupt(directory, f"{MANIFEST} is missing")
        raise IndexMissingError(
            f"no index in {directory}; build one with: paperlike index build --index-dir {directory} [--corpus FILE]"
        )
    try:
        manifest = store.read_json(path)
    except (OSError, ValueError) as exc:
        raise _corrupt(directory, f"{MANIFEST} is unreadable ({exc.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _corrupt(directory, f"{MANIFEST} is not a paperlike manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise IndexCorruptError(
            f"index in {directory} has format version {version!r}, this paperlike reads up to {FORMAT_VERSION}; "
            f"upgrade paperlike or {_rebuild_hint(directory)}"
        )
    if version < 1:
        raise _corrupt(directory, f"{MANIFEST} has an invalid format version {version!r}")
    problems = []
    for key, kind in (("count", int), ("dim", int), ("model", dict), ("files", dict), ("generation", str), ("corpus", dict)):
        value = manifest.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value < (1 if key == "dim" else 0)):
            problems.append(key)
    model = manifest.get("model") if isinstance(manifest.get("model"), dict) else {}
    if not isinstance(model.get("name"), str):
        problems.append("model.name")
    corpus = manifest.get("corpus") if isinstance(manifest.get("corpus"), dict) else {}
    if not all(isinstance(corpus.get(k), str) for k in ("source", "sha256")):
        problems.append("corpus.source")
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    for kind in _FILE_KINDS:
        entry = files.get(kind)
        # File names come from a file a user may have been sent: never let them point elsewhere.
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and _FILE_NAME.match(entry["name"])
            and isinstance(entry.get("bytes"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            problems.append(f"files.{kind}")
    if problems:
        raise _corrupt(directory, f"{MANIFEST} has missing or invalid fields: {', '.join(problems)}")
    return manifest


@dataclass
class PaperIndex:
    """A loaded index: vectors for search plus ids and titles for lookups.

    Attributes:
        directory: Where the index lives.
        manifest: The validated manifest.
        ids: Paper ids, position ``i`` is row ``i`` of the vectors.
        titles: Paper titles, same order.
    """

    directory: Path
    manifest: dict[str, Any]
    ids: list[str]
    titles: list[str]
    _flat: np.ndarray | None = field(default=None, repr=False)  # read-only view of a flat index's vectors
    _faiss: Any = field(default=None, repr=False)
    _aligned: np.ndarray | None = field(default=None, repr=False)
    _lines: list[bytes] | None = field(default=None, repr=False)
    _lookups: int = field(default=0, repr=False)
    _papers_file: Any = field(default=None, repr=False)
    _papers: list[Paper] | None = field(default=None, repr=False)
    _positions: dict[str, int] | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    @property
    def model(self) -> dict[str, Any]:
        """Identity of the model that embedded the papers."""
        return self.manifest["model"]

    def position(self, paper_id: str) -> int | None:
        """Row of the paper with this exact id, or None."""
        if self._positions is None:
            self._lookups += 1
            if self._lookups <= 4:
                # A one-off lookup (the usual CLI call) scans the list in C instead of building
                # a dict of every id; repeated lookups get the dict.
                try:
                    return self.ids.index(paper_id)
                except ValueError:
                    return None
            self._positions = {pid: i for i, pid in enumerate(self.ids)}
        return self._positions.get(paper_id)

    def papers(self) -> list[Paper]:
        """Full paper records (read from disk and checked against the manifest on first call)."""
        if self._papers is None:
            entry = self.manifest["files"]["papers"]
            data, problem = _check_bytes(self._read_papers_file(), entry)
            if problem:
                raise _corrupt(self.directory, problem)
            from .cache import remember_text_hash

            try:
                # split("\n"), not splitlines(): U+2028 and friends may sit inside JSON strings.
                records = [json.loads(line) for line in data.decode("utf-8").split("\n") if line]
                papers = [Paper.from_dict(r) for r in records]
                for record, paper in zip(records, papers):
                    if isinstance(record.get("text_sha"), str):
                        remember_text_hash(paper.title, paper.abstract, record["text_sha"])
            except (ValueError, KeyError, TypeError) as exc:
                raise _corrupt(self.directory, f"{entry['name']} is damaged ({exc.__class__.__name__})") from None
            if [p.id for p in papers] != self.ids:
                raise _corrupt(self.directory, f"{entry['name']} does not match {self.manifest['files']['titles']['name']}")
            self._papers = papers
        return self._papers

    def papers_at(self, positions: Sequence[int]) -> list[Paper]:
        """Some paper records, parsing only their lines of the papers file (fast on big indexes)."""
        if self._papers is not None:
            return [self._papers[p] for p in positions]
        entry = self.manifest["files"]["papers"]
        if self._lines is None:  # checked and split once; later calls (a --why query makes two) reuse it
            if self._papers_file is None:
                raise _corrupt(self.directory, f"{entry['name']} is missing")
            verifier = store.Verifier(self.directory)
            data, problem = verifier.open_file(self._papers_file, entry["name"], entry["bytes"], entry["sha256"])
            if problem:
                raise _corrupt(self.directory, problem)
            verifier.save()
            # split(b"\n"), not splitlines(): U+2028 and friends may sit inside JSON strings.
            self._lines = data[:].split(b"\n")
        lines = self._lines
        out = []
        for p in positions:
            try:
                paper = Paper.from_dict(json.loads(lines[int(p)].decode("utf-8")))
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise _corrupt(self.directory, f"{entry['name']} is damaged ({exc.__class__.__name__})") from None
            if paper.id != self.ids[int(p)]:
                raise _corrupt(self.directory, f"{entry['name']} does not match {self.manifest['files']['titles']['name']}")
            out.append(paper)
        return out

    def _read_papers_file(self) -> bytes | None:
        # Opened when the index was loaded: a rebuild may delete the file since, but on POSIX an
        # open file stays readable, so this generation's papers are always the ones read.
        if self._papers_file is None:
            return None
        with self._papers_file as fh:
            fh.seek(0)
            return fh.read()

    @property
    def exact(self) -> bool:
        """True when searches are exact (a flat index); False for an approximate (HNSW) index."""
        return self.manifest.get("faiss_index", "IndexFlatIP") == "IndexFlatIP"

    @property
    def faiss_index(self):
        """The FAISS index (for a flat index, made from the mapped vectors on first use)."""
        if self._faiss is None:
            import faiss

            index = faiss.IndexFlatIP(self.dim)
            index.add(np.array(self.all_vectors()))
            self._faiss = index
        return self._faiss

    def vectors_at(self, positions: Sequence[int]) -> np.ndarray:
        """The stored vectors of some papers, ``(len(positions), dim)``."""
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) == 0:
            return np.zeros((0, self.dim), np.float32)
        if self._flat is not None:
            return np.array(self._flat[positions])
        return self.faiss_index.reconstruct_batch(positions)

    def all_vectors(self) -> np.ndarray:
        """All stored vectors, ``(count, dim)`` float32, row i = paper i (read-only)."""
        if self._aligned is None:
            # One aligned copy: the mapped vectors sit at an odd offset of the FAISS file, and
            # NumPy's BLAS path (fast, and the same result on every run) needs aligned rows.
            vectors = np.array(self._flat) if self._flat is not None else self.faiss_index.reconstruct_n(0, self.count)
            vectors.flags.writeable = False
            self._aligned = vectors
        return self._aligned

    def vector(self, position: int) -> np.ndarray:
        """The stored unit vector of the paper at ``position``."""
        if self._flat is not None:
            return np.array(self._flat[int(position)])
        return self.faiss_index.reconstruct(int(position))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product search.

        Args:
            queries: ``(m, dim)`` float32 array of unit vectors.
            k: Neighbours per query; capped at the index size.

        Returns:
            ``(scores, positions)``, both ``(m, min(k, count))``, best first.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = min(int(k), self.count)
        if k <= 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        return self.faiss_index.search(queries, k)


def _file_problem(directory: Path, entry: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """A data file's bytes if its size and SHA-256 match the manifest, else what is wrong."""
    try:
        data = (directory / entry["name"]).read_bytes()
    except FileNotFoundError:
        data = None
    return _check_bytes(data, entry)


def _check_bytes(data: bytes | None, entry: dict[str, Any]) -> tuple[bytes | None, str | None]:
    if data is None:
        return None, f"{entry['name']} is missing"
    if len(data) != entry["bytes"]:
        return None, f"{entry['name']} is truncated or altered ({len(data)} bytes, expected {entry['bytes']})"
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        return None, f"{entry['name']} is damaged (checksum mismatch)"
    return data, None


def _read_checked(directory: Path, entry: dict[str, Any]) -> bytes:
    """A data file's bytes, after checking its size and SHA-256 against the manifest.

    Checking the checksum on every load costs about 0.1 s per 100 MB here and means a bit-flipped
    file is an error, never a wrong answer.
    """
    data, problem = _file_problem(directory, entry)
    if problem:
        raise _corrupt(directory, problem)
    return data


def load_index(directory: str | Path) -> PaperIndex:
    """Open the index in ``directory``, checking each file it reads against the manifest.

    Raises:
        IndexMissingError: There is no index.
        IndexCorruptError: A file is missing, truncated, altered, unreadable or inconsistent.
    """
    directory = Path(directory)
    for attempt in range(3):
        manifest = read_manifest(directory)
        try:
            return _open(directory, manifest)
        except IndexCorruptError:
            # A rebuild may have replaced the manifest and removed our generation meanwhile.
            if attempt < 2 and read_manifest(directory).get("generation") != manifest["generation"]:
                continue
            raise
    raise AssertionError("unreachable")


def _flat_view(data, count: int, dim: int) -> np.ndarray | None:
    """The vectors inside a serialised IndexFlatIP, as a read-only view (no copy), or None.

    The format ends with the vectors: ``... <uint64 count*dim> <count*dim float32>``, after a
    header that starts with the four bytes ``IxFI``; both are checked before trusting it.
    """
    nbytes = count * dim * 4
    start = len(data) - nbytes
    if data[:4] != b"IxFI" or start < 12 or int.from_bytes(data[start - 8 : start], "little") != count * dim:
        return None
    return np.frombuffer(data, dtype=np.float32, count=count * dim, offset=start).reshape(count, dim)


def _open(directory: Path, manifest: dict[str, Any]) -> PaperIndex:
    files = manifest["files"]
    try:
        papers_file = open(directory / files["papers"]["name"], "rb")
    except FileNotFoundError:
        raise _corrupt(directory, f"{files['papers']['name']} is missing") from None
    # Files are mapped, not read: a 96k-paper index answers without copying its vectors.
    verifier = store.Verifier(directory)
    mapped = {}
    for kind in ("titles", "vectors"):
        entry = files[kind]
        mapped[kind], problem = verifier.open(entry["name"], entry["bytes"], entry["sha256"])
        if problem:
            raise _corrupt(directory, problem)
    verifier.save()
    try:
        titles = json.loads(mapped["titles"][:].decode("utf-8"))
    except ValueError as exc:
        raise _corrupt(directory, f"{files['titles']['name']} is unreadable ({exc.__class__.__name__})") from None
    ids, names = (titles.get("ids"), titles.get("titles")) if isinstance(titles, dict) else (None, None)
    count = manifest["count"]
    if not (
        isinstance(ids, list)
        and isinstance(names, list)
        and len(ids) == len(names) == count
        and set(map(type, ids)) <= {str}  # (C-speed checks: 96k titles in a few ms)
        and set(map(type, names)) <= {str}
    ):
        raise _corrupt(directory, f"{files['titles']['name']} does not hold {count} ids and titles")
    vectors = mapped["vectors"]
    flat = _flat_view(vectors, count, manifest["dim"]) if manifest.get("faiss_index", "IndexFlatIP") == "IndexFlatIP" else None
    faiss_index = None
    if flat is None:
        import faiss

        try:
            faiss_index = faiss.deserialize_index(np.frombuffer(vectors, dtype=np.uint8))
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
            raise _corrupt(directory, f"{files['vectors']['name']} cannot be read ({first[:120]})") from None
        if hasattr(faiss_index, "hnsw"):
            faiss_index.hnsw.efSearch = int(manifest.get("hnsw", HNSW_PARAMS).get("ef_search", HNSW_PARAMS["ef_search"]))
        if faiss_index.ntotal != count or faiss_index.d != manifest["dim"]:
            raise _corrupt(
                directory,
                f"{files['vectors']['name']} holds {faiss_index.ntotal} vectors of dim {faiss_index.d}, "
                f"manifest says {count} of dim {manifest['dim']}",
            )
    return PaperIndex(directory, manifest, ids, names, _flat=flat, _faiss=faiss_index, _papers_file=papers_file)


def verify_index(directory: str | Path) -> list[str]:
    """Check every file of the index against the manifest's sizes and SHA-256 checksums.

    Returns:
        Problems found, one line each; empty when the index is sound.

    Raises:
        IndexMissingError: There is no index.
        IndexCorruptError: The manifest itself is damaged.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    problems = [p for kind in _FILE_KINDS if (p := _file_problem(directory, manifest["files"][kind])[1])]
    if not problems:
        try:
            _open(directory, manifest).papers()
        except IndexCorruptError as exc:
            problems.append(str(exc))
    return problems


def check_model(index_model: dict[str, Any], embedder: Embedder, directory: Path) -> None:
    """Raise unless ``embedder`` is the model the index was built with.

    Raises:
        ModelMismatchError: Different model name, version, dimension or weights.
    """
    current = embedder.identity()
    keys = ("name", "dim", "weights_sha256", "version")
    if any(index_model.get(k) != current.get(k) for k in keys):
        def describe(m: dict[str, Any]) -> str:
            parts = [f"version {m.get('version')}", f"dim {m.get('dim')}"]
            if m.get("weights_sha256"):
                parts.append(f"weights {str(m['weights_sha256'])[:12]}")
            return f"{m.get('name')} ({', '.join(parts)})"

        raise ModelMismatchError(
            f"index in {directory} was built with {describe(index_model)} but the model in use is "
            f"{describe(current)}; rebuild with: paperlike index build --index-dir {directory} --model {current.get('name')}"
        )


def embed_texts(
    texts: Sequence[str],
    embedder: Embedder,
    *,
    batch_size: int = 32,
    progress: bool = False,
    desc: str = "Embedding",
    on_batch: Callable[[list[int], np.ndarray], None] | None = None,
) -> np.ndarray:
    """Embed many texts in batches of similar length, with an optional progress bar on stderr
    (papers/s and time left).

    Args:
        on_batch: Called after each batch with the batch's row numbers and vectors (checkpoints).

    Returns:
        ``(len(texts), embedder.dim)`` float32 array, rows in input order.

    Raises:
        ModelError: The embedder returned the wrong shape or non-finite values.
    """
    from tqdm.auto import tqdm

    n = len(texts)
    out = np.empty((n, embedder.dim), dtype=np.float32)
    # Longest first: batches of similar length waste less time on padding.
    order = sorted(range(n), key=lambda i: (-len(texts[i]), i))
    with tqdm(total=n, unit="paper", desc=desc, disable=not progress, file=sys.stderr, dynamic_ncols=True) as bar:
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            vectors = np.asarray(embedder.embed_batch([texts[i] for i in rows]), dtype=np.float32)
            if vectors.shape != (len(rows), embedder.dim) or not np.isfinite(vectors).all():
                raise ModelError(
                    f"model {embedder.name} returned an array of shape {vectors.shape} (or non-finite values) "
                    f"for {len(rows)} texts; expected ({len(rows)}, {embedder.dim})"
                )
            out[rows] = vectors
            if on_batch is not None:
                on_batch(rows, vectors)
            bar.update(len(rows))
    return out


@dataclass
class BuildReport:
    """What a build did.

    Attributes:
        directory: The index directory written.
        count: Papers indexed.
        seconds: Wall time of the whole build.
        embed_seconds: Wall time spent embedding.
        notes: Notes from the corpus reader (e.g. empty abstracts).
        embedded: Papers whose text was embedded by this build.
        reused: Papers whose vector came from the index or a checkpoint of an interrupted build.
    """

    directory: Path
    count: int
    seconds: float
    embed_seconds: float
    notes: list[str]
    embedded: int = 0
    reused: int = 0

    @property
    def papers_per_second(self) -> float:
        """Embedding throughput of this build (papers embedded per second of embedding)."""
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else float("inf")


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
        gen = f"{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        names = {"vectors": f"vectors-{gen}.faiss", "titles": f"titles-{gen}.json", "papers": f"papers-{gen}.jsonl"}

        kind = choose_search(len(papers), search)
        faiss_index = _make_faiss(kind, vectors)
        from .cache import paper_text_hash

        # Each paper record carries the hash of its embedded text, so later builds can match
        # vectors to papers without decoding every abstract's LaTeX again.
        lines = "".join(
            json.dumps({**p.to_dict(), "text_sha": paper_text_hash(p)}, ensure_ascii=False) + "\n" for p in papers
        )
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
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
        from .lexical import remove_stale_lexical

        remove_stale_lexical(directory, gen)
    return manifest


def build_index(
    corpus: Corpus,
    embedder: Embedder,
    directory: str | Path,
    *,
    batch_size: int = 32,
    progress: bool = False,
    reuse: bool = True,
    search: str = "auto",
) -> BuildReport:
    """Embed a corpus and write its index to ``directory`` (replacing any index there).

    Texts already embedded by the same model (in the index there, or in checkpoints of an
    interrupted build) are not embedded again; each new batch is checkpointed as it is computed.

    Args:
        corpus: The papers.
        embedder: The model.
        directory: Index directory (created if needed).
        batch_size: Texts per embedding call (and per checkpoint).
        progress: Show a progress bar on stderr.
        reuse: Use vectors already on disk; False embeds every paper again.
        search: ``auto``, ``exact`` or ``hnsw`` (see :func:`write_index`).

    Returns:
        A :class:`BuildReport`.
    """
    from .cache import EmbeddingCache, paper_text_hash

    started = time.perf_counter()
    model = embedder.identity()
    cache = EmbeddingCache(directory, model)
    known = cache.known() if reuse else {}
    hashes = [paper_text_hash(p) for p in corpus.papers]
    todo = sorted({h: i for i, h in reversed(list(enumerate(hashes))) if h not in known}.values())
    embed_started = time.perf_counter()
    fresh = embed_texts(
        [corpus.papers[i].text for i in todo],
        embedder,
        batch_size=batch_size,
        progress=progress and bool(todo),
        on_batch=lambda rows, vecs: cache.checkpoint([hashes[todo[r]] for r in rows], vecs),
    )
    embed_seconds = time.perf_counter() - embed_started
    known.update(zip((hashes[i] for i in todo), fresh))
    vectors = np.stack([known[h] for h in hashes]) if hashes else np.zeros((0, embedder.dim), np.float32)
    write_index(directory, corpus.papers, vectors, model, corpus.source, corpus.sha256(), corpus.file_sha256, search)
    cache.clear()
    return BuildReport(
        Path(directory), len(corpus), time.perf_counter() - started, embed_seconds, list(corpus.notes),
        embedded=len(todo), reused=len(corpus) - len(todo),
    )
