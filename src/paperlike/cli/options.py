"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["index_dir_option", "json_option", "reading_options"]


index_dir_option = click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index directory (default: $PAPERLIKE_INDEX_DIR, else the built-in default; see 'paperlike info').",
)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def reading_options(func):
    """--format, --strict, --title-col and --abstract-col, shared by 'index build' and 'add'."""
    from ..readers.detect import FORMATS

    for option in reversed(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default=None,
                help="Corpus format (default: detected from the extension and content).",
            ),
            click.option("--strict", is_flag=True, help="Fail on the first malformed entry (default: skip it with a note)."),
            click.option("--title-col", default=None, help="CSV/TSV: the title column (default: found by name)."),
            click.option("--abstract-col", default=None, help="CSV/TSV: the abstract column (default: found by name)."),
        ]
    ):
        func = option(func)
    return func
