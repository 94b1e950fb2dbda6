"""``paperlike add``, ``remove``, ``dupes`` and ``export``."""

from __future__ import annotations

from pathlib import Path

import click

from ..format_registry import EXPORT_FORMATS
from .app import cli, setup_notes
from .choices import RegistryChoice
from .index import index_dir_of
from .options import engine_options, index_dir_option, json_option, reading_options, split_ids
from .output import emit_json, emit_records, note, safe, shorten
from .query import load_recommender
from .themes import resolve_theme_option, theme_set_options

__all__ = ["add", "remove", "dupes", "export"]


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@reading_options
@index_dir_option
@engine_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@json_option
def add(files, fmt, strict, title_col, abstract_col, index_dir, engine, ray_address, workers, device, quiet, as_json):
    """Add the papers of FILES to an index; only new or changed papers are embedded.

    A record with the id of an indexed paper replaces it; one with the same arXiv id (any
    version), DOI or title as an indexed paper is a duplicate: its missing fields are merged in
    and the id stays. Ids of indexed papers never change. All files are read before anything is
    written; an interrupted add leaves the previous index intact.

    Example usage:

    \b
        paperlike add new_papers.jsonl
        paperlike add zotero.bib arxiv_search.xml --index-dir ./my-index
        paperlike add today.csv --title-col Name --json
        paperlike add arxiv_new.jsonl --engine ray --ray-address 10.0.0.5:6379
    """
    from ..embedding.engines import get_engine
    from ..service.edits import add_papers

    setup_notes(quiet)
    runner = get_engine(engine, address=ray_address, workers=workers, device=device)
    corpora = [_read(f, fmt, strict, title_col, abstract_col, index_dir) for f in files]
    for corpus in corpora:
        for line in corpus.notes:
            note(line)
    report = add_papers(index_dir_of(index_dir), corpora, progress=not quiet, engine=runner, device=device)
    if as_json:
        emit_json({k: v for k, v in report.to_dict().items() if k != "notes"})
        return
    click.echo(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"duplicates skipped {report.duplicates}, malformed skipped {report.skipped} "
        f"({report.embedded} embedded in {report.seconds:.1f} s)"
    )
    for merge in report.merged[:10]:
        how = "it was merged there by dupes --merge" if merge["by"] == "alias" else f"same {merge['by']}"
        note(f"'{merge['record']}' merged into {merge['into']} ({how})" + _conflict(merge))
    if len(report.merged) > 10:
        note(f"{len(report.merged) - 10} more records merged into papers already indexed (--json lists them all)")


def _conflict(merge: dict) -> str:
    if not merge["titles_differ"]:
        return ""
    return f"; the titles differ: if they are different papers, one record's {merge['by']} is wrong"


def _read(path, fmt, strict, title_col, abstract_col, index_dir):
    """A file's papers; a list of ids or titles gives the index's own records of those it has
    (they add nothing) and is an error naming the others (see paperlike.service.idlists)."""
    from ..errors import IdListError, IndexMissingError
    from ..readers import read_corpus

    try:
        return read_corpus(path, fmt, strict=strict, title_col=title_col, abstract_col=abstract_col)
    except IdListError as exc:
        from ..service.idlists import id_list_corpus
        from ..storage import load_index

        try:
            index = load_index(index_dir_of(index_dir))
        except IndexMissingError:
            raise exc from None
        return id_list_corpus(index, exc)


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@index_dir_option
@json_option
def remove(ids, index_dir, as_json):
    """Remove papers from an index (nothing is removed if any of IDS names no paper).

    Each of IDS names a paper as in 'similar': its id, DOI, arXiv id or URL, its whole title, or
    the start of exactly one title with at least 3 words. A close misspelling is not taken, and a
    name several papers share (a title, a DOI) is refused with those papers listed.

    Example usage:

    \b
        paperlike remove autodistil
        paperlike remove tame ovor
        paperlike remove "LLM-Pruner: On the Structural Pruning of Large Language Models"
        paperlike remove 10.1145/3219819.3220000 arXiv:2201.00001v2 --index-dir ./my-index
    """
    from ..service.edits import remove_papers

    removed = remove_papers(index_dir_of(index_dir), ids)
    if as_json:
        emit_json({"removed": removed})
    else:
        click.echo(f"removed {len(removed)}: {safe(', '.join(removed))}")


@cli.command()
@click.option(
    "--threshold",
    type=click.FloatRange(-1.0, 1.0),
    default=0.95,
    show_default=True,
    help="Cosine similarity at or above which two papers are listed (and merged with --merge).",
)
@click.option("--merge", is_flag=True, help="Merge each listed pair (or each --pair) into one paper.")
@click.option(
    "--pair",
    "pairs",
    nargs=2,
    multiple=True,
    metavar="NAME NAME",
    help="With --merge or --dry-run: merge only these two papers (id, DOI, arXiv id, URL or title; repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show what --merge would merge; write nothing.")
@index_dir_option
@json_option
def dupes(threshold, merge, pairs, dry_run, index_dir, as_json):
    """List near-duplicate papers (different records, very similar text); merge them with --merge.

    Exact duplicates (same arXiv id, DOI or title) are merged when read; this lists the rest
    (e.g. a preprint and its published version) so you can decide. --merge merges each listed
    pair (one whose records have two different arXiv ids or DOIs is two papers: it is skipped
    and reported); with --pair, only the pairs named, whatever their identifiers.
    The richer record is kept, with its id: the published version (a venue, or a DOI that is not
    arXiv's) over a preprint, then more known fields, then the longer abstract, then the one
    first in the index. It gains the other's missing fields (so it has both the DOI and the
    arXiv id), tags, collections and authors, and the longer abstract. Every old id, DOI, arXiv
    id, URL and title keeps naming it ('similar OLDID', 'remove OLDID', 'export --ids OLDID'),
    and adding the merged record again adds nothing.

    Example usage:

    \b
        paperlike dupes
        paperlike dupes --threshold 0.9 --json
        paperlike dupes --merge --dry-run
        paperlike dupes --merge --threshold 0.98 --json
        paperlike dupes --merge --pair arXiv:2201.00001 10.1145/3219819.3220000 --index-dir ./my-index
    """
    import math

    setup_notes()
    if math.isnan(threshold):
        raise click.UsageError("--threshold must be a number between -1 and 1, not nan")
    if merge or dry_run:
        _merge(index_dir_of(index_dir), [list(p) for p in pairs] or None, threshold, dry_run, as_json)
        return
    if pairs:
        raise click.UsageError("--pair names papers to merge: add --merge (or --dry-run to see what it would do)")
    from ..search.dupes import near_duplicates

    pairs_found = near_duplicates(load_recommender(index_dir).index, threshold)
    if as_json:
        emit_json([p.to_dict() for p in pairs_found])
        return
    if not pairs_found:
        click.echo(f"no near-duplicates at cosine >= {threshold}")
    for pair in pairs_found:
        click.echo(f"{pair.score:.3f}  {safe(pair.a)}  ~  {safe(pair.b)}")
        click.echo(f"       {shorten(pair.title_a, 90)}")
        click.echo(f"       {shorten(pair.title_b, 90)}")


def _merge(directory: Path, pairs: list[list[str]] | None, threshold: float, dry_run: bool, as_json: bool) -> None:
    from ..service.merge import merge_papers

    report = merge_papers(directory, pairs, threshold=threshold, dry_run=dry_run)
    if as_json:
        emit_json(report.to_dict())
        return
    verb = "would merge" if dry_run else "merged"
    for m in report.merges:
        click.echo(f"{verb} {safe(', '.join(m.merged))} into {safe(m.into)}  (cosine {m.score:.3f}; kept: {m.kept_because})")
        click.echo(f"       {shorten(m.title, 90)}")
    for skip in report.skipped:
        note(f"not merged: {safe(skip['a'])} ~ {safe(skip['b'])} ({skip['score']:.3f}): {skip['why']}")
    if not report.merges:
        click.echo("nothing to merge" + ("" if pairs else f" at cosine >= {threshold}"))
    elif dry_run:
        click.echo(f"{report.merged} record(s) would be merged; nothing was written (run without --dry-run to merge)")
    else:
        click.echo(
            f"{report.merged} record(s) merged ({report.embedded} embedded); their ids, DOIs and arXiv ids name the kept papers"
        )


@cli.command()
@click.option("--format", "fmt", type=RegistryChoice(lambda: EXPORT_FORMATS), required=True, help="Output format.")
@click.option("--theme", default=None, help="Only the papers of this theme (of the set -n/--seed/--theme-set name).")
@theme_set_options
@click.option("--ids", "ids", multiple=True, callback=split_ids, help="Only these paper ids (comma-separated; repeatable).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    default=None,
    help="Write to this file (atomically) instead of stdout; '-' is stdout.",
)
@index_dir_option
def export(fmt, theme, theme_set, ids, output, index_dir):
    """Export papers as BibTeX, JSONL or CSV (all papers, a theme's, or chosen ids).

    JSONL round-trips: 'paperlike index build --corpus' on it gives the same papers and ids.
    CSV cells that a spreadsheet would run as formulas (leading =, +, -, @) are neutralised.

    Example usage:

    \b
        paperlike export --format bibtex -o papers.bib
        paperlike export --format jsonl --theme distillation --seed distillation
        paperlike export --format csv --ids autodistil,tame
    """
    setup_notes()
    rec = load_recommender(index_dir)
    chosen = resolve_theme_option(rec, theme, theme_set)
    emit_records(rec.select_papers(theme=chosen, ids=ids), fmt, output)
