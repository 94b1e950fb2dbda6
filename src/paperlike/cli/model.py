"""``paperlike model info|export-onnx``."""

from __future__ import annotations

import click

from .app import PaperlikeGroup, cli, setup_notes
from .options import json_option
from .output import emit_json

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

    Example usage:

    \b
        paperlike model info --json
    """
    from ..embedding.minilm import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    ident = embedder.identity()
    summary = {
        **ident,
        "model_dir": str(embedder.model_dir),
        "onnx_file": str(embedder.onnx_file),
        "onnx_exported": embedder.onnx_file.is_file(),
        "backend": embedder.resolved_backend(),
    }
    if as_json:
        emit_json(summary)
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
