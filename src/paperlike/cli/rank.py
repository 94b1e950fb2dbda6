"""``paperlike rank``: which of today's papers are like my library?"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from ..format_registry import EXPORT_FORMATS
from ..mode_registry import STREAM_METHODS
from .app import cli, setup_notes
from .choices import RegistryChoice
from .options import index_dir_option, json_option
from .output import emit_json, note, safe, shorten
from .query import load_recommender
from .themes import resolve_theme_option, theme_set_options

__all__ = ["rank", "RANK_METHODS"]

# The choices of --method (the mode registry's batch methods; the name kept for scripts).
RANK_METHODS = STREAM_METHODS


def _read_formats() -> RegistryChoice:
    from ..readers.formats import FORMATS

    return RegistryChoice(lambda: FORMATS)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@index_dir_option
@click.option(
    "--theme",
    default=None,
    help="Rank against this theme of the library (id, seed name or label phrase) of the set -n/--seed/--theme-set name.",
)
@theme_set_options
@click.option("--like", "like", multiple=True, metavar="PAPER", help="Rank against this library paper (repeatable).")
@click.option("-k", "k", type=click.IntRange(min=1), default=None, help="Show only the best K papers (default: all).")
@click.option(
    "--method",
    type=click.Choice(RANK_METHODS),
    default="hybrid",
    show_default=True,
    help="Score: the model's and TF-IDF's rankings fused (best measured), one of them alone, or a baseline.",
)
@click.option("--include-known", is_flag=True, help="Also rank papers of FILE that are already in the library (marked).")
@click.option(
    "--format",
    "export_format",
    type=RegistryChoice(lambda: EXPORT_FORMATS),
    default=None,
    help="Print the ranked papers of FILE as full records in this format, best first.",
)
@click.option(
    "--format-in",
    "fmt",
    type=_read_formats(),
    default=None,
    help="Format of FILE (default: detected from the extension and content).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@json_option
def rank(file, index_dir, theme, theme_set, like, k, method, include_known, export_format, fmt, quiet, as_json):
    """Rank the new papers of FILE by how like your library they are (nothing is added to it).

    FILE is a batch of papers in any format paperlike reads (a Daily Papers page, an arXiv
    listing, a .bib, JSONL, CSV...). Each paper is embedded with the library's model and scored
    against the whole library, a theme of it (--theme) or chosen papers (--like); the table shows
    the best first, with the nearest library papers and the key terms shared with the nearest.
    Papers of FILE already in the library (same arXiv id, DOI or title) are left out and named.

    The score ranks within this batch: the model's ranking (mean cosine to the 3 nearest library
    papers) and a word-based one (TF-IDF cosine to the 3 lexically nearest) fused by reciprocal
    rank, 1.00 = first on both. "cosine" is the similarity to the nearest library paper, the same
    scale in every batch. See benchmarks/rank_stream.py for the measurements behind the default.

    Example usage:

    \b
        paperlike rank today.txt
        paperlike rank today.txt --index-dir ./my-library -k 10
        paperlike rank arxiv_listing.xml --theme distillation --seed distillation --json
        paperlike rank colleague.bib --like autodistil --like llm-pruner
        paperlike rank today.txt -k 5 --format bibtex > to_read.bib
    """
    from ..errors import CorpusError
    from ..service.batch import rank_batch

    setup_notes(quiet)
    rec = load_recommender(index_dir, progress=not quiet)
    # With --like too, the theme is not looked up: rank_batch says to give one or the other.
    chosen = theme if like else resolve_theme_option(rec, theme, theme_set)
    try:
        ranking = rank_batch(
            rec,
            file,
            theme=chosen,
            like=list(like),
            k=k,
            method=method,
            include_known=include_known,
            fmt=fmt,
            progress=not quiet,
        )
    except CorpusError as exc:
        # The readers name 'index build's option; here the input format is --format-in.
        raise CorpusError(str(exc).replace("(use --format)", "(use --format-in)")) from None
    _notes(ranking, file, include_known)
    if export_format:
        from ..export import export_papers

        click.echo(export_papers(ranking.papers(), export_format), nl=False)
        return
    if as_json:
        emit_json(ranking.to_dicts())
        return
    skipped = f", {len(ranking.known)} already in the library" if ranking.known and not include_known else ""
    shown = f", best {len(ranking)} shown" if k is not None and len(ranking) == k else ""
    click.echo(
        f"{ranking.total} papers of {file}{skipped}{shown}, ranked against {ranking.target}"
        + (f" (method: {method})" if method != "hybrid" else "")
    )
    _print_ranking(ranking)


def _notes(ranking, file, include_known: bool) -> None:
    if ranking.known and not include_known:
        names = "; ".join(f"{p.id} (= {lib})" for p, lib in ranking.known[:10])
        more = f" and {len(ranking.known) - 10} more" if len(ranking.known) > 10 else ""
        note(
            f"{len(ranking.known)} of the {ranking.total} papers of {file} are already in the library "
            f"and not ranked: {names}{more} (--include-known ranks them too)"
        )
    if ranking.embedded or ranking.reused:
        # Vectors of papers seen before are reused (see paperlike.storage.rank_cache).
        note(
            f"vectors: {ranking.embedded} paper(s) embedded, {ranking.reused} reused "
            "(same text in the library or ranked before with this model)"
        )


def _print_ranking(ranking) -> None:
    if not ranking.results:
        click.echo("(no papers to rank)")
        return
    # Ids are never shortened: users copy them into the next command.
    id_width = max(len(r.id) for r in ranking)
    width = shutil.get_terminal_size((120, 24)).columns
    title_width = max(width - id_width - 24, 30)
    click.echo(f"{'rank':>4}  {'score':>5}  {'cosine':>6}  {'id':<{id_width}}  title")
    pad = " " * 23
    for r in ranking:
        mark = f"  [in library: {r.in_library}]" if r.in_library else ""
        click.echo(f"{r.rank:>4}  {r.score:5.3f}  {r.cosine:6.3f}  {r.id:<{id_width}}  {shorten(r.title, title_width)}{mark}")
        if r.link:  # never shortened: a cut link leads nowhere
            click.echo(f"{pad}link: {safe(r.link)}")
        if r.nearest:
            near = ", ".join(f"{n.id} ({n.cosine:.2f})" for n in r.nearest)
            click.echo(f"{pad}like: {shorten(near, title_width + id_width - 4)}")
        if r.why is not None:
            click.echo(f"{pad}why:  {r.why.short(title_width + id_width - 4)}")
