"""Runs the README's example commands for cog, so the outputs shown there are real and cannot drift.

``cog -r README.md`` rewrites every generated block; ``cog --check README.md`` (run by .ci/run)
fails when a block no longer matches what the command prints. Every command runs in a fresh
home folder (so the default index is built from the bundled papers on first use, as for a new
user), with the PyTorch backend (the same vectors on every run) and a fixed terminal width;
the temporary paths are shown as ``~``.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["run", "shell", "home"]

ROOT = Path(__file__).resolve().parents[1]
# A tqdm progress bar line, e.g. "Embedding:  40%|####      | 30/75 [00:02<00:03, 12.1paper/s]".
_PROGRESS = re.compile(r"\d+%\|.*\||\d+/\d+ \[\d")
_HOME: Path | None = None


def home() -> Path:
    """The fresh home folder the commands run in (made on first use, removed at exit)."""
    global _HOME
    if _HOME is None:
        _HOME = Path(tempfile.mkdtemp(prefix="paperlike-readme-"))
        atexit.register(shutil.rmtree, _HOME, True)
        for name in ("data", "cache", "work"):
            (_HOME / name).mkdir()
    return _HOME


def _env() -> dict[str, str]:
    h = home()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLIKE_")}
    env.update(
        HOME=str(h),
        XDG_DATA_HOME=str(h / "data"),
        XDG_CACHE_HOME=str(h / "cache"),
        PAPERLIKE_CACHE_DIR=str(h / "cache" / "paperlike"),
        PAPERLIKE_BACKEND="torch",
        COLUMNS="100",
        README_ROOT=str(ROOT),  # commands name the checkout's files as $README_ROOT/...
    )
    return env


def shell(command: str, *, stderr: bool = True) -> str:
    """Run ``command`` with bash in the README's working folder; its output as a reader sees it:
    stdout with the notes and errors of stderr in between, in order (progress bars left out)."""
    script = f"{{ {command} ; }} 2>&1" if stderr else f"{{ {command} ; }} 2>/dev/null"
    done = subprocess.run(["bash", "-c", script], cwd=home() / "work", env=_env(), capture_output=True, text=True, timeout=900)
    lines = [segment for line in done.stdout.split("\n") for segment in line.split("\r")[-1:]]
    text = "\n".join(line for line in lines if not _PROGRESS.search(line))
    return text.replace(str(home() / "data"), "~/.local/share").replace(str(home()), "~")


def run(command: str, *, stderr: bool = True, lang: str = "") -> None:
    """Write ``command``'s output into the README as a fenced block (called from a cog block)."""
    import cog  # provided by cogapp while it runs

    cog.outl(f"```{lang}")
    cog.out(shell(command, stderr=stderr).rstrip("\n") + "\n")
    cog.outl("```")
