"""``manifest.json``: the one schema that says which files make up an index, and its validation.

Every value is checked before it is used: the generation and the file names become paths, so
they must match the names paperlike makes (see :mod:`.names`), or the index is damaged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError, IndexMissingError
from ..settings import usable_path
from . import files as store
from .names import DATA_KINDS, GENERATION, OPTIONAL_KINDS, check_generation, data_file_name

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "FILE_KINDS", "FILE_NAME", "read_manifest", "describe_manifest", "corrupt"]


FORMAT = "paperlike-index"


FORMAT_VERSION = 1


MANIFEST = "manifest.json"


# The data files every index has (an optional one is checked the same way when listed).
FILE_KINDS = tuple(kind for kind in DATA_KINDS if kind not in OPTIONAL_KINDS)


# Exactly the names write_index makes (a manifest's names must also carry its own generation).
FILE_NAME = re.compile(
    r"^(vectors-\d{14}-[0-9a-f]{6}\.faiss|(titles|aliases)-\d{14}-[0-9a-f]{6}\.json|papers-\d{14}-[0-9a-f]{6}\.jsonl)$"
)


def _rebuild_hint(directory: Path) -> str:
    return f"rebuild it with: paperlike index build --index-dir {directory}"


def corrupt(directory: Path, what: str) -> IndexCorruptError:
    return IndexCorruptError(f"index in {directory}: {what}; {_rebuild_hint(directory)}")


def _is_count(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _load(directory: Path) -> dict[str, Any]:
    """The parsed manifest of a known format version (fields not yet checked)."""
    usable_path(directory, "index folder", expand=False)  # a symlink loop: a one-line error, not "no index"
    path = directory / MANIFEST
    if not path.is_file() and (path.exists() or path.is_symlink()):
        raise corrupt(directory, f"{MANIFEST} is not a regular file")
    if not path.is_file():
        if directory.is_dir() and any(directory.glob("vectors-*.faiss")):
            raise corrupt(directory, f"{MANIFEST} is missing")
        raise IndexMissingError(
            f"no index in {directory}; build one with: paperlike index build --index-dir {directory} [--corpus FILE]"
        )
    try:
        manifest = store.read_json(path)
    except (OSError, ValueError) as exc:
        raise corrupt(directory, f"{MANIFEST} is unreadable ({exc.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise corrupt(directory, f"{MANIFEST} is not a paperlike manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise IndexCorruptError(
            f"index in {directory} has format version {version!r}, this paperlike reads up to {FORMAT_VERSION}; "
            f"upgrade paperlike or {_rebuild_hint(directory)}"
        )
    if version < 1:
        raise corrupt(directory, f"{MANIFEST} has an invalid format version {version!r}")
    return manifest


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _field_problems(manifest: dict[str, Any]) -> list[str]:
    """Names of the plain fields that are missing or of the wrong type."""
    problems = [key for key, least in (("count", 0), ("dim", 1)) if not _is_count(manifest.get(key), least)]
    problems += [
        key
        for key, kind in (("model", dict), ("files", dict), ("generation", str), ("corpus", dict))
        if not isinstance(manifest.get(key), kind)
    ]
    model = _dict(manifest.get("model"))
    if not isinstance(model.get("name"), str):
        problems.append("model.name")
    corpus = _dict(manifest.get("corpus"))
    if not all(isinstance(corpus.get(k), str) for k in ("source", "sha256")):
        problems.append("corpus.source")
    return problems


def _file_problems(manifest: dict[str, Any]) -> list[str]:
    """Kinds whose file entry is missing, malformed, or names another file than paperlike would."""
    generation = manifest.get("generation")
    files = _dict(manifest.get("files"))
    problems = []
    for kind in FILE_KINDS + tuple(k for k in OPTIONAL_KINDS if k in files):
        entry = files.get(kind)
        # File names come from a file a user may have been sent: only the exact name paperlike
        # gives this kind in this generation is accepted, so no name can point anywhere else.
        if not (
            isinstance(entry, dict)
            and isinstance(generation, str)
            and GENERATION.fullmatch(generation)
            and entry.get("name") == data_file_name(kind, generation)
            and _is_count(entry.get("bytes"), 0)
            and isinstance(entry.get("sha256"), str)
        ):
            problems.append(f"files.{kind}")
    return problems


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """Read and validate ``manifest.json`` (no data file is opened).

    Raises:
        IndexMissingError: No directory or no manifest.
        IndexCorruptError: The manifest is unreadable, not a paperlike manifest of a known
            version, or holds a value paperlike would not have written (a generation or file
            name that is not one of its own).
    """
    directory = Path(directory)
    manifest = _load(directory)
    problems = _field_problems(manifest)
    if not problems:
        check_generation(directory, manifest["generation"], MANIFEST)
        if manifest.get("parent") is not None:
            check_generation(directory, manifest["parent"], f"{MANIFEST} (parent)")
    problems += _file_problems(manifest)
    if problems:
        raise corrupt(directory, f"{MANIFEST} has missing or invalid fields: {', '.join(problems)}")
    return manifest


def describe_manifest(directory: Path, reason: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """A flat, JSON-ready summary of an index manifest (for ``paperlike info``)."""
    model = manifest.get("model", {})
    return {
        "index_dir": str(directory),
        "index_dir_from": reason,
        "papers": manifest.get("count"),
        "model": model.get("name"),
        "model_package": model.get("package"),
        "model_version": model.get("version"),
        "model_weights_sha256": model.get("weights_sha256"),
        "dim": manifest.get("dim"),
        "faiss_index": manifest.get("faiss_index"),
        "corpus": manifest.get("corpus", {}).get("source"),
        "corpus_sha256": manifest.get("corpus", {}).get("sha256"),
        "built_at": manifest.get("built_at"),
        "format_version": manifest.get("format_version"),
        "generation": manifest.get("generation"),
        "files": {k: v.get("name") for k, v in manifest.get("files", {}).items()},
    }
