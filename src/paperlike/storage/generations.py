"""Which files in a folder are paperlike's: the generation record, cleanup, and claiming a folder.

``.paperlike-generations.json`` lists every generation a writer has started in the folder and
not yet cleaned up. A writer records its generation *before* it writes a single file of it, so
the files of a writer killed half-way are still known to be paperlike's; after the switch, the
files of every other recorded generation are deleted (data files, the BM25 folder, and the temp
files of those names) and the record keeps only the live one. Nothing is ever deleted because its
name merely looks like one of paperlike's: a file of the user's called ``vectors-<x>.faiss`` is
never touched, and links are removed as links, never followed.

A build refuses a folder that holds other files and no paperlike index unless forced; even then
only paperlike's own files are written or replaced there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import IndexCorruptError, NotAnIndexError, PaperlikeError
from ..settings import usable_path
from . import files as store
from .manifest import FILE_NAME, MANIFEST, read_manifest
from .manifest import FORMAT as MANIFEST_FORMAT
from .names import CHECKPOINT_DIR, GENERATION, LOCK, RANK_CACHE_DIR, TMP_PREFIX, data_file_names, lexical_name

__all__ = ["RECORD", "read_record", "record_generation", "retire", "claim_folder", "live_generation"]


RECORD = ".paperlike-generations.json"


_FORMAT = "paperlike-generations"


# Files paperlike writes by atomic replacement that belong to no generation (their temp files
# are paperlike's too), and the other names it keeps in an index folder.
_REPLACED = (MANIFEST, store.VERIFIED, RECORD)
_FIXED = (*_REPLACED, LOCK, CHECKPOINT_DIR, RANK_CACHE_DIR)


def _damaged(directory: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"index in {directory}: {RECORD} is damaged ({why}); delete {directory / RECORD} "
        "(paperlike then cleans up only the files its manifest names)"
    )


def read_record(directory: Path) -> list[str] | None:
    """The recorded generations, or None when the folder has no record.

    Raises:
        IndexCorruptError: The record is unreadable or lists a value that is not a generation.
    """
    path = Path(directory) / RECORD
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise _damaged(directory, "not a regular file")
    try:
        data = store.read_json(path)
    except (OSError, ValueError) as exc:
        raise _damaged(directory, exc.__class__.__name__) from None
    generations = data.get("generations") if isinstance(data, dict) and data.get("format") == _FORMAT else None
    if not isinstance(generations, list):
        raise _damaged(directory, "not a generation record")
    bad = [g for g in generations if not (isinstance(g, str) and GENERATION.fullmatch(g))]
    if bad:
        raise _damaged(directory, f"invalid generation {str(bad[0])[:40]!r}")
    return list(dict.fromkeys(generations))


def _write_record(directory: Path, generations: list[str]) -> None:
    store.atomic_write_json(directory / RECORD, {"format": _FORMAT, "format_version": 1, "generations": generations})


def live_generation(directory: Path) -> str | None:
    """The generation the folder's manifest names, or None (no manifest, or a damaged one)."""
    try:
        return read_manifest(directory)["generation"]
    except (PaperlikeError, OSError):  # missing or damaged: a build replaces it
        return None


def record_generation(directory: Path, generation: str, live: str | None) -> None:
    """Note that ``generation`` is about to be written (call with the writer lock held).

    The live generation is recorded too, so an index written before the record existed has its
    files cleaned up once a newer generation replaces them.
    """
    generations = read_record(directory) or []
    for g in (live, generation):
        if g is not None and g not in generations:
            generations.append(g)
    _write_record(directory, generations)


def _remove(path: Path) -> bool:
    """Delete a file, a link (not what it points to) or one of paperlike's folders."""
    try:
        if path.is_symlink() or path.is_file():
            path.unlink()
            return True
        if path.is_dir():
            # A reader may be saving its .verified.json into a retired BM25 folder right now
            # (without the lock): its file can land between rmtree's listing and rmdir, so retry.
            for _ in range(5):
                shutil.rmtree(path, ignore_errors=True)
                if not path.exists():
                    return True
            shutil.rmtree(path)
            return True
    except FileNotFoundError:
        pass
    return False


def _temp_prefixes(generations: list[str], live: str) -> set[str]:
    """How the temp files of paperlike's own names start: a known name plus a random tail.

    The live BM25 folder's temp may be a reader saving it right now, so it is left out.
    """
    own = {name for g in generations for name in (*data_file_names(g).values(), lexical_name(g))}
    prefixes = {f"{TMP_PREFIX}{name}." for name in (own | set(_REPLACED)) - {lexical_name(live)}}
    # (paperlike 851650a and before named a BM25 folder's temp ".tmp-lexical-<generation>.*")
    return prefixes | {f".tmp-{lexical_name(g)}." for g in generations if g != live}


def retire(directory: Path, live: str) -> list[str]:
    """Delete the files of every recorded generation but ``live`` (writer lock held, after the switch).

    Returns:
        Names of what was deleted.
    """
    recorded = read_record(directory)
    generations = recorded or [live]
    removed = []
    for g in generations:
        if g != live:
            removed += [n for n in (*data_file_names(g).values(), lexical_name(g)) if _remove(directory / n)]
    temps = _temp_prefixes(generations, live)
    removed += [e.name for e in directory.iterdir() if any(e.name.startswith(t) for t in temps) and _remove(e)]
    if recorded is not None and recorded != [live]:  # (an add that changed nothing leaves it as it is)
        _write_record(directory, [live])
    return removed


def _is_index_folder(directory: Path) -> bool:
    """A folder with a generation record or a paperlike manifest (or an older index's data files)."""
    if (directory / RECORD).exists():
        read_record(directory)  # a damaged record is an error, not a reason to claim the folder again
        return True
    try:
        manifest = store.read_json(directory / MANIFEST)
        return isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT
    except (OSError, ValueError):
        pass  # none, or damaged
    # An index of an older paperlike whose manifest is damaged or gone: its data files have our exact names.
    return any(FILE_NAME.fullmatch(p.name) for p in directory.iterdir())


def claim_folder(directory: Path, force: bool = False, create: bool = True) -> None:
    """Make sure paperlike may write an index into ``directory`` (creating it if ``create``).

    A new or empty folder, or one holding a paperlike index, is fine. A folder holding anything
    else is refused unless ``force``; even then a ``manifest.json`` that is not paperlike's is
    never overwritten. A claimed folder gets a generation record, so an interrupted first build
    resumes without being forced again.

    Raises:
        NotAnIndexError: The folder is refused.
    """
    directory = Path(directory)
    usable_path(directory, "index folder", expand=False)  # a symlink loop: a one-line error
    if directory.exists() and not directory.is_dir():
        raise NotAnIndexError(f"{directory} is a file, not a folder; give --index-dir a folder")
    if not create and not directory.exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    if _is_index_folder(directory):
        return
    others = sorted(p.name for p in directory.iterdir() if p.name not in _FIXED and not p.name.startswith(TMP_PREFIX))
    if (directory / MANIFEST).exists() or (directory / MANIFEST).is_symlink():
        raise NotAnIndexError(
            f"{directory} holds a {MANIFEST} that is not paperlike's; paperlike never overwrites files it did not "
            "write: build into another folder"
        )
    if others and not force:
        raise NotAnIndexError(
            f"{directory} is not empty ({len(others)} file(s) such as {others[0]!r}) and holds no paperlike index; "
            "build into an empty or new folder, or add --force to build there anyway (only paperlike's own files are written)"
        )
    with store.writer_lock(directory):
        if read_record(directory) is None:
            _write_record(directory, [])
