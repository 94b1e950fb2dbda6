"""``paperlike themes``, ``paperlike theme`` and ``paperlike map``, and the options that say which
theme set a theme name belongs to (:func:`theme_set_options`, also used by ``similar --theme``
and ``export --theme``)."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..errors import PaperlikeError
from .app import cli, setup_notes
from .options import index_dir_option, json_option
from .output import emit_json, note, print_changes, shorten

__all__ = ["themes", "theme", "map_command", "theme_set_options", "ThemeSetOptions", "resolve_theme_option"]


@dataclass(frozen=True)
class ThemeSetOptions:
    """What -n, --seed and --theme-set said (no options: the automatic themes)."""

    n: int | None = None
    seeds: tuple[str, ...] = ()
    name: str | None = None

    @property
    def given(self) -> bool:
        return self.n is not None or bool(self.seeds) or self.name is not None

    def choice(self) -> Any:
        """The service's :class:`~paperlike.service.themes.ThemeSetChoice` (imported late: numpy)."""
        from ..service.themes import ThemeSetChoice

        return ThemeSetChoice.of(self.n, list(self.seeds), self.name)


def theme_set_options(func):
    """Add -n, --seed and --theme-set, and pass them to the command as ``theme_set`` (a
    :class:`ThemeSetOptions`). The same options mean the same theme set in every command."""

    @click.option(
        "-n",
        "_ts_n",
        type=int,
        default=None,
        help="Theme set: N themes, seeded ones included (default: the automatic themes, N chosen by silhouette).",
    )
    @click.option(
        "--seed",
        "_ts_seeds",
        multiple=True,
        metavar="NAME[=WORDS]",
        help="Theme set: anchor a theme on NAME (repeatable); optional words after '=' describe it.",
    )
    @click.option(
        "--theme-set",
        "_ts_name",
        default=None,
        metavar="NAME",
        help="Theme set saved earlier with 'paperlike themes ... --save-as NAME' (instead of -n/--seed).",
    )
    @functools.wraps(func)
    def wrapper(*args, _ts_n, _ts_seeds, _ts_name, **kwargs):
        if _ts_n is not None and _ts_n <= 0:
            raise click.UsageError(f"-n must be at least 1 (got {_ts_n})")
        if _ts_name is not None and (_ts_n is not None or _ts_seeds):
            raise click.UsageError("--theme-set already fixes the theme options; give either --theme-set or -n/--seed")
        return func(*args, theme_set=ThemeSetOptions(_ts_n, tuple(_ts_seeds), _ts_name), **kwargs)

    return wrapper


def resolve_theme_option(rec, name: str | None, theme_set: ThemeSetOptions):
    """The theme ``--theme NAME`` names in the chosen set (None without --theme), with a note on
    stderr saying which set it is from.

    Raises:
        click.UsageError: -n/--seed/--theme-set without --theme.
    """
    if name is None:
        if theme_set.given:
            raise click.UsageError("-n, --seed and --theme-set choose the theme set of --theme; give --theme too")
        return None
    from ..service.themes import resolve_theme

    found, from_set = resolve_theme(rec.opened, name, theme_set.choice())
    note(f"theme {found.id} ({found.size} papers) of {from_set.describe()}")
    return found


def load_recommender(index_dir: Path | None):
    # Not imported from .query: query imports this module for theme_set_options.
    from ..service.recommender import Recommender

    return Recommender.load(index_dir, progress=True)


def _print_themes(result, show: int) -> None:
    papers, _, _ = result.membership_counts()
    click.echo(f"{len(result)} themes of {papers} papers: {result.describe()}")
    overlap = result.overlap_note()
    if overlap:
        click.echo(overlap)
    id_width = max(len(t.id) for t in result)
    for theme in result:
        kind = f"seed: {theme.seed}" if theme.seed else "discovered"
        status = f", {theme.status}" if theme.status and theme.status != "same" else ""
        click.echo(f"{theme.id:<{id_width}}  {theme.size:>4}  {theme.label}  ({kind}{status})")
        for paper in theme.papers[: max(show, 0)]:
            click.echo(f"{'':<{id_width}}        {paper.score:5.3f}  {paper.id}")
    print_changes(result.changes)


@cli.command()
@theme_set_options
@click.option(
    "--save-as",
    "save_as",
    default=None,
    metavar="NAME",
    help="Name this theme set, so later commands can say --theme-set NAME instead of repeating -n/--seed.",
)
@click.option("--papers", "show", type=int, default=3, show_default=True, help="Papers listed per theme in the table.")
@index_dir_option
@json_option
def themes(theme_set, save_as, show, index_dir, as_json):
    """Group the papers into labelled themes.

    Without options these are the automatic themes (the number chosen by silhouette). -n fixes
    the number; each --seed anchors a theme on a name, and papers close to no seed form
    discovered themes of their own. A paper may belong to several themes (the output says how
    many do). The same options always give the same themes, and 'theme', 'similar --theme',
    'export --theme' and 'map' take the same options to mean the same set; --save-as names a set.
    Themes are saved beside the index; after the index changes, themes keep their ids and the
    output says what changed.

    Example usage:

    \b
        paperlike themes
        paperlike themes -n 8
        paperlike themes --seed distillation --seed "continual learning" --seed "task-agnostic training"
        paperlike themes --seed distillation --seed "robot learning" --save-as mine
        paperlike themes --theme-set mine --json
        paperlike themes --seed "rlhf=reinforcement learning from human feedback" --json
    """
    from ..service.themes import name_theme_set
    from ..service.themes import theme_set as get_theme_set

    setup_notes()
    rec = load_recommender(index_dir)
    result = get_theme_set(rec.opened, theme_set.choice())
    if save_as is not None:
        name_theme_set(rec.opened, result, save_as)
        note(f"saved as theme set '{save_as}': later commands can name it with --theme-set {save_as}")
    if as_json:
        emit_json(result.to_dict())
        return
    _print_themes(result, show)


@cli.command(name="map")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (relative paths are from the current directory).",
)
@theme_set_options
@click.option("--title", default="Papers by theme", show_default=True, help="Title of the page.")
@index_dir_option
@json_option
def map_command(out, theme_set, title, index_dir, as_json):
    """Write an interactive map of the papers coloured by theme, as one HTML file.

    Nearby dots are similar papers (see 'paperlike.viz.projection'; deterministic). Colours are
    the themes of the set the options name (default: the automatic themes). Hover shows the
    title and theme, the legend toggles themes, the search box highlights matching titles, and a
    click lists the papers most like the one clicked, ranked as 'paperlike similar' ranks them.
    The file inlines all its scripts, so it opens with no network.

    Example usage:

    \b
        paperlike map --out themes.html
        paperlike map --out themes.html --seed distillation --seed "continual learning"
        paperlike map --out themes.html --theme-set mine
        paperlike map --out themes.html -n 8 --json
    """
    from ..service.maps import map_page, write_map
    from ..service.themes import theme_set as get_theme_set

    setup_notes()
    if str(out) == "-":  # the page on stdout, e.g. to pipe it elsewhere
        rec = load_recommender(index_dir)
        page = map_page(rec, get_theme_set(rec.opened, theme_set.choice()), title)[0]
        sys.stdout.buffer.write(page)
        return
    if out.parent and not out.parent.resolve().is_dir():
        raise PaperlikeError(f"cannot write {out}: folder {out.parent} does not exist; create it or choose another --out")
    rec = load_recommender(index_dir)
    chosen = get_theme_set(rec.opened, theme_set.choice())
    summary = write_map(rec, chosen, out, title)
    if as_json:
        emit_json(summary)
    else:
        click.echo(
            f"Wrote a map of {summary['papers']} papers in {summary['themes']} themes "
            f"({summary['projection']}; {chosen.describe()}) to {summary['out']}"
        )


@cli.command()
@click.argument("name")
@click.option("-k", "k", type=int, default=None, help="Show only the best K papers.")
@theme_set_options
@index_dir_option
@json_option
def theme(name, k, theme_set, index_dir, as_json):
    """One theme's papers, best first, with their scores.

    NAME is a theme id (t3), a seed name, a whole label as printed ("speech · speaker · neural",
    or "t3 (speech · speaker · neural)" as error messages list it) or one label phrase of the
    theme set that -n, --seed or --theme-set name, exactly as in 'paperlike themes' (no options:
    the automatic themes). A label phrase several themes share is ambiguous: they are listed.
    A theme only a saved theme set has gets a hint naming its --theme-set.

    Example usage:

    \b
        paperlike theme t2 -k 5 --json
        paperlike theme "continual learning" --seed distillation --seed "continual learning"
        paperlike theme distillation --theme-set mine
        paperlike theme t3 -n 8
    """
    from ..service.themes import resolve_theme

    setup_notes()
    if k is not None and k <= 0:
        raise click.UsageError(f"-k must be at least 1 (got {k})")
    found, from_set = resolve_theme(load_recommender(index_dir).opened, name, theme_set.choice())
    papers = found.papers if k is None else found.papers[:k]
    if as_json:
        emit_json({**found.to_dict(), "papers": [p.to_dict() for p in papers], "theme_set": from_set.set_dict()})
        return
    kind = f"seed: {found.seed}" if found.seed else "discovered"
    click.echo(f"{found.id}: {found.label} ({kind}, {found.size} papers)")
    click.echo(f"of {from_set.describe()}")
    id_width = max((len(p.id) for p in papers), default=2)
    for rank, paper in enumerate(papers, 1):
        click.echo(f"{rank:>4}  {paper.score:5.3f}  {paper.id:<{id_width}}  {shorten(paper.title, 70)}")
