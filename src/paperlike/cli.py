"""The ``paperlike`` command line. Parses options, calls the library, prints.

Every library error (:class:`~paperlike.errors.PaperlikeError`) and every usage error becomes a
single ``Error: ...`` line on stderr with exit code 2; nothing here does the actual work.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path

import click

from ._version import __version__
from .errors import PaperlikeError

__all__ = ["cli", "main"]


class _Group(click.Group):
    """A group whose errors are one line on stderr with exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PaperlikeError as exc:
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:
            raise
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}; check the path and its permissions") from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug, not bad input: still one line, but exit 1 and say so
            if os.environ.get("PAPERLIKE_DEBUG"):
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {_one_line(str(exc))[:200]}; this is a bug in paperlike, "
                "please report it (PAPERLIKE_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(1)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
            click.echo(f"Error: {_one_line(exc.format_message())}{hint}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"Error: {_one_line(exc.format_message())}", err=True)
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (e.g. '| head'): stop quietly, as other command-line tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        sys.exit(rv if isinstance(rv, int) else 0)


def _one_line(message: str) -> str:
    return " ".join(message.split())


class _NoteHandler(logging.Handler):
    """Shows the library's notes (e.g. "building the default index") on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"note: {record.getMessage()}", err=True)


def _setup_notes(quiet: bool = False) -> None:
    logger = logging.getLogger("paperlike")
    logger.handlers = [_NoteHandler()]
    logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.INFO)


index_dir_option = click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index directory (default: $PAPERLIKE_INDEX_DIR, else the built-in default; see 'paperlike info').",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _reading_options(func):
    """--format, --strict, --title-col and --abstract-col, shared by 'index build' and 'add'."""
    from .corpus import FORMATS

    for option in reversed([
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Corpus format (default: detected from the extension and content)."),
        click.option("--strict", is_flag=True, help="Fail on the first malformed entry (default: skip it with a note)."),
        click.option("--title-col", default=None, help="CSV/TSV: the title column (default: found by name)."),
        click.option("--abstract-col", default=None, help="CSV/TSV: the abstract column (default: found by name)."),
    ]):
        func = option(func)
    return func


def _note(message: str) -> None:
    logging.getLogger("paperlike").info(message)


def _emit_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def _load(index_dir: Path | None, progress: bool = True):
    from .recommend import Recommender

    return Recommender.load(index_dir, progress=progress)


@click.group(name="paperlike", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperlike")
def cli():
    """Find papers like a paper, and browse a pile of papers.

    paperlike embeds every title + abstract with a small local model (all-MiniLM-L6-v2), keeps
    the vectors in a FAISS index on disk, and answers "which papers are like this one?".
    With no --index-dir it uses a default index of 75 bundled papers, built on first use.

    Example usage:

    \b
        paperlike similar "AutoDistil"
        paperlike similar autodistil -k 5 --json
        paperlike similar "distilling a language model into a small student" --text
        paperlike index build --corpus my_papers.jsonl --index-dir ./my-index
        paperlike themes --seed distillation --seed "continual learning"
        paperlike add new_papers.bib
        paperlike export --format bibtex --theme distillation
        paperlike info
    """


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("-k", "k", type=int, default=10, show_default=True, help="Number of results.")
@click.option("--not", "unlike", multiple=True, metavar="PAPER",
              help="A paper the results should NOT be like (repeatable); QUERY must then name papers.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True,
              help="Ranking: BM25 fused with the model's cosine (best measured), the model alone, or BM25 alone.")
@click.option("--diverse", is_flag=True, help="Re-rank so the top results are not variations of one idea (MMR).")
@click.option("--why", is_flag=True, help="Show the key terms each result shares with the query (always in --json).")
@click.option("--text", "as_text", is_flag=True, help="Treat QUERY as free text, even if it names a paper.")
@click.option("--paper", "as_paper", is_flag=True, help="QUERY must name an indexed paper (id or title).")
@click.option("--theme", default=None, help="Only papers of this theme (id, seed name or label phrase).")
@click.option("--format", "export_format", type=click.Choice(["bibtex", "jsonl", "csv"]), default=None,
              help="Print the result papers as full records in this format (e.g. for a reference manager).")
@index_dir_option
@json_option
def similar(query, k, unlike, mode, diverse, why, as_text, as_paper, theme, export_format, index_dir, as_json):
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
        paperlike similar autodistil --theme distillation
        paperlike similar autodistil -k 5 --format bibtex > related.bib
    """
    _setup_notes()
    if k <= 0:
        raise click.UsageError(f"-k must be at least 1 (got {k})")
    if as_text and as_paper:
        raise click.UsageError("--text and --paper contradict each other; give one")
    rec = _load(index_dir)
    explain = why or as_json
    if len(query) > 1 or unlike:
        if as_text:
            joined = " ".join(query)
            raise click.UsageError(f'--text takes one QUERY; quote free text with several words: paperlike similar "{joined}" --text')
        positions = []
        for q in query:
            try:
                positions.append(rec.find(q))
            except PaperlikeError as exc:
                hint = ' (to search free text, quote it: paperlike similar "' + " ".join(query) + '")' if len(query) > 1 else ""
                raise PaperlikeError(f"{_one_line(str(exc))}{hint}") from None
        # Ids, not the queries as typed: each is resolved once here, and like() needs no fuzzy match.
        liked = [rec.index.ids[p] for p in positions]
        results = rec.like(liked, k, unlike=list(unlike), theme=theme, mode=mode, diverse=diverse, why=explain)
        from .recommend import Answer

        answer = Answer(" + ".join(query), "papers", results, mode=mode)
        header = "Papers like: " + "; ".join(f"{rec.index.titles[p]} [{rec.index.ids[p]}]" for p in positions)
        if unlike:
            header += "\nand unlike: " + "; ".join(f"[{rec.index.ids[rec.find(u)]}]" for u in unlike)
    else:
        answer = rec.recommend(query[0], k, kind="text" if as_text else "paper" if as_paper else "auto", theme=theme,
                               mode=mode, diverse=diverse, why=explain)
        if answer.kind == "paper":
            header = f"Papers like: {answer.paper_title} [{answer.paper_id}]"
        else:
            header = f"Papers like the text: {_shorten(answer.query, 100)}"
    if answer.note:
        _note(answer.note)
    if export_format:
        from .export import export_papers

        by_id = {p.id: p for p in rec.index.papers()}
        click.echo(export_papers([by_id[r.id] for r in answer.results], export_format), nl=False)
        return
    if as_json:
        _emit_json([r.to_dict() for r in answer.results])
        return
    click.echo(header + (f"  (ranking: {mode}{', diverse' if diverse else ''})" if mode != "hybrid" or diverse else ""))
    _print_results(answer.results, why)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def _print_results(results, why: bool = False) -> None:
    if not results:
        click.echo("(no results)")
        return
    # Ids are never shortened: users copy them into the next command.
    id_width = max(len(r.id) for r in results)
    width = shutil.get_terminal_size((120, 24)).columns
    title_width = max(width - id_width - 16, 30)
    click.echo(f"{'rank':>4}  {'score':>5}  {'id':<{id_width}}  title")
    for r in results:
        click.echo(f"{r.rank:>4}  {r.score:5.2f}  {r.id:<{id_width}}  {_shorten(r.title, title_width)}")
        if why and r.why is not None:
            click.echo(f"{'':>13}  why: {r.why.short(title_width + id_width - 3)}")
            if r.why.result_sentence:
                click.echo(f"{'':>13}       \"{_shorten(r.why.result_sentence, title_width + id_width - 10)}\"")


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
    _setup_notes()
    index = _load(index_dir).index
    rows = [
        {"id": pid, "title": title}
        for pid, title in zip(index.ids, index.titles)
        if contains is None or contains.casefold() in pid.casefold() or contains.casefold() in title.casefold()
    ]
    if as_json:
        _emit_json(rows)
        return
    id_width = max((len(r["id"]) for r in rows), default=2)
    for r in rows:
        click.echo(f"{r['id']:<{id_width}}  {r['title']}")


@cli.command()
@click.option("-n", "n", type=int, default=None,
              help="Number of themes, seeded ones included (default: chosen automatically).")
@click.option(
    "--seed", "seeds", multiple=True, metavar="NAME[=WORDS]",
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
    _setup_notes()
    if n is not None and n <= 0:
        raise click.UsageError(f"-n must be at least 1 (got {n})")
    result = _load(index_dir).themes(n, list(seeds))
    if as_json:
        _emit_json(result.to_dict())
        return
    id_width = max(len(t.id) for t in result)
    click.echo(f"{len(result)} themes of {sum(1 for _ in {p.id for t in result for p in t.papers})} papers")
    for theme in result:
        kind = f"seed: {theme.seed}" if theme.seed else "discovered"
        status = f", {theme.status}" if theme.status and theme.status != "same" else ""
        click.echo(f"{theme.id:<{id_width}}  {theme.size:>4}  {theme.label}  ({kind}{status})")
        for paper in theme.papers[: max(show, 0)]:
            click.echo(f"{'':<{id_width}}        {paper.score:5.3f}  {paper.id}")
    _print_changes(result.changes)


@cli.command(name="map")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="HTML file to write (relative paths are from the current directory).")
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
    from .mapview import map_html
    from .store import atomic_write_bytes

    _setup_notes()
    if n is not None and n <= 0:
        raise click.UsageError(f"-n must be at least 1 (got {n})")
    if out.parent and not out.parent.resolve().is_dir():
        raise PaperlikeError(f"cannot write {out}: folder {out.parent} does not exist; create it or choose another --out")
    rec = _load(index_dir)
    themes = rec.themes(n, list(seeds)) if (n is not None or seeds) else rec.latest_themes()
    frame = rec.map_2d(themes)
    page = map_html(frame, rec.neighbours(5) if len(rec) <= 20000 else {}, title)
    try:
        atomic_write_bytes(out, page.encode("utf-8"))
    except OSError as exc:
        raise PaperlikeError(f"cannot write {out} ({exc.strerror or exc}); choose another --out") from None
    summary = {"out": str(out.resolve()), "papers": len(frame), "themes": len(themes), "projection": frame.attrs["method"],
               "bytes": len(page.encode("utf-8"))}
    if as_json:
        _emit_json(summary)
    else:
        click.echo(f"Wrote a map of {summary['papers']} papers in {summary['themes']} themes "
                   f"({summary['projection']}) to {summary['out']}")


def _print_changes(changes: dict) -> None:
    parts = [f"{key} {', '.join(changes[key])}" for key in ("new", "grown", "shrunk", "gone") if changes.get(key)]
    parts += [f"merged {old} into {new}" for old, new in sorted(changes.get("merged", {}).items())]
    if parts:
        click.echo("changes since the last themes of this index: " + "; ".join(parts))


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
    _setup_notes()
    if k is not None and k <= 0:
        raise click.UsageError(f"-k must be at least 1 (got {k})")
    found = _load(index_dir).theme(name)
    papers = found.papers if k is None else found.papers[:k]
    if as_json:
        _emit_json({**found.to_dict(), "papers": [p.to_dict() for p in papers]})
        return
    kind = f"seed: {found.seed}" if found.seed else "discovered"
    click.echo(f"{found.id}: {found.label} ({kind}, {found.size} papers)")
    id_width = max((len(p.id) for p in papers), default=2)
    for rank, paper in enumerate(papers, 1):
        click.echo(f"{rank:>4}  {paper.score:5.3f}  {paper.id:<{id_width}}  {_shorten(paper.title, 70)}")


@cli.command()
@index_dir_option
@json_option
def info(index_dir, as_json):
    """Show which index is used: papers, model, dimension, where, built when.

    Does not build anything: with no index yet it says where one will be built.

    Example usage:

    \b
        paperlike info
        paperlike info --index-dir ./my-index --json
    """
    from .index import read_manifest
    from .paths import default_index_dir
    from .recommend import describe_manifest

    reason = "--index-dir"
    if index_dir is None:
        index_dir, reason = default_index_dir()
    from .errors import IndexMissingError

    try:
        summary = describe_manifest(Path(index_dir), reason, read_manifest(index_dir))
    except IndexMissingError:
        if reason == "--index-dir" or reason.startswith("$"):
            raise
        summary = {"index_dir": str(index_dir), "index_dir_from": reason, "papers": None}
    if as_json:
        _emit_json(summary)
        return
    if summary.get("papers") is None:
        click.echo(f"index dir:  {summary['index_dir']} (from {reason})")
        click.echo("no index yet: the first 'paperlike similar' builds it from the 75 bundled papers")
        return
    labels = [
        ("index dir", f"{summary['index_dir']} (from {summary['index_dir_from']})"),
        ("papers", summary["papers"]),
        ("model", " ".join(str(v) for v in (summary["model"], summary["model_package"], summary["model_version"]) if v)),
        ("weights", (summary["model_weights_sha256"] or "-")[:16]),
        ("dim", summary["dim"]),
        ("faiss index", summary["faiss_index"]),
        ("corpus", summary["corpus"]),
        ("built at", summary["built_at"]),
        ("format", f"v{summary['format_version']}, generation {summary['generation']}"),
    ]
    for label, value in labels:
        click.echo(f"{label + ':':<12} {value}")


def _index_dir(index_dir: Path | None) -> Path:
    from .paths import default_index_dir

    return index_dir if index_dir is not None else default_index_dir()[0]


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_reading_options
@index_dir_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@json_option
def add(files, fmt, strict, title_col, abstract_col, index_dir, quiet, as_json):
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
    """
    from .corpus import read_corpus
    from .update import add_papers

    _setup_notes(quiet)
    corpora = [read_corpus(f, fmt, strict=strict, title_col=title_col, abstract_col=abstract_col) for f in files]
    for corpus in corpora:
        for note in corpus.notes:
            _note(note)
    report = add_papers(_index_dir(index_dir), corpora, progress=not quiet)
    if as_json:
        _emit_json({k: v for k, v in report.to_dict().items() if k != "notes"})
        return
    click.echo(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"duplicates skipped {report.duplicates}, malformed skipped {report.skipped} "
        f"({report.embedded} embedded in {report.seconds:.1f} s)"
    )


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@index_dir_option
@json_option
def remove(ids, index_dir, as_json):
    """Remove papers from an index by id (nothing is removed if any id is unknown).

    Example usage:

    \b
        paperlike remove autodistil
        paperlike remove tame ovor --index-dir ./my-index
    """
    from .update import remove_papers

    removed = remove_papers(_index_dir(index_dir), ids)
    if as_json:
        _emit_json({"removed": removed})
    else:
        click.echo(f"removed {len(removed)}: {', '.join(removed)}")


@cli.command()
@click.option("--threshold", type=click.FloatRange(-1.0, 1.0), default=0.95, show_default=True,
              help="Cosine similarity at or above which two papers are listed.")
@index_dir_option
@json_option
def dupes(threshold, index_dir, as_json):
    """List near-duplicate papers (different records, very similar text) for review.

    Nothing is merged: exact duplicates (same arXiv id, DOI or title) are merged when read;
    this lists the rest so you can decide (e.g. with 'paperlike remove').

    Example usage:

    \b
        paperlike dupes
        paperlike dupes --threshold 0.9 --json
    """
    import math

    from .dedupe import near_duplicates

    _setup_notes()
    if math.isnan(threshold):
        raise click.UsageError("--threshold must be a number between -1 and 1, not nan")
    pairs = near_duplicates(_load(index_dir).index, threshold)
    if as_json:
        _emit_json([p.to_dict() for p in pairs])
        return
    if not pairs:
        click.echo(f"no near-duplicates at cosine >= {threshold}")
    for pair in pairs:
        click.echo(f"{pair.score:.3f}  {pair.a}  ~  {pair.b}")
        click.echo(f"       {_shorten(pair.title_a, 90)}")
        click.echo(f"       {_shorten(pair.title_b, 90)}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["bibtex", "jsonl", "csv"]), required=True, help="Output format.")
@click.option("--theme", default=None, help="Only the papers of this theme.")
@click.option("--ids", "ids", multiple=True, help="Only these paper ids (comma-separated; repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically) instead of stdout.")
@index_dir_option
def export(fmt, theme, ids, output, index_dir):
    """Export papers as BibTeX, JSONL or CSV (all papers, a theme's, or chosen ids).

    JSONL round-trips: 'paperlike index build --corpus' on it gives the same papers and ids.

    Example usage:

    \b
        paperlike export --format bibtex -o papers.bib
        paperlike export --format jsonl --theme distillation
        paperlike export --format csv --ids autodistil,tame
    """
    from .errors import QueryError
    from .export import export_papers
    from .store import atomic_write_bytes

    _setup_notes()
    rec = _load(index_dir)
    papers = rec.index.papers()
    if theme is not None:
        members = {p.id for p in rec.theme(theme).papers}
        papers = [p for p in papers if p.id in members]
    wanted = [i.strip() for group in ids for i in group.split(",") if i.strip()]
    if wanted:
        unknown = [i for i in wanted if rec.index.position(i) is None]
        if unknown:
            raise QueryError(f"unknown paper id(s): {', '.join(unknown)}; list ids with: paperlike papers")
        chosen = set(wanted)
        papers = [p for p in papers if p.id in chosen]
    text = export_papers(papers, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_bytes(output, text.encode("utf-8"))
        click.echo(f"wrote {len(papers)} papers to {output}", err=True)


@cli.group(cls=_Group)
def model():
    """The embedding model: where it is, which backend runs it, the ONNX export.

    Example usage:

    \b
        paperlike model info
        paperlike model export-onnx
    """


@model.command("info")
@json_option
def model_info(as_json):
    """Show the default model, its weights, and which backend will embed text.

    Example usage:

    \b
        paperlike model info --json
    """
    from .embed import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    ident = embedder.identity()
    summary = {**ident, "model_dir": str(embedder.model_dir), "onnx_file": str(embedder.onnx_file),
               "onnx_exported": embedder.onnx_file.is_file(), "backend": embedder.resolved_backend()}
    if as_json:
        _emit_json(summary)
        return
    for key in ("name", "package", "version", "weights_sha256", "dim", "model_dir", "onnx_file", "onnx_exported", "backend"):
        click.echo(f"{key + ':':<16} {summary[key]}")


@model.command("export-onnx")
@click.option("--force", is_flag=True, help="Export again even if the file exists.")
@json_option
def model_export_onnx(force, as_json):
    """Export all-MiniLM-L6-v2 to ONNX once, so text queries start without PyTorch.

    The export (about 20 s; it uses PyTorch) is checked against sentence-transformers on the 75
    bundled papers and kept only if every vector agrees to cosine >= 0.9999. It is written to
    $PAPERLIKE_CACHE_DIR, else the user cache folder; 'paperlike model info' shows where.

    Example usage:

    \b
        paperlike model export-onnx
        paperlike model export-onnx --force --json
    """
    from .corpus import bundled_corpus
    from .embed import MiniLMEmbedder
    from .onnxmodel import export_onnx

    _setup_notes()
    embedder = MiniLMEmbedder(backend="torch")
    target = embedder.onnx_file
    agreement = None
    if force or not target.is_file():
        agreement = export_onnx(embedder.model_dir, target, [p.text for p in bundled_corpus().papers])
    summary = {"onnx_file": str(target), "exported": agreement is not None, "min_cosine_vs_sentence_transformers": agreement}
    if as_json:
        _emit_json(summary)
    elif agreement is None:
        click.echo(f"already exported: {target} (--force to export again)")
    else:
        click.echo(f"exported {target}; agreement with sentence-transformers on the bundled papers: min cosine {agreement:.6f}")


@cli.group(cls=_Group)
def index():
    """Build and check indexes.

    Example usage:

    \b
        paperlike index build --corpus my_papers.jsonl --index-dir ./my-index
        paperlike index verify --index-dir ./my-index
    """


@index.command("build")
@click.option(
    "--corpus",
    "corpus_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Corpus file: Daily Papers text, JSONL, BibTeX, CSV/TSV, arXiv Atom XML or metadata JSON, "
    "CSL-JSON (default: the 75 bundled papers).",
)
@_reading_options
@index_dir_option
@click.option("--model", default=None, help="Embedding model: all-MiniLM-L6-v2 (default) or hashing.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True, help="Papers per embedding batch.")
@click.option("--no-cache", is_flag=True, help="Embed every paper again, even those already in the index.")
@click.option("--search", type=click.Choice(["auto", "exact", "hnsw"]), default="auto", show_default=True,
              help="Vector search: exact, approximate (HNSW), or auto (exact below 200,000 papers).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@json_option
def index_build(corpus_path, fmt, strict, title_col, abstract_col, index_dir, model, batch_size, no_cache, search, quiet, as_json):
    """Embed a corpus and write its index (replacing any index in the directory).

    Papers whose text the index already holds (same model) are not embedded again, and every
    batch is checkpointed as it is computed: an interrupted build resumes where it stopped. The
    new index is switched in atomically at the end, so until then the previous one stays usable.

    Example usage:

    \b
        paperlike index build
        paperlike index build --corpus my_papers.jsonl --index-dir ./my-index
        paperlike index build --corpus zotero.bib --index-dir ./my-index
        paperlike index build --corpus sheet.csv --title-col Name --abstract-col Summary
        paperlike index build --corpus daily.txt --model hashing --json
        paperlike index build --corpus arxiv_1m.jsonl --search hnsw
    """
    from .corpus import bundled_corpus, read_corpus
    from .embed import get_embedder
    from .index import build_index

    _setup_notes(quiet)
    if corpus_path is not None:
        corpus = read_corpus(corpus_path, fmt, strict=strict, title_col=title_col, abstract_col=abstract_col)
    else:
        corpus = bundled_corpus()
    embedder = get_embedder(model)
    index_dir = _index_dir(index_dir)
    for note in corpus.notes:
        _note(note)
    report = build_index(corpus, embedder, index_dir, batch_size=batch_size, progress=not quiet, reuse=not no_cache,
                         search=search)
    summary = {
        "index_dir": str(report.directory),
        "papers": report.count,
        "model": embedder.name,
        "embedded": report.embedded,
        "reused": report.reused,
        "skipped": corpus.skipped,
        "merged_duplicates": corpus.merged,
        "seconds": round(report.seconds, 3),
        "papers_per_second": round(report.papers_per_second, 2) if report.embedded else None,
        "notes": report.notes,
    }
    if as_json:
        _emit_json(summary)
    elif not quiet:
        speed = f", {report.papers_per_second:.1f} papers/s" if report.embedded else ""
        extra = "".join(
            f", {n} {what}" for n, what in ((corpus.skipped, "malformed skipped"), (corpus.merged, "duplicates merged")) if n
        )
        click.echo(
            f"Indexed {report.count} papers with {embedder.name} in {report.seconds:.1f} s "
            f"({report.embedded} embedded, {report.reused} reused{speed}{extra}) into {report.directory}"
        )


@index.command("verify")
@index_dir_option
@json_option
def index_verify(index_dir, as_json):
    """Check every index file against the sizes and checksums in its manifest.

    Exits with code 2 and lists the damaged files when anything is wrong.

    Example usage:

    \b
        paperlike index verify
        paperlike index verify --index-dir ./my-index --json
    """
    from .index import verify_index

    index_dir = _index_dir(index_dir)
    problems = verify_index(index_dir)
    if as_json:
        _emit_json({"index_dir": str(index_dir), "ok": not problems, "problems": problems})
    if problems:
        raise click.ClickException(
            f"index in {index_dir} is damaged: {'; '.join(problems)}; rebuild it with: "
            f"paperlike index build --index-dir {index_dir}"
        )
    if not as_json:
        click.echo(f"index in {index_dir} is sound")


def main() -> None:
    """Console-script entry point."""
    cli()
