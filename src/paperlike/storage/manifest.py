"""``manifest.json``: the one schema that says which files make up an index, and its validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError, IndexMissingError
from . import files as store

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "FILE_KINDS", "FILE_NAME", "read_manifest", "describe_manifest", "corrupt"]


FORMAT = "paperlike-index"


FORMAT_VERSION = 1


MANIFEST = "manifest.json"


FILE_KINDS = ("vectors", "titles", "papers")


# Exactly the names write_index makes; only such files are ever deleted from an index directory.
FILE_NAME = re.compile(r"^(vectors-\d{14}-[0-9a-f]{6}\.faiss|titles-\d{14}-[0-9a-f]{6}\.json|papers-\d{14}-[0-9a-f]{6}\.jsonl)$")


def _rebuild_hint(directory: Path) -> str:
    return f"rebuild it with: paperlike index build --index-dir {directory}"


def corrupt(directory: Path, what: str) -> IndexCorruptError:
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
    for kind in FILE_KINDS:
        entry = files.get(kind)
        # File names come from a file a user may have been sent: never let them point elsewhere.
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and FILE_NAME.match(entry["name"])
            and isinstance(entry.get("bytes"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            problems.append(f"files.{kind}")
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
