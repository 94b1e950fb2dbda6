"""The ``paperlike`` command group: errors become one line on stderr with exit code 2."""

from __future__ import annotations

import logging
import os
import sys

import click

from .._version import __version__
from ..errors import PaperlikeError

__all__ = ["cli", "main"]


class PaperlikeGroup(click.Group):
    """A group whose errors are one line on stderr with exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PaperlikeError as exc:
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:
            raise
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}; check the path and its permissions") from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug, not bad input: still one line, but exit 1 and say so
            if os.environ.get("PAPERLIKE_DEBUG"):
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {one_line(str(exc))[:200]}; this is a bug in paperlike, "
                "please report it (PAPERLIKE_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(1)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
            click.echo(f"Error: {one_line(exc.format_message())}{hint}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"Error: {one_line(exc.format_message())}", err=True)
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (e.g. '| head'): stop quietly, as other command-line tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        sys.exit(rv if isinstance(rv, int) else 0)


def one_line(message: str) -> str:
    return " ".join(message.split())


class _NoteHandler(logging.Handler):
    """Shows the library's notes (e.g. "building the default index") on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"note: {record.getMessage()}", err=True)


def setup_notes(quiet: bool = False) -> None:
    logger = logging.getLogger("paperlike")
    logger.handlers = [_NoteHandler()]
    logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.INFO)


@click.group(name="paperlike", cls=PaperlikeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperlike")
def cli():
    """Find papers like a paper, and browse a pile of papers.

    paperlike embeds every title + abstract with a small local model (all-MiniLM-L6-v2), keeps
    the vectors in a FAISS index on disk, and answers "which papers are like this one?".
    With no --index-dir it uses a default index of 75 bundled papers, built on first use.

    Example usage:

    \b
        paperlike similar "AutoDistil"
        paperlike similar autodistil -k 5 --json
        paperlike similar "distilling a language model into a small student" --text
        paperlike index build --corpus my_papers.jsonl --index-dir ./my-index
        paperlike themes --seed distillation --seed "continual learning"
        paperlike add new_papers.bib
        paperlike export --format bibtex --theme distillation
        paperlike info
    """


def main() -> None:
    """Console-script entry point."""
    cli()
