"""``paperlike similar`` and ``paperlike papers``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import PaperlikeError
from .app import cli, one_line, setup_notes
from .options import index_dir_option, json_option
from .output import emit_json, note, print_results, shorten
from .themes import resolve_theme_option, theme_set_options

__all__ = ["similar", "papers"]


def load_recommender(index_dir: Path | None, progress: bool = True):
    from ..service.recommender import Recommender

    return Recommender.load(index_dir, progress=progress)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("-k", "k", type=int, default=10, show_default=True, help="Number of results.")
@click.option(
    "--not",
    "unlike",
    multiple=True,
    metavar="PAPER",
    help="A paper the results should NOT be like (repeatable); QUERY must then name papers.",
)
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "dense", "lexical"]),
    default="hybrid",
    show_default=True,
    help="Ranking: BM25 fused with the model's cosine (best measured), the model alone, or BM25 alone.",
)
@click.option("--diverse", is_flag=True, help="Re-rank so the top results are not variations of one idea (MMR).")
@click.option("--why", is_flag=True, help="Show the key terms each result shares with the query (always in --json).")
@click.option("--text", "as_text", is_flag=True, help="Treat QUERY as free text, even if it names a paper.")
@click.option("--paper", "as_paper", is_flag=True, help="QUERY must name an indexed paper (id or title).")
@click.option(
    "--theme",
    default=None,
    help="Only papers of this theme (id, seed name or label phrase) of the set -n/--seed/--theme-set name.",
)
@theme_set_options
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["bibtex", "jsonl", "csv"]),
    default=None,
    help="Print the result papers as full records in this format (e.g. for a reference manager).",
)
@index_dir_option
@json_option
def similar(query, k, unlike, mode, diverse, why, as_text, as_paper, theme, theme_set, export_format, index_dir, as_json):
    """Papers like QUERY: a paper id, a title, free text, or several papers.

    QUERY is matched, in order, as a paper id, an exact title, a unique title prefix or a close
    misspelling of a title (all case-insensitive). A query of several words that names no paper
    is searched as free text; --text forces that, --paper forbids it. Several QUERY arguments,
    or --not, ask for papers like all of those papers and unlike the --not ones. The query
    papers are never in the results. Looking up indexed papers loads no model (unless --theme
    has to compute seeded themes first).

    Ranking (--mode) fuses BM25 with the model's cosine by default; see benchmarks/quality.py
    for the measurements behind that choice.

    Example usage:

    \b
        paperlike similar "AutoDistil"
        paperlike similar autodistil -k 5 --json
        paperlike similar autodistil --why
        paperlike similar "few-shot continual learning" --text --mode dense
        paperlike similar autodistil llm-pruner --not lifelong-pretraining-with-distillation-and-kronecker-factored-approximation
        paperlike similar autodistil --diverse
        paperlike similar autodistil --theme distillation --seed distillation
        paperlike similar autodistil --theme t2 --theme-set mine
        paperlike similar autodistil -k 5 --format bibtex > related.bib
    """
    setup_notes()
    if k <= 0:
        raise click.UsageError(f"-k must be at least 1 (got {k})")
    if as_text and as_paper:
        raise click.UsageError("--text and --paper contradict each other; give one")
    rec = load_recommender(index_dir)
    theme = resolve_theme_option(rec, theme, theme_set)
    explain = why or as_json
    if len(query) > 1 or unlike:
        if as_text:
            joined = " ".join(query)
            raise click.UsageError(
                f'--text takes one QUERY; quote free text with several words: paperlike similar "{joined}" --text'
            )
        positions = []
        for q in query:
            try:
                positions.append(rec.find(q))
            except PaperlikeError as exc:
                hint = ' (to search free text, quote it: paperlike similar "' + " ".join(query) + '")' if len(query) > 1 else ""
                raise PaperlikeError(f"{one_line(str(exc))}{hint}") from None
        # Ids, not the queries as typed: each is resolved once here, and like() needs no fuzzy match.
        liked = [rec.index.ids[p] for p in positions]
        results = rec.like(liked, k, unlike=list(unlike), theme=theme, mode=mode, diverse=diverse, why=explain)
        from ..records import Answer

        answer = Answer(" + ".join(query), "papers", results, mode=mode)
        header = "Papers like: " + "; ".join(f"{rec.index.titles[p]} [{rec.index.ids[p]}]" for p in positions)
        if unlike:
            header += "\nand unlike: " + "; ".join(f"[{rec.index.ids[rec.find(u)]}]" for u in unlike)
    else:
        answer = rec.recommend(
            query[0],
            k,
            kind="text" if as_text else "paper" if as_paper else "auto",
            theme=theme,
            mode=mode,
            diverse=diverse,
            why=explain,
        )
        if answer.kind == "paper":
            header = f"Papers like: {answer.paper_title} [{answer.paper_id}]"
        else:
            header = f"Papers like the text: {shorten(answer.query, 100)}"
    if answer.note:
        note(answer.note)
    if export_format:
        from ..export import export_papers

        by_id = {p.id: p for p in rec.index.papers()}
        click.echo(export_papers([by_id[r.id] for r in answer.results], export_format), nl=False)
        return
    if as_json:
        emit_json([r.to_dict() for r in answer.results])
        return
    click.echo(header + (f"  (ranking: {mode}{', diverse' if diverse else ''})" if mode != "hybrid" or diverse else ""))
    print_results(answer.results, why)


@cli.command()
@index_dir_option
@json_option
@click.option("--search", "contains", default=None, help="Only papers whose id or title contains this text.")
def papers(index_dir, as_json, contains):
    """List the indexed papers: id and title.

    Example usage:

    \b
        paperlike papers
        paperlike papers --search distil
        paperlike papers --json
    """
    setup_notes()
    index = load_recommender(index_dir).index
    rows = [
        {"id": pid, "title": title}
        for pid, title in zip(index.ids, index.titles)
        if contains is None or contains.casefold() in pid.casefold() or contains.casefold() in title.casefold()
    ]
    if as_json:
        emit_json(rows)
        return
    id_width = max((len(r["id"]) for r in rows), default=2)
    for r in rows:
        click.echo(f"{r['id']:<{id_width}}  {r['title']}")
