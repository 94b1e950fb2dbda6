"""``paperlike serve``: the web app and JSON API (the work is in :mod:`paperlike.web`)."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import ENV_SERVE_TOKEN
from .app import cli, setup_notes
from .options import index_dir_option

__all__ = ["serve"]


@cli.command()
@index_dir_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but this machine needs --allow-remote and --token.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free port).")
@click.option("--allow-edits", is_flag=True, help="Let uploads add papers to the index (the same add as 'paperlike add').")
@click.option("--allow-remote", is_flag=True, help="Allow a --host that other machines can reach (needs --token).")
@click.option(
    "--token",
    envvar=ENV_SERVE_TOKEN,
    show_envvar=True,
    default=None,
    help="Access token every request must carry: random, at least 16 characters (guessable ones are refused).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes (more answer more queries at once on several cores; each holds the index).",
)
def serve(
    index_dir: Path | None, host: str, port: int, allow_edits: bool, allow_remote: bool, token: str | None, workers: int
) -> None:
    """Browse the index in a web browser, and answer a JSON API (needs: pip install 'paperlike[serve]').

    Search, paper pages with papers like them (and like / not-like refinement), themes, the
    map and BibTeX export, at http://127.0.0.1:8000/; the API is described at /api/openapi.json.
    Read-only unless --allow-edits (a read-only server writes nothing into the index folder).
    Listens on this machine only unless --allow-remote and a token are given. Keeps answering while 'paperlike add' rewrites the index, and switches
    to the new papers without a restart.

    Example usage:

    \b
        paperlike serve
        paperlike serve --index-dir ./my-index --port 8080
        paperlike serve --allow-edits
        paperlike serve --workers 2
        PAPERLIKE_SERVE_TOKEN=$(python -c "import secrets; print(secrets.token_urlsafe(24))") \\
            paperlike serve --host 0.0.0.0 --allow-remote
    """
    from ..web import run

    setup_notes()
    run(
        index_dir,
        host=host,
        port=port,
        allow_edits=allow_edits,
        allow_remote=allow_remote,
        token=token,
        workers=workers,
        announce=lambda line: click.echo(line, err=True),
    )
