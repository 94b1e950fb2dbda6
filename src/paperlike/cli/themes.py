"""``paperlike themes``, ``paperlike theme`` and ``paperlike map``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import PaperlikeError
from .app import cli, setup_notes
from .options import index_dir_option, json_option
from .output import emit_json, print_changes, shorten
from .query import load_recommender

__all__ = ["themes", "theme", "map_command"]


@cli.command()
@click.option("-n", "n", type=int, default=None, help="Number of themes, seeded ones included (default: chosen automatically).")
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    metavar="NAME[=WORDS]",
    help="Anchor a theme on NAME (repeatable); optional words after '=' describe it.",
)
@click.option("--papers", "show", type=int, default=3, show_default=True, help="Papers listed per theme in the table.")
@index_dir_option
@json_option
def themes(n, seeds, show, index_dir, as_json):
    """Group the papers into labelled themes.

    Without -n the number of themes is chosen automatically. Each --seed anchors a theme on a
    name; papers close to no seed form discovered themes of their own. A paper may belong to
    several themes. Themes are saved beside the index: the same options give the same themes,
    and after the index changes, themes keep their ids and the output says what changed.

    Example usage:

    \b
        paperlike themes
        paperlike themes -n 8
        paperlike themes --seed distillation --seed "continual learning" --seed "task-agnostic training"
        paperlike themes --seed "rlhf=reinforcement learning from human feedback" --json
    """
    setup_notes()
    if n is not None and n <= 0:
        raise click.UsageError(f"-n must be at least 1 (got {n})")
    result = load_recommender(index_dir).themes(n, list(seeds))
    if as_json:
        emit_json(result.to_dict())
        return
    id_width = max(len(t.id) for t in result)
    click.echo(f"{len(result)} themes of {sum(1 for _ in {p.id for t in result for p in t.papers})} papers")
    for theme in result:
        kind = f"seed: {theme.seed}" if theme.seed else "discovered"
        status = f", {theme.status}" if theme.status and theme.status != "same" else ""
        click.echo(f"{theme.id:<{id_width}}  {theme.size:>4}  {theme.label}  ({kind}{status})")
        for paper in theme.papers[: max(show, 0)]:
            click.echo(f"{'':<{id_width}}        {paper.score:5.3f}  {paper.id}")
    print_changes(result.changes)


@cli.command(name="map")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (relative paths are from the current directory).",
)
@click.option("-n", "n", type=int, default=None, help="Colour by N themes (default: the latest themes of the index).")
@click.option("--seed", "seeds", multiple=True, metavar="NAME[=WORDS]", help="Seed a theme, as in 'paperlike themes'.")
@click.option("--title", default="Papers by theme", show_default=True, help="Title of the page.")
@index_dir_option
@json_option
def map_command(out, n, seeds, title, index_dir, as_json):
    """Write an interactive map of the papers coloured by theme, as one HTML file.

    Nearby dots are similar papers (t-SNE of the vectors; deterministic). Hover shows the title
    and theme, the legend toggles themes, the search box highlights matching titles, and a click
    lists the papers most like the one clicked. The file inlines all its scripts, so it opens
    with no network.

    Example usage:

    \b
        paperlike map --out themes.html
        paperlike map --out themes.html --seed distillation --seed "continual learning"
        paperlike map --out themes.html -n 8 --json
    """
    from ..storage.files import atomic_write_bytes
    from ..viz.map import map_html

    setup_notes()
    if n is not None and n <= 0:
        raise click.UsageError(f"-n must be at least 1 (got {n})")
    if out.parent and not out.parent.resolve().is_dir():
        raise PaperlikeError(f"cannot write {out}: folder {out.parent} does not exist; create it or choose another --out")
    rec = load_recommender(index_dir)
    themes = rec.themes(n, list(seeds)) if (n is not None or seeds) else rec.latest_themes()
    frame = rec.map_2d(themes)
    page = map_html(frame, rec.map_neighbours(), title)
    try:
        atomic_write_bytes(out, page.encode("utf-8"))
    except OSError as exc:
        raise PaperlikeError(f"cannot write {out} ({exc.strerror or exc}); choose another --out") from None
    summary = {
        "out": str(out.resolve()),
        "papers": len(frame),
        "themes": len(themes),
        "projection": frame.attrs["method"],
        "bytes": len(page.encode("utf-8")),
    }
    if as_json:
        emit_json(summary)
    else:
        click.echo(
            f"Wrote a map of {summary['papers']} papers in {summary['themes']} themes "
            f"({summary['projection']}) to {summary['out']}"
        )


@cli.command()
@click.argument("name")
@click.option("-k", "k", type=int, default=None, help="Show only the best K papers.")
@index_dir_option
@json_option
def theme(name, k, index_dir, as_json):
    """One theme's papers, best first, with their scores.

    NAME is a theme id (t3), a seed name or a label phrase, from the themes last computed for the
    index ('paperlike themes ...'; automatic themes if none were computed yet).

    Example usage:

    \b
        paperlike theme "continual learning"
        paperlike theme t2 -k 5 --json
    """
    setup_notes()
    if k is not None and k <= 0:
        raise click.UsageError(f"-k must be at least 1 (got {k})")
    found = load_recommender(index_dir).theme(name)
    papers = found.papers if k is None else found.papers[:k]
    if as_json:
        emit_json({**found.to_dict(), "papers": [p.to_dict() for p in papers]})
        return
    kind = f"seed: {found.seed}" if found.seed else "discovered"
    click.echo(f"{found.id}: {found.label} ({kind}, {found.size} papers)")
    id_width = max((len(p.id) for p in papers), default=2)
    for rank, paper in enumerate(papers, 1):
        click.echo(f"{rank:>4}  {paper.score:5.3f}  {paper.id:<{id_width}}  {shorten(paper.title, 70)}")
