"""Every environment variable, path and default paperlike reads, in one object.

:class:`Settings` is read from the environment once (:meth:`Settings.from_env`) and passed to
whatever needs it; nothing else in the package reads ``os.environ`` for a ``PAPERLIKE_*`` name,
and tests build a :class:`Settings` instead of patching module globals.

Where the index lives when no ``--index-dir`` is given: ``$PAPERLIKE_INDEX_DIR``, else the user's
data folder (``~/.local/share/paperlike/index`` on Linux). Never the current directory and never
the source checkout, so the same command gives the same answer anywhere, however paperlike was
installed (an editable install once moved the default index into the checkout and rebuilt it,
losing the saved themes).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import PathError

__all__ = [
    "ENV_SERVE_TOKEN",
    "ENV_SERVE_WORKER",
    "Settings",
    "ENV_INDEX_DIR",
    "ENV_MODEL",
    "ENV_BACKEND",
    "ENV_CACHE_DIR",
    "ENV_DEBUG",
    "ENV_LOCK_TIMEOUT",
    "ENV_DEVICE",
    "ENV_ARXIV_API",
    "ENV_CROSSREF_API",
    "ENV_HTTP_TIMEOUT",
    "ENV_MAILTO",
    "DEFAULT_ARXIV_API",
    "DEFAULT_CROSSREF_API",
    "default_index_dir",
    "usable_path",
]

ENV_INDEX_DIR = "PAPERLIKE_INDEX_DIR"
ENV_MODEL = "PAPERLIKE_MODEL"
ENV_BACKEND = "PAPERLIKE_BACKEND"
ENV_CACHE_DIR = "PAPERLIKE_CACHE_DIR"
ENV_DEBUG = "PAPERLIKE_DEBUG"
ENV_LOCK_TIMEOUT = "PAPERLIKE_LOCK_TIMEOUT"
# Where the model runs (auto, cpu, cuda); --device overrides it.
ENV_DEVICE = "PAPERLIKE_DEVICE"
# paperlike serve: the access token, and how the server hands its options to worker processes.
ENV_SERVE_TOKEN = "PAPERLIKE_SERVE_TOKEN"
ENV_SERVE_WORKER = "PAPERLIKE_SERVE_WORKER"
# --online: where the arXiv API and Crossref are (tests point them at a local server), how long
# to wait for an answer, and an e-mail address Crossref may write to (its "polite pool").
ENV_ARXIV_API = "PAPERLIKE_ARXIV_API"
ENV_CROSSREF_API = "PAPERLIKE_CROSSREF_API"
ENV_HTTP_TIMEOUT = "PAPERLIKE_HTTP_TIMEOUT"
ENV_MAILTO = "PAPERLIKE_MAILTO"
DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
DEFAULT_CROSSREF_API = "https://api.crossref.org"


@dataclass(frozen=True)
class Settings:
    """What the environment asks of paperlike.

    Attributes:
        index_dir: ``$PAPERLIKE_INDEX_DIR``: the default index directory, if set.
        model: ``$PAPERLIKE_MODEL``: the model name for new indexes, if set.
        backend: ``$PAPERLIKE_BACKEND``: ``auto``, ``onnx`` or ``torch`` for MiniLM.
        cache_dir: ``$PAPERLIKE_CACHE_DIR``, else the user cache folder (ONNX export, benchmarks).
        debug: ``$PAPERLIKE_DEBUG``: show tracebacks of unexpected errors.
        lock_timeout: ``$PAPERLIKE_LOCK_TIMEOUT``: seconds a writer waits for another one to
            finish with the same index (default 600; a value that is not a number >= 0 is ignored).
        device: ``$PAPERLIKE_DEVICE``: ``auto``, ``cpu`` or ``cuda`` for the model, if set
            (checked where it is used, by :func:`paperlike.embedding.device.check_device`).
        arxiv_api: ``$PAPERLIKE_ARXIV_API``: the arXiv API's query URL (``--online``; default
            :data:`DEFAULT_ARXIV_API`).
        crossref_api: ``$PAPERLIKE_CROSSREF_API``: Crossref's REST API (default :data:`DEFAULT_CROSSREF_API`).
        http_timeout: ``$PAPERLIKE_HTTP_TIMEOUT``: seconds to wait for an online service (default
            15; a value that is not a number > 0 is ignored).
        mailto: ``$PAPERLIKE_MAILTO``: an e-mail address sent to Crossref in the User-Agent, if set.
    """

    index_dir: Path | None = None
    model: str | None = None
    backend: str = "auto"
    cache_dir: Path | None = None
    debug: bool = False
    lock_timeout: float = 600.0
    device: str | None = None
    arxiv_api: str = DEFAULT_ARXIV_API
    crossref_api: str = DEFAULT_CROSSREF_API
    http_timeout: float = 15.0
    mailto: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from ``environ`` (default: ``os.environ``); blank values count as unset."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        index_dir, cache = get(ENV_INDEX_DIR), get(ENV_CACHE_DIR)
        return cls(
            index_dir=usable_path(index_dir, f"${ENV_INDEX_DIR}") if index_dir else None,
            model=get(ENV_MODEL),
            backend=(get(ENV_BACKEND) or "auto").lower(),
            cache_dir=usable_path(cache, f"${ENV_CACHE_DIR}") if cache else None,
            debug=bool(get(ENV_DEBUG)),
            lock_timeout=_seconds(get(ENV_LOCK_TIMEOUT), 600.0),
            device=get(ENV_DEVICE),
            arxiv_api=get(ENV_ARXIV_API) or DEFAULT_ARXIV_API,
            crossref_api=get(ENV_CROSSREF_API) or DEFAULT_CROSSREF_API,
            http_timeout=_seconds(get(ENV_HTTP_TIMEOUT), 15.0) or 15.0,
            mailto=get(ENV_MAILTO),
        )

    def cache_root(self) -> Path:
        """Where paperlike caches files it can make again (the ONNX export, benchmark vectors)."""
        if self.cache_dir is not None:
            return self.cache_dir
        from platformdirs import user_cache_path

        return user_cache_path("paperlike")

    def online_cache_dir(self) -> Path:
        """Where answers of the arXiv API and Crossref are kept (see :mod:`paperlike.storage.online_cache`)."""
        return self.cache_root() / "online"


def usable_path(path: str | os.PathLike[str], what: str = "the folder", expand: bool = True) -> Path:
    """``path`` with ``~`` expanded (if ``expand``) and links resolved, as an absolute path.

    Raises:
        PathError: ``~user`` names no user, or the path runs round a symlink loop (pathlib raises
            RuntimeError for both, which would read as a bug in paperlike).
    """
    try:
        resolved = (Path(path).expanduser() if expand else Path(path)).resolve()
        try:
            os.stat(resolved)  # (Python 3.13's resolve() no longer raises for a loop: stat does)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise RuntimeError("symlink loop") from None
        return resolved
    except RuntimeError as exc:
        why = "a symlink loop" if "loop" in str(exc).lower() else "its ~ names no user's home folder"
    except OSError as exc:
        why = exc.strerror or str(exc)
    shown = str(path).encode("unicode_escape").decode("ascii")[:200]
    raise PathError(f"{what} {shown!r} cannot be used ({why}); give a folder path that exists or can be created")


def _seconds(value: str | None, default: float) -> float:
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        return default
    return seconds if 0 <= seconds < float("inf") else default


def default_index_dir(settings: Settings | None = None) -> tuple[Path, str]:
    """The index directory to use and why.

    Returns:
        ``(path, reason)``, reason being ``"$PAPERLIKE_INDEX_DIR"`` or ``"user data dir"``.
    """
    settings = settings or Settings.from_env()
    if settings.index_dir is not None:
        return settings.index_dir, f"${ENV_INDEX_DIR}"
    from platformdirs import user_data_path

    return user_data_path("paperlike") / "index", "user data dir"
