"""Where paperlike keeps its index when no ``--index-dir`` is given.

In order: ``$PAPERLIKE_INDEX_DIR``; the ``index/`` folder of a source checkout (an editable
install of this repository); otherwise the user's data folder (``~/.local/share/paperlike/index``
on Linux). Never the current directory, so the same command gives the same answer anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV_INDEX_DIR", "default_index_dir"]

ENV_INDEX_DIR = "PAPERLIKE_INDEX_DIR"


def _source_checkout() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "src" / "paperlike").is_dir() and (root / "index").is_dir():
        return root
    return None


def default_index_dir() -> tuple[Path, str]:
    """The index directory to use and why.

    Returns:
        ``(path, reason)``, reason being ``"$PAPERLIKE_INDEX_DIR"``, ``"source checkout"`` or
        ``"user data dir"``.
    """
    env = os.environ.get(ENV_INDEX_DIR, "").strip()
    if env:
        return Path(env).expanduser().resolve(), f"${ENV_INDEX_DIR}"
    checkout = _source_checkout()
    if checkout is not None:
        return checkout / "index", "source checkout"
    from platformdirs import user_data_path

    return user_data_path("paperlike") / "index", "user data dir"
