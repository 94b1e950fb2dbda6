"""The names paperlike gives the files of an index, and the check every name read from disk passes.

Values read from an index folder are untrusted: the folder may have been sent by someone else.
A value that becomes part of a path (a generation, a file name) must match a strict pattern and
then resolve to a path directly inside the folder; anything else is a damaged index.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import IndexCorruptError

__all__ = [
    "GENERATION",
    "DATA_KINDS",
    "OPTIONAL_KINDS",
    "PLAIN_NAME",
    "TMP_PREFIX",
    "LOCK",
    "CHECKPOINT_DIR",
    "RANK_CACHE_DIR",
    "check_generation",
    "data_file_name",
    "data_file_names",
    "lexical_name",
    "inside",
    "contained",
    "is_plain_name",
]


# A generation is the UTC time of its build and 6 random hex digits: ``20260101120000-a1b2c3``.
GENERATION = re.compile(r"^\d{14}-[0-9a-f]{6}$")


# The data files of one generation: kind -> (file name prefix, suffix). Every index has the
# first three; ``aliases`` (the names of merged records, see :mod:`.aliases`) only once a merge made one.
DATA_KINDS = {"vectors": ".faiss", "titles": ".json", "papers": ".jsonl", "aliases": ".json"}


OPTIONAL_KINDS = ("aliases",)


# A file name without any path in it: no separator, not "." or "..", no leading dot or dash.
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")


# Temp files and folders start with this prefix and the name of what they will become.
TMP_PREFIX = ".paperlike-tmp-"


LOCK = ".lock"


# Checkpoint shards of builds that have not finished (see :mod:`.checkpoints`).
CHECKPOINT_DIR = ".paperlike-checkpoints"


# Vectors of batch papers `rank` embedded before (see :mod:`.rank_cache`).
RANK_CACHE_DIR = ".paperlike-rank-cache"


def is_plain_name(name: object) -> bool:
    """Whether ``name`` is a string that names a file directly inside a folder."""
    return isinstance(name, str) and PLAIN_NAME.fullmatch(name) is not None and ".." not in name


def check_generation(directory: Path, value: object, where: str) -> str:
    """``value`` if it is a well-formed generation, else :class:`IndexCorruptError` naming ``where``."""
    if isinstance(value, str) and GENERATION.fullmatch(value):
        return value
    raise IndexCorruptError(
        f"index in {directory}: {where} has an invalid generation {str(value)[:40]!r}; "
        f"rebuild it with: paperlike index build --index-dir {directory}"
    )


def data_file_name(kind: str, generation: str) -> str:
    """The name of one data file of a generation, e.g. ``vectors-<generation>.faiss``."""
    return f"{kind}-{generation}{DATA_KINDS[kind]}"


def data_file_names(generation: str) -> dict[str, str]:
    """Kind -> file name, for every data file of a generation."""
    return {kind: data_file_name(kind, generation) for kind in DATA_KINDS}


def lexical_name(generation: str) -> str:
    """The name of a generation's saved BM25 folder."""
    return f"lexical-{generation}"


def contained(directory: Path, name: str) -> Path:
    """``directory / name``, after checking that the path (links followed) stays in ``directory``.

    Raises:
        IndexCorruptError: The path leads outside the folder (a link to elsewhere).
    """
    directory = Path(directory)
    path = directory / name
    if path.resolve().parent != directory.resolve():
        raise IndexCorruptError(
            f"index in {directory}: {name} leads outside the index folder (a link?); "
            f"remove it, then rebuild with: paperlike index build --index-dir {directory}"
        )
    return path


def inside(directory: Path, name: str, what: str | None = None) -> Path:
    """``directory / name`` for a name read from disk: a plain file name (no ``/``, no ``..``,
    no leading dot) whose resolved path sits directly in the resolved folder.

    Raises:
        IndexCorruptError: The name, or the path it leads to, is not inside ``directory``.
    """
    if not is_plain_name(name):
        raise IndexCorruptError(
            f"index in {directory}: {what or 'a file name'} {str(name)[:60]!r} is not a plain file name; "
            f"rebuild it with: paperlike index build --index-dir {directory}"
        )
    return contained(directory, name)
