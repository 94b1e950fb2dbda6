"""The ``paperlike`` command group: errors become one line on stderr with exit code 2.

Exit codes: 0 done; 2 bad input or environment (one ``Error: ...`` line); 130 interrupted (Ctrl-C);
143 / 129 stopped by SIGTERM / SIGHUP, which are handled as Ctrl-C is (temp files removed); 141
the reader of stdout went away (``paperlike ... | head -1``), quietly, as Unix tools do; 1 only
for a bug in paperlike. A closed stdout (``paperlike papers >&-``) is an error (2), not a silent 0.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from .._version import __version__
from ..errors import PaperlikeError
from ..settings import Settings
from .output import NoteHandler, one_line, safe

__all__ = ["cli", "main", "one_line", "setup_notes", "PaperlikeGroup"]


class _ReaderGone(Exception):
    """stdout's reader closed the pipe; carried past click, which would turn it into exit 1."""


class _ClosedStdout(io.TextIOBase):
    """Stands in for a stdout the process was started without: every write is an error."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


class _Discard(io.TextIOBase):
    """Swallows what is still written after the output was given up (an error is on stderr)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def _os_error_message(exc: OSError) -> str:
    if exc.filename:
        return f"{exc.strerror or exc}: {safe(exc.filename)}; check the path and its permissions"
    if exc.errno == errno.EBADF:
        return "cannot write the output: standard output is closed; redirect it, e.g. > out.txt or > /dev/null"
    return f"cannot write the output ({exc.strerror or exc}); check the disk and where the output goes"


class PaperlikeGroup(click.Group):
    """A group whose errors are one line on stderr with exit code 2, never a traceback."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any):
        # --help is printed while the context is made, before invoke().
        try:
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            raise _ReaderGone() from None
        except OSError as exc:
            raise click.ClickException(_os_error_message(exc)) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PaperlikeError as exc:
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:
            raise _ReaderGone() from None
        except OSError as exc:
            raise click.ClickException(_os_error_message(exc)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, _ReaderGone):
            raise
        except Exception as exc:  # a bug, not bad input: still one line, but exit 1 and say so
            if _debug():
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {safe(one_line(str(exc)))[:200]}; this is a bug in paperlike, "
                "please report it (PAPERLIKE_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(1)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        if sys.stdout is None:  # started with stdout closed: writing must fail, not vanish
            sys.stdout = _ClosedStdout()
        try:
            with _stop_signals_as_interrupts() as stopped_by:
                rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
            _fail(f"{one_line(exc.format_message())}{hint}", 2)
        except click.ClickException as exc:
            _fail(one_line(exc.format_message()), 2)
        except (click.Abort, KeyboardInterrupt):
            if stopped_by:
                _fail(f"Stopped ({signal.Signals(stopped_by[0]).name}).", 128 + stopped_by[0], prefix="")
            _fail("Aborted.", 130, prefix="")
        except _ReaderGone:
            _quiet_stdout()
            sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a Unix tool in this case
        _flush_or_fail()
        sys.exit(rv if isinstance(rv, int) else 0)


# Handled as Ctrl-C: the work stops with an exception, so every temp file and private copy is
# removed on the way out (the default action would kill the process where it stands).
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def _stop_signals_as_interrupts() -> Iterator[list[int]]:
    """While a command runs, SIGTERM and SIGHUP raise KeyboardInterrupt; yields the signals that
    came (the exit code is 128 + the first). A second signal during the clean-up is ignored, so
    the clean-up finishes. The handlers in place before are put back after (a test's process)."""
    came: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield came
        return

    def stop(signum: int, frame: object) -> None:
        came.append(signum)
        if len(came) == 1:
            raise KeyboardInterrupt

    before = {s: signal.signal(s, stop) for s in _STOP_SIGNALS}
    try:
        yield came
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _debug() -> bool:
    try:
        return Settings.from_env().debug
    except PaperlikeError:  # a bad PAPERLIKE_* path must not hide the bug being reported
        return False


def _fail(message: str, code: int, prefix: str = "Error: ") -> None:
    click.echo(f"{prefix}{safe(message)}", err=True)
    _quiet_stdout()
    sys.exit(code)


def _quiet_stdout() -> None:
    """Flush stdout; if that fails, point it at /dev/null, so the interpreter's last flush cannot
    fail again (that would print a traceback and turn the exit code into 120)."""
    try:
        sys.stdout.flush()
        return
    except (OSError, ValueError, AttributeError):
        pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        sys.stdout = _Discard()  # no real descriptor (closed at start, or a test's stream)


def _flush_or_fail() -> None:
    """Flush stdout now, so a reader that went away or a full disk is reported, not lost at exit."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(141)
    except OSError as exc:
        _fail(_os_error_message(exc), 2)


def setup_notes(quiet: bool = False) -> None:
    """Show the library's notes on stderr (above any progress bar); ``quiet`` keeps only errors."""
    logger = logging.getLogger("paperlike")
    logger.handlers = [NoteHandler()]
    logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.INFO)


@click.group(name="paperlike", cls=PaperlikeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperlike")
def cli():
    """Find papers like a paper, and browse a pile of papers.

    paperlike embeds every title + abstract with a small local model (all-MiniLM-L6-v2), keeps
    the vectors in a FAISS index on disk, and answers "which papers are like this one?".
    With no --index-dir it uses a default index of 75 bundled papers, built on first use in the
    user data folder ('paperlike info' says where).

    Example usage:

    \b
        paperlike similar "AutoDistil"
        paperlike similar autodistil -k 5 --json
        paperlike similar 1503.02531
        paperlike similar "distilling a language model into a small student" --text
        paperlike index build --corpus my_papers.jsonl --index-dir ./my-index
        paperlike themes --seed distillation --seed "continual learning"
        paperlike add new_papers.bib
        paperlike export --format bibtex --theme distillation
        paperlike serve
        paperlike info
    """
    _remove_stale_temp_files()


def _remove_stale_temp_files() -> None:
    """What killed paperlike processes left: private copies in $TMPDIR, temp files in the cache
    (an ONNX export is 90 MB, mpnet's joined parts 1.3 GB). An index folder's are removed by its
    next writer."""
    from ..storage.stale import remove_stale, remove_stale_private

    remove_stale_private()
    cache = Settings.from_env().cache_root()
    for folder in (cache, cache / "onnx", cache / "models", cache / "online"):
        remove_stale(folder)


def main() -> None:
    """Console-script entry point."""
    cli()
