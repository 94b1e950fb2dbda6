"""``paperlike model info|export-onnx``."""

from __future__ import annotations

import click

from .app import PaperlikeGroup, cli, setup_notes
from .options import json_option
from .output import emit_json, safe

__all__ = ["model"]


@cli.group(cls=PaperlikeGroup)
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

    With the auto backend and no ONNX export yet, the first text to embed exports the model
    (about 30 s, once); 'onnx_auto_export_failed' holds the reason if that export failed (then
    text is embedded by sentence-transformers until 'paperlike model export-onnx' succeeds).

    Example usage:

    \b
        paperlike model info --json
    """
    from ..embedding.minilm import MiniLMEmbedder
    from ..embedding.onnx import failed_marker

    embedder = MiniLMEmbedder()
    ident = embedder.identity()
    failed = failed_marker(embedder.onnx_file)
    summary = {
        **ident,
        "model_dir": str(embedder.model_dir),
        "onnx_file": str(embedder.onnx_file),
        "onnx_exported": embedder.onnx_file.is_file(),
        "onnx_auto_export_failed": failed.read_text(encoding="utf-8", errors="replace")[:200] if failed.is_file() else None,
        "backend": embedder.planned_backend(),
    }
    if as_json:
        emit_json(summary)
        return
    keys: tuple[str, ...] = ("name", "package", "version", "weights_sha256", "dim", "model_dir", "onnx_file", "onnx_exported")
    for key in keys + ("onnx_auto_export_failed", "backend"):
        if summary[key] is not None or key != "onnx_auto_export_failed":
            click.echo(f"{key + ':':<16} {safe(summary[key])}")


@model.command("export-onnx")
@click.option("--force", is_flag=True, help="Export again even if the file exists.")
@json_option
def model_export_onnx(force, as_json):
    """Export all-MiniLM-L6-v2 to ONNX, so text queries start without PyTorch.

    The first text query (or build) does this by itself; this command does it by hand, again
    with --force, or after an automatic export failed. The export (about 20 s; it uses PyTorch) is checked against sentence-transformers on the 75
    bundled papers and kept only if every vector agrees to cosine >= 0.9999. It is written to
    $PAPERLIKE_CACHE_DIR, else the user cache folder; 'paperlike model info' shows where.

    Example usage:

    \b
        paperlike model export-onnx
        paperlike model export-onnx --force --json
    """
    from ..embedding.minilm import MiniLMEmbedder
    from ..embedding.onnx import export_onnx
    from ..readers import bundled_corpus

    setup_notes()
    embedder = MiniLMEmbedder(backend="torch")
    target = embedder.onnx_file
    agreement = None
    if force or not target.is_file():
        agreement = export_onnx(embedder.model_dir, target, [p.text for p in bundled_corpus().papers])
    summary = {"onnx_file": str(target), "exported": agreement is not None, "min_cosine_vs_sentence_transformers": agreement}
    if as_json:
        emit_json(summary)
    elif agreement is None:
        click.echo(f"already exported: {target} (--force to export again)")
    else:
        click.echo(f"exported {target}; agreement with sentence-transformers on the bundled papers: min cosine {agreement:.6f}")
