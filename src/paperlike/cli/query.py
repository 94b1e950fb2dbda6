"""``paperlike similar`` and ``paperlike papers``."""

from __future__ import annotations

from pathlib import Path

import click

from .app import cli, setup_notes
from .options import device_option, index_dir_option, mode_option, output_options
from .output import emit_json, emit_records, note, note_reading, print_answer, print_table
from .themes import resolve_theme_option, theme_set_options

__all__ = ["similar", "papers", "load_recommender"]


def load_recommender(index_dir: Path | None, progress: bool = True, device: str | None = None):
    from ..service.recommender import Recommender

    rec = Recommender.load(index_dir, progress=progress)
    if device is not None:  # the index's model on that device; only a text query loads it
        from ..embedding import get_embedder

        rec.embedder = get_embedder(rec.index.model.get("name"), device=device)
    return rec


@cli.command()
@click.argument("query", nargs=-1)
@click.option("-k", "k", type=int, default=10, show_default=True, help="Number of results.")
@click.option(
    "--ids-file",
    type=click.Path(path_type=Path),
    default=None,
    help="A file naming library papers one a line (arXiv id, DOI, URL or title): papers like all of them, as QUERY.",
)
@click.option(
    "--not",
    "unlike",
    multiple=True,
    metavar="PAPER",
    help="A paper the results should NOT be like (repeatable); QUERY must then name papers.",
)
@mode_option
@click.option(
    "--diverse",
    is_flag=True,
    help="Re-rank so the top results are not variations of one idea (MMR). The results are then in "
    "order of the mmr column (the MMR gain); score stays the relevance, so it need not decrease.",
)
@click.option("--why", is_flag=True, help="Show the key terms each result shares with the query (always in --json).")
@click.option("--text", "as_text", is_flag=True, help="Treat QUERY as free text, even if it names a paper.")
@click.option("--paper", "as_paper", is_flag=True, help="QUERY must name an indexed paper (id, DOI, arXiv id, URL or title).")
@click.option(
    "--online",
    is_flag=True,
    help="A QUERY arXiv id or DOI the index does not have: fetch its record from arXiv or Crossref and search "
    "its title and abstract (the network is never used without this).",
)
@click.option(
    "--theme",
    default=None,
    help="Only papers of this theme (id, seed name, whole label or label phrase) of the set -n/--seed/--theme-set name.",
)
@theme_set_options
@click.option("--no-marks", is_flag=True, help="Also answer papers you marked not liked (see: paperlike mark).")
@device_option
@index_dir_option
@output_options(formats=True)
def similar(
    query,
    k,
    ids_file,
    unlike,
    mode,
    diverse,
    why,
    as_text,
    as_paper,
    online,
    theme,
    no_marks,
    theme_set,
    device,
    index_dir,
    as_json,
    export_format,
):
    """Papers like QUERY: a paper id, DOI, arXiv id or URL, a title, free text, or several papers.

    QUERY names a paper when it is, in order, a paper id; a DOI, an arXiv id (with or without
    version, old-style ids such as hep-th/9901001 too) or an arXiv / doi.org / publisher / other
    URL of an indexed paper; a whole title (any case and punctuation), the start of exactly one
    title with at least 3 words, or a close misspelling of a whole title or id. Anything else,
    one word or several, is free text. A note on stderr always says how QUERY was read (JSON:
    query_kind), and names the papers whose titles a free-text QUERY starts. --text forces free
    text; with --paper QUERY must name a paper, and any unique title start does. A DOI or arXiv
    id that is not in the index is an error; with --online its record is fetched from arXiv or
    Crossref (cached for a week) and its title and abstract searched. Several QUERY arguments, or --not, ask for papers like all of
    those papers and unlike the --not ones. The query papers are never in the results. Looking
    up indexed papers loads no model (unless --theme has to compute seeded themes first).

    Each result shows its rank, score, id and title, then first author(s), year, venue and a
    link when the record has them (JSON: year, authors, venue, link). --mode explains the score.
    Papers you marked not liked (paperlike mark PAPER --dislike) are left out; --no-marks keeps them.

    Example usage:

    \b
        paperlike similar "AutoDistil"
        paperlike similar autodistil -k 5 --json
        paperlike similar arXiv:2201.00001v2 --index-dir ./my-index
        paperlike similar https://dl.acm.org/doi/10.1145/3219819.3220000 --index-dir ./my-index
        paperlike similar grokking
        paperlike similar autodistil --why
        paperlike similar "few-shot continual learning" --text --mode dense
        paperlike similar autodistil llm-pruner --not tame
        paperlike similar --ids-file reading_list.txt
        paperlike similar autodistil --diverse
        paperlike similar autodistil --theme distillation --seed distillation
        paperlike similar autodistil --theme t2 --theme-set mine
        paperlike similar autodistil -k 5 --format bibtex > related.bib
        paperlike similar "sparse attention on long documents" --text --device cuda
        paperlike similar 2401.00002 --online
    """
    setup_notes()
    _check_similar_options(query, k, ids_file, unlike, as_text, as_paper)
    if online and (ids_file is not None or len(query) != 1 or unlike or as_text):
        raise click.UsageError(
            "--online fetches one QUERY (an arXiv id or DOI); give it alone, without --ids-file, --not or --text"
        )
    rec = load_recommender(index_dir, device=device)
    rec.use_marks = not no_marks
    if ids_file is not None:
        from ..service.idlists import id_list_ids

        query = (*query, *id_list_ids(rec.index, ids_file))
    from ..records.search_options import SearchOptions

    opts = SearchOptions(k, resolve_theme_option(rec, theme, theme_set), mode, diverse, why or as_json)
    kind = "text" if as_text else "paper" if as_paper else "auto"
    answer = rec.answer(list(query), opts, unlike=list(unlike), kind=kind, online=online)
    _note_marks(rec)
    if export_format:
        note_reading(answer)
        emit_records(rec.records([r.id for r in answer.results]), export_format)
        return
    print_answer(answer, why=why, as_json=as_json)


def _note_marks(rec) -> None:
    if rec.use_marks:
        from ..service.triage import disliked_positions

        hidden = len(disliked_positions(rec.index))
        if hidden:
            note(f"{hidden} paper(s) you marked not liked are left out (--no-marks keeps them)")


def _check_similar_options(query, k, ids_file, unlike, as_text, as_paper) -> None:
    if not query and ids_file is None:
        raise click.UsageError("give a QUERY (a paper or free text), or --ids-file FILE")
    if k <= 0:
        raise click.UsageError(f"-k must be at least 1 (got {k})")
    if as_text and as_paper:
        raise click.UsageError("--text and --paper contradict each other; give one")
    if as_text and ids_file is not None:
        raise click.UsageError("--text reads QUERY as free text; --ids-file names papers: give one")
    if as_text and (len(query) > 1 or unlike):
        raise click.UsageError(
            f'--text takes one QUERY; quote free text with several words: paperlike similar "{" ".join(query)}" --text'
        )


@cli.command()
@index_dir_option
@output_options(formats=True)
@click.option("--search", "contains", default=None, help="Only papers whose id or title contains this text (any case).")
def papers(index_dir, as_json, export_format, contains):
    """List the indexed papers: id and title (or full records with --format).

    Example usage:

    \b
        paperlike papers
        paperlike papers --search distil
        paperlike papers --json
        paperlike papers --search distil --format bibtex > distillation.bib
    """
    setup_notes()
    rec = load_recommender(index_dir)
    if export_format:
        emit_records(rec.select_papers(contains=contains), export_format)
        return
    rows = rec.list_papers(contains)
    if as_json:
        emit_json([{"id": pid, "title": title} for pid, title in rows])
        return
    print_table(rows)
