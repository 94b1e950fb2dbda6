"""The one output layer: tables, JSON and notes, so every command prints the same way."""

from __future__ import annotations

import json
import logging
import shutil

import click

__all__ = ["note", "emit_json", "print_results"]


def note(message: str) -> None:
    logging.getLogger("paperlike").info(message)


def emit_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def print_results(results, why: bool = False) -> None:
    if not results:
        click.echo("(no results)")
        return
    # Ids are never shortened: users copy them into the next command.
    id_width = max(len(r.id) for r in results)
    width = shutil.get_terminal_size((120, 24)).columns
    title_width = max(width - id_width - 16, 30)
    click.echo(f"{'rank':>4}  {'score':>5}  {'id':<{id_width}}  title")
    for r in results:
        click.echo(f"{r.rank:>4}  {r.score:5.2f}  {r.id:<{id_width}}  {shorten(r.title, title_width)}")
        if why and r.why is not None:
            click.echo(f"{'':>13}  why: {r.why.short(title_width + id_width - 3)}")
            if r.why.result_sentence:
                click.echo(f'{"":>13}       "{shorten(r.why.result_sentence, title_width + id_width - 10)}"')


def print_changes(changes: dict) -> None:
    parts = [f"{key} {', '.join(changes[key])}" for key in ("new", "grown", "shrunk", "gone") if changes.get(key)]
    parts += [f"merged {old} into {new}" for old, new in sorted(changes.get("merged", {}).items())]
    if parts:
        click.echo("changes since the last themes of this index: " + "; ".join(parts))
