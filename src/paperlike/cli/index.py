"""``paperlike index build|verify`` and ``paperlike info``."""

from __future__ import annotations

from pathlib import Path

import click

from .app import PaperlikeGroup, cli, setup_notes
from .options import engine_options, index_dir_option, json_option, model_option, reading_options
from .output import emit_json, note, safe

__all__ = ["index", "info"]


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
    from ..service.catalog import describe_index

    summary = describe_index(index_dir)
    if as_json:
        emit_json(summary)
        return
    if summary.get("papers") is None:
        click.echo(f"index dir:  {safe(summary['index_dir'])} (from {summary['index_dir_from']})")
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
        click.echo(f"{label + ':':<12} {safe(value)}")


def index_dir_of(index_dir: Path | None) -> Path:
    from ..settings import default_index_dir

    return index_dir if index_dir is not None else default_index_dir()[0]


@cli.group(cls=PaperlikeGroup)
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
@reading_options
@index_dir_option
@model_option
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True, help="Papers per embedding batch.")
@click.option("--no-cache", is_flag=True, help="Embed every paper again, even those already in the index.")
@click.option(
    "--search",
    type=click.Choice(["auto", "exact", "hnsw"]),
    default="auto",
    show_default=True,
    help="Vector search: exact, approximate (HNSW), or auto (exact below 200,000 papers).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Build into a folder that holds other files and no index (only paperlike's own files are written there).",
)
@engine_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
@json_option
def index_build(
    corpus_path,
    fmt,
    strict,
    title_col,
    abstract_col,
    index_dir,
    model,
    batch_size,
    no_cache,
    search,
    force,
    engine,
    ray_address,
    workers,
    device,
    quiet,
    as_json,
):
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
        paperlike index build --corpus papers.bib --index-dir ./project --force
        paperlike index build --corpus arxiv.jsonl --device cuda --batch-size 256
        paperlike index build --corpus arxiv.jsonl --engine ray --ray-address 10.0.0.5:6379
    """
    from ..embedding import get_embedder
    from ..embedding.engines import get_engine
    from ..readers import bundled_corpus, read_corpus
    from ..service.build import build_index

    setup_notes(quiet)
    # Before the corpus is read: a wrong option or a missing Ray extra fails at once.
    runner = get_engine(engine, address=ray_address, workers=workers, device=device)
    if corpus_path is not None:
        corpus = read_corpus(corpus_path, fmt, strict=strict, title_col=title_col, abstract_col=abstract_col)
    else:
        corpus = bundled_corpus()
    embedder = get_embedder(model, device=device)
    index_dir = index_dir_of(index_dir)
    for line in corpus.notes:
        note(line)
    report = build_index(
        corpus,
        embedder,
        index_dir,
        batch_size=batch_size,
        progress=not quiet,
        reuse=not no_cache,
        search=search,
        force=force,
        engine=runner,
    )
    summary = {
        "index_dir": str(report.directory),
        "papers": report.count,
        "model": embedder.name,
        "engine": runner.name,
        "embedded": report.embedded,
        "reused": report.reused,
        "skipped": corpus.skipped,
        "merged_duplicates": corpus.merged,
        "seconds": round(report.seconds, 3),
        "papers_per_second": round(report.papers_per_second, 2) if report.embedded else None,
        "notes": report.notes,
    }
    if as_json:
        emit_json(summary)
    elif not quiet:
        speed = f", {report.papers_per_second:.1f} papers/s" if report.embedded else ""
        extra = "".join(
            f", {n} {what}" for n, what in ((corpus.skipped, "malformed skipped"), (corpus.merged, "duplicates merged")) if n
        )
        click.echo(
            f"Indexed {report.count} papers with {embedder.name} in {report.seconds:.1f} s "
            f"({report.embedded} embedded, {report.reused} reused{speed}{extra}) into {safe(report.directory)}"
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
    from ..storage.index import verify_index

    index_dir = index_dir_of(index_dir)
    problems = verify_index(index_dir)
    if as_json:
        emit_json({"index_dir": str(index_dir), "ok": not problems, "problems": problems})
    if problems:
        raise click.ClickException(
            f"index in {index_dir} is damaged: {'; '.join(problems)}; rebuild it with: "
            f"paperlike index build --index-dir {index_dir}"
        )
    if not as_json:
        click.echo(f"index in {safe(index_dir)} is sound")
