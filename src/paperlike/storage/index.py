"""Reading an index: the manifest's files, mapped and checked, as a :class:`PaperIndex`.

Layout of an index directory::

    manifest.json            what is here: format, model identity, counts, file checksums
    vectors-<gen>.faiss      FAISS IndexFlatIP over unit vectors (inner product = cosine)
    titles-<gen>.json        ids and titles only, so lookups never parse the abstracts
    papers-<gen>.jsonl       full paper records, one JSON object a line
    aliases-<gen>.json       names of records merged into other papers (only after a merge)

A build writes a new generation ``<gen>`` of data files, then replaces ``manifest.json``
atomically, then deletes older generations. A reader that reads the manifest therefore always
gets one complete, consistent set of files, even while a rebuild is running.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import IndexCorruptError
from ..records import Paper, remember_text_hash
from ..text import DECODED_KEPT_CHARS, has_markup
from . import files as store
from .aliases import Alias, parse_aliases
from .line_index import Lines
from .manifest import FILE_KINDS as _FILE_KINDS
from .manifest import corrupt as _corrupt
from .manifest import read_manifest
from .names import OPTIONAL_KINDS as _OPTIONAL_KINDS
from .names import inside
from .writer import HNSW_PARAMS

__all__ = ["PaperIndex", "load_index", "verify_index"]


@dataclass
class PaperIndex:
    """A loaded index: vectors for search plus ids and titles for lookups.

    Attributes:
        directory: Where the index lives.
        manifest: The validated manifest.
        ids: Paper ids, position ``i`` is row ``i`` of the vectors.
        titles: Paper titles, same order.
        aliases: The names of records merged into papers of the index (see :mod:`.aliases`).
    """

    directory: Path
    manifest: dict[str, Any]
    ids: list[str]
    titles: list[str]
    aliases: tuple[Alias, ...] = ()
    _flat: np.ndarray | None = field(default=None, repr=False)  # read-only view of a flat index's vectors
    _faiss: Any = field(default=None, repr=False)
    _aligned: np.ndarray | None = field(default=None, repr=False)
    _lines: Lines | None = field(default=None, repr=False)
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

    def resolve(self, paper_id: str) -> int | None:
        """Row of the paper with this exact id, or of the paper a record with this id was merged into."""
        found = self.position(paper_id)
        if found is None and self.aliases:
            into = next((a.into for a in self.aliases if a.id == paper_id), None)
            found = None if into is None else self.position(into)
        return found

    def papers(self) -> list[Paper]:
        """Full paper records (read from disk and checked against the manifest on first call)."""
        if self._papers is None:
            entry = self.manifest["files"]["papers"]
            lines = self._checked_lines()
            try:
                records = [json.loads(line) for line in lines if line]
                papers = [Paper.from_dict(r) for r in records]
                for record, paper in zip(records, papers):
                    if isinstance(record.get("text_sha"), str):
                        remember_text_hash(paper.title, paper.abstract, record["text_sha"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise _corrupt(self.directory, f"{entry['name']} is damaged ({exc.__class__.__name__})") from None
            if [p.id for p in papers] != self.ids:
                raise _corrupt(self.directory, f"{entry['name']} does not match {self.manifest['files']['titles']['name']}")
            self._papers = papers
        return self._papers

    def _checked_lines(self) -> Lines:
        """The papers file's lines, checked against the manifest once (the one path every
        record takes: ``papers``, and ``papers_at`` behind ``--why``, theme labels and the map)."""
        if self._lines is None:
            entry = self.manifest["files"]["papers"]
            if self._papers_file is None:
                raise _corrupt(self.directory, f"{entry['name']} is missing")
            # Opened when the index was loaded: a rebuild may delete the file since, but on POSIX
            # an open file stays readable, so this generation's papers are always the ones read.
            verifier = store.Verifier(self.directory)
            data, problem = verifier.open_file(self._papers_file, entry["name"], entry["bytes"], entry["sha256"])
            if problem:
                raise _corrupt(self.directory, problem)
            verifier.save()
            # Lines found through an array of line starts, not a split copy of the file (3 GB at 1M papers).
            self._lines = Lines(data)
        return self._lines

    def papers_at(self, positions: Sequence[int]) -> list[Paper]:
        """Some paper records, parsing only their lines of the papers file (fast on big indexes)."""
        if self._papers is not None:
            return [self._papers[p] for p in positions]
        entry = self.manifest["files"]["papers"]
        lines = self._checked_lines()
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

    def decode_texts(self, budget: int = DECODED_KEPT_CHARS // 2) -> int:
        """Decode the LaTeX of every paper whose title or abstract has some, so that no
        explanation decodes it on a request (:func:`~paperlike.text.plain_text` keeps decoded
        texts process-wide; about 3% of ACM-CR's papers have some, 5 ms each). Stops once the
        decoded texts hold ``budget`` characters, so that they stay kept. Returns how many
        papers it decoded."""
        found = chars = 0
        for start in range(0, self.count, 4096):
            for paper in self.papers_at(range(start, min(start + 4096, self.count))):
                if has_markup(paper.title) or has_markup(paper.abstract):
                    chars += len(paper.title) + len(paper.abstract) + len(paper.text)
                    if chars > budget:
                        return found
                    found += 1
        return found

    def positions_matching(self, pattern: re.Pattern[bytes]) -> list[int]:
        """Positions of the papers whose stored record (its JSON line) matches ``pattern``.

        A cheap pre-filter (one pass over the checked papers file, nothing parsed) so that a
        lookup by DOI or arXiv id parses a few records instead of all of them; the caller checks
        the records it gets with :meth:`papers_at`.
        """
        if self._papers is not None:
            return [i for i, p in enumerate(self._papers) if pattern.search(json.dumps(p.to_dict(), ensure_ascii=False).encode())]
        lines = self._checked_lines()  # checks the file against the manifest and splits it, once
        return [i for i in range(min(len(lines), self.count)) if pattern.search(lines[i])]

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

    def vectors_at(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of some papers, ``(len(positions), dim)``."""
        rows = np.asarray(positions, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dim), np.float32)
        if self._flat is not None:
            return np.array(self._flat[rows])
        return self.faiss_index.reconstruct_batch(rows)

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


def _open_papers(directory: Path, entry: dict[str, Any]) -> BinaryIO:
    try:
        return store.open_regular(inside(directory, entry["name"]))
    except FileNotFoundError:
        raise _corrupt(directory, f"{entry['name']} is missing") from None
    except store.NotARegularFile as exc:
        raise _corrupt(directory, str(exc)) from None


def _ids_and_titles(directory: Path, manifest: dict[str, Any], data: Any) -> tuple[list[str], list[str]]:
    name = manifest["files"]["titles"]["name"]
    try:
        titles = json.loads(data[:].decode("utf-8"))
    except ValueError as exc:
        raise _corrupt(directory, f"{name} is unreadable ({exc.__class__.__name__})") from None
    ids, names = (titles.get("ids"), titles.get("titles")) if isinstance(titles, dict) else (None, None)
    count = manifest["count"]
    if not (
        isinstance(ids, list)
        and isinstance(names, list)
        and len(ids) == len(names) == count
        and set(map(type, ids)) <= {str}  # (C-speed checks: 96k titles in a few ms)
        and set(map(type, names)) <= {str}
    ):
        raise _corrupt(directory, f"{name} does not hold {count} ids and titles")
    return ids, names


def _deserialize(directory: Path, manifest: dict[str, Any], data: Any) -> Any:
    """A non-flat FAISS index (HNSW) from its checked bytes."""
    import faiss

    name, count, dim = manifest["files"]["vectors"]["name"], manifest["count"], manifest["dim"]
    try:
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise _corrupt(directory, f"{name} cannot be read ({first[:120]})") from None
    if hasattr(index, "hnsw"):
        ef = manifest.get("hnsw", HNSW_PARAMS).get("ef_search", HNSW_PARAMS["ef_search"])
        index.hnsw.efSearch = ef if isinstance(ef, int) and 0 < ef <= 100_000 else HNSW_PARAMS["ef_search"]
    if index.ntotal != count or index.d != dim:
        raise _corrupt(directory, f"{name} holds {index.ntotal} vectors of dim {index.d}, manifest says {count} of dim {dim}")
    return index


def _open(directory: Path, manifest: dict[str, Any]) -> PaperIndex:
    files = manifest["files"]
    papers_file = _open_papers(directory, files["papers"])
    # Files are mapped, not read: a 96k-paper index answers without copying its vectors.
    verifier = store.Verifier(directory)
    mapped = {}
    for kind in ("titles", "vectors"):
        entry = files[kind]
        mapped[kind], problem = verifier.open(entry["name"], entry["bytes"], entry["sha256"])
        if problem:
            papers_file.close()
            raise _corrupt(directory, problem)
    ids, names = _ids_and_titles(directory, manifest, mapped["titles"])
    try:
        aliases = _aliases(directory, files.get("aliases"), verifier, ids)
    except IndexCorruptError:
        papers_file.close()
        raise
    verifier.save()
    flat = faiss_index = None
    if manifest.get("faiss_index", "IndexFlatIP") == "IndexFlatIP":
        flat = _flat_view(mapped["vectors"], manifest["count"], manifest["dim"])
    if flat is None:
        faiss_index = _deserialize(directory, manifest, mapped["vectors"])
    return PaperIndex(directory, manifest, ids, names, aliases, _flat=flat, _faiss=faiss_index, _papers_file=papers_file)


def _aliases(directory: Path, entry: dict[str, Any] | None, verifier: store.Verifier, ids: list[str]) -> tuple[Alias, ...]:
    """The checked aliases table (none unless the manifest lists one)."""
    if entry is None:
        return ()
    data, problem = verifier.read(entry["name"], entry["bytes"], entry["sha256"])
    if problem or data is None:
        raise _corrupt(directory, problem or f"{entry['name']} is unreadable")
    try:
        return tuple(parse_aliases(data, set(ids)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _corrupt(directory, f"{entry['name']} is damaged ({str(exc)[:120]})") from None


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
    verifier = store.Verifier(directory, always_hash=True)
    problems = []
    for kind in (*_FILE_KINDS, *(k for k in _OPTIONAL_KINDS if k in manifest["files"])):
        entry = manifest["files"][kind]
        problem = verifier.open(entry["name"], entry["bytes"], entry["sha256"])[1]
        if problem:
            problems.append(problem)
    if not problems:
        try:
            _open(directory, manifest).papers()
        except IndexCorruptError as exc:
            problems.append(str(exc))
    return problems
