"""``paperlike rank``: which of today's papers are like my library?"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from ..format_registry import EXPORT_FORMATS
from ..mode_registry import DEFAULT_STREAM_METHOD, STREAM_METHODS
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
@click.argument("file", type=click.Path(path_type=Path), required=False)
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
    default=DEFAULT_STREAM_METHOD,
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
@click.option(
    "--online",
    is_flag=True,
    help="FILE lists papers by id: fetch the arXiv ids and DOIs the library lacks from arXiv and Crossref "
    "(the network is never used without this or --arxiv).",
)
@click.option(
    "--arxiv",
    "arxiv",
    default=None,
    metavar="CATEGORY",
    help="Rank the latest papers of this arXiv category (e.g. cs.LG) instead of a FILE, fetched from the arXiv "
    "API: a request for the network by itself (no --online needed).",
)
@click.option(
    "--latest",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="With --arxiv: fetch the latest N papers (default 100, at most 1000).",
)
@click.option("--unseen", is_flag=True, help="Leave out papers an earlier rank of this library showed.")
@click.option("--since", default=None, metavar="DATE", help="Only papers dated DATE or later (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--until", default=None, metavar="DATE", help="Only papers dated DATE or earlier (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--no-marks", is_flag=True, help="Rank without your liked / not-liked marks (see: paperlike mark).")
@click.option("--no-remember", is_flag=True, help="Do not record the papers shown (for a later --unseen).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@json_option
def rank(
    file,
    index_dir,
    theme,
    theme_set,
    like,
    k,
    method,
    include_known,
    export_format,
    fmt,
    online,
    arxiv,
    latest,
    unseen,
    since,
    until,
    no_marks,
    no_remember,
    quiet,
    as_json,
):
    """Rank the new papers of FILE by how like your library they are (nothing is added to it).

    FILE is a batch of papers in any format paperlike reads (a Daily Papers page, an arXiv
    listing, a .bib, JSONL, CSV...). Each paper is embedded with the library's model and scored
    against the whole library, a theme of it (--theme) or chosen papers (--like); the table shows
    the best first, with the nearest library papers and the key terms shared with the nearest.
    Papers of FILE already in the library (same arXiv id, DOI or title) are left out and named.

    Papers by name: a FILE listing arXiv ids, DOIs or titles, one a line (today_ids.txt), ranks
    the library's records of them; with --online the arXiv ids and DOIs the library does not
    have are fetched from arXiv and Crossref (answers are cached for a week). --arxiv CATEGORY
    ranks the latest papers of an arXiv category instead of a FILE (cached for an hour).

    Daily triage: every rank records the papers it showed, and --unseen leaves them out next
    time; --since / --until keep papers of those dates (each record's year, or its date field
    where the format has one; papers with neither are left out). Papers you marked (paperlike
    mark PAPER --like / --dislike) steer the order: each paper's score gains 2 x its cosine to
    the nearest liked paper and loses 0.5 x its cosine to the nearest not-liked one (chosen in
    benchmarks/rank_marks.py); --no-marks ranks without them.

    The score ranks within this batch: the model's ranking (mean cosine to the 3 nearest library
    papers) and a word-based one (TF-IDF cosine to the 3 lexically nearest) fused by reciprocal
    rank, 1.00 = first on both (your marks then move it, see above). "cosine" is the similarity
    to the nearest library paper, the same scale in every batch. See benchmarks/rank_stream.py
    for the measurements behind the default.

    Example usage:

    \b
        paperlike rank today.txt
        paperlike rank today.txt --index-dir ./my-library -k 10
        paperlike rank arxiv_listing.xml --theme distillation --seed distillation --json
        paperlike rank colleague.bib --like autodistil --like llm-pruner
        paperlike rank today.txt -k 5 --format bibtex > to_read.bib
        paperlike rank today.txt --unseen
        paperlike rank arxiv_listing.xml --since 2024-06 --until 2024-12
        paperlike rank today_ids.txt --online
        paperlike rank --arxiv cs.LG --latest 50 -k 10
    """
    from ..errors import CorpusError
    from ..service.incoming import rank_batch

    setup_notes(quiet)
    batch, file, client = _batch(file, arxiv, latest, fmt, online)
    rec = load_recommender(index_dir, progress=not quiet)
    # With --like too, the theme is not looked up: rank_batch says to give one or the other.
    chosen = theme if like else resolve_theme_option(rec, theme, theme_set)
    try:
        ranking = rank_batch(
            rec,
            batch,
            theme=chosen,
            like=list(like),
            k=k,
            method=method,
            include_known=include_known,
            fmt=fmt,
            online=client or False,
            progress=not quiet,
            unseen=unseen,
            since=since,
            until=until,
            use_marks=not no_marks,
            remember=not no_remember,
        )
    except CorpusError as exc:
        # The readers name 'index build's option; here the input format is --format-in.
        raise CorpusError(str(exc).replace("(use --format)", "(use --format-in)")) from None
    _notes(ranking, file, include_known)
    if client is not None and (client.sent or client.from_cache):
        note(f"online: {client.sent} request(s) sent, {client.from_cache} answered from the cache")
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
        + (f" (method: {method})" if method != DEFAULT_STREAM_METHOD else "")
    )
    _print_ranking(ranking)


def _batch(file: Path | None, arxiv: str | None, latest: int | None, fmt: str | None, online: bool):
    """What to rank, its name, and the online client (--online, or --arxiv: a request for the
    network by itself); the latest papers of an arXiv category are fetched now."""
    if (file is None) == (arxiv is None):
        raise click.UsageError("give a FILE of papers or --arxiv CATEGORY, one of the two")
    if arxiv is None and latest is not None:
        raise click.UsageError("--latest goes with --arxiv CATEGORY")
    if arxiv is not None and fmt is not None:
        raise click.UsageError("--format-in is the format of FILE; --arxiv fetches an arXiv feed")
    if not online and arxiv is None:
        return file, file, None
    from ..online import Online

    client = Online()
    if arxiv is None:
        return file, file, client
    corpus = client.arxiv_listing(arxiv, 100 if latest is None else latest)
    return corpus, corpus.source, client


def _notes(ranking, file, include_known: bool) -> None:
    if ranking.known and not include_known:
        names = "; ".join(f"{p.id} (= {lib})" for p, lib in ranking.known[:10])
        more = f" and {len(ranking.known) - 10} more" if len(ranking.known) > 10 else ""
        note(
            f"{len(ranking.known)} of the {ranking.total} papers of {file} are already in the library "
            f"and not ranked: {names}{more} (--include-known ranks them too)"
        )
    if ranking.outside_dates:
        note(f"{ranking.outside_dates} paper(s) left out: dated outside --since/--until, or undated")
    if ranking.hidden_seen:
        note(f"{ranking.hidden_seen} paper(s) left out: shown by an earlier rank (--unseen)")
    if ranking.remembered is False:
        note("the papers shown could not be recorded (a read-only or busy index folder); --unseen will show them again")
    if any(ranking.marks):
        liked, disliked = ranking.marks
        note(f"steered by your marks: {liked} liked, {disliked} not liked (--no-marks ranks without them)")
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
        if r.mark is not None:
            mark += "  [liked]" if r.mark else "  [not liked]"
        click.echo(f"{r.rank:>4}  {r.score:5.3f}  {r.cosine:6.3f}  {r.id:<{id_width}}  {shorten(r.title, title_width)}{mark}")
        if r.link:  # never shortened: a cut link leads nowhere
            click.echo(f"{pad}link: {safe(r.link)}")
        if r.nearest:
            near = ", ".join(f"{n.id} ({n.cosine:.2f})" for n in r.nearest)
            click.echo(f"{pad}like: {shorten(near, title_width + id_width - 4)}")
        if r.why is not None:
            click.echo(f"{pad}why:  {r.why.short(title_width + id_width - 4)}")
