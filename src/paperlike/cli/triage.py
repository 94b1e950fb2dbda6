"""``paperlike mark`` and ``paperlike marks``: the reader's liked / not-liked papers."""

from __future__ import annotations

import click

from .app import cli, setup_notes
from .options import index_dir_option, json_option
from .output import emit_json, note, safe, shorten
from .query import load_recommender

__all__ = ["mark", "marks"]

_SAID = {"like": "liked", "dislike": "not liked", "cleared": "mark cleared", "none": "had no mark"}


@cli.command()
@click.argument("papers", nargs=-1, required=True, metavar="PAPER...")
@click.option("--like", "like", is_flag=True, help="Mark the papers liked (the default).")
@click.option("--dislike", is_flag=True, help="Mark the papers not liked.")
@click.option("--clear", is_flag=True, help="Remove the papers' marks.")
@index_dir_option
@json_option
def mark(papers, like, dislike, clear, index_dir, as_json):
    """Mark papers liked or not liked; the marks steer later 'rank' and 'similar'.

    PAPER is a library paper (id, DOI, arXiv id, URL or title, as 'similar' reads it) or a paper
    that 'paperlike rank' showed recently (by its id, arXiv id, DOI or title). A mark belongs to
    the paper, so it is recognised in later batches and after a rebuild. 'rank' then moves each
    new paper by how near it is to the liked and the not-liked papers, and 'similar' leaves out
    papers marked not liked. Nothing is marked when a PAPER is unknown.

    Example usage:

    \b
        paperlike mark autodistil
        paperlike mark tame --dislike
        paperlike mark autodistil --clear
    """
    from ..service.triage import mark_papers

    setup_notes()
    if like + dislike + clear > 1:
        raise click.UsageError("give one of --like, --dislike and --clear")
    rec = load_recommender(index_dir)
    changes = mark_papers(rec.opened, list(papers), None if clear else not dislike)
    if as_json:
        emit_json([{"id": c.paper.id, "title": c.paper.title, "mark": c.change, "in_library": c.in_library} for c in changes])
        return
    for c in changes:
        where = "" if c.in_library else "  (from a ranked batch)"
        click.echo(f"{_SAID[c.change]:<12}  {safe(c.paper.id)}  {shorten(c.paper.title, 70)}{where}")


@cli.command()
@click.option("--forget-seen", is_flag=True, help="Forget which papers 'rank' showed (--unseen shows them again).")
@index_dir_option
@json_option
def marks(forget_seen, index_dir, as_json):
    """List the papers you marked liked or not liked (newest last).

    Example usage:

    \b
        paperlike marks
        paperlike marks --json
        paperlike marks --forget-seen
    """
    from ..service.triage import forget_seen as forget
    from ..service.triage import marks as all_marks

    setup_notes()
    rec = load_recommender(index_dir)
    if forget_seen:
        note(f"forgot {forget(rec.opened)} shown paper key(s); 'rank --unseen' shows those papers again")
    found = all_marks(rec.opened)
    if as_json:
        emit_json([m.to_dict() for m in found])
        return
    if not found:
        click.echo("(no marks; mark papers with: paperlike mark PAPER --like / --dislike)")
    for m in found:
        click.echo(f"{'liked' if m.liked else 'not liked':<9}  {m.at}  {safe(m.paper.id)}  {shorten(m.paper.title, 70)}")
