"""``paperlike model info|export-onnx``."""

from __future__ import annotations

import click

from .app import PaperlikeGroup, cli, setup_notes
from .options import json_option
from .output import emit_json, safe

__all__ = ["model"]


@cli.group(cls=PaperlikeGroup)
def model():
    """The embedding models: which there are, where one is, which backend runs it, the ONNX export.

    Example usage:

    \b
        paperlike model list
        paperlike model info
        paperlike model export-onnx
    """


@model.command("list")
@json_option
def model_list(as_json):
    """List the models an index can be built with (--model NAME), and how to install each.

    Example usage:

    \b
        paperlike model list
        paperlike model list --json
    """
    import importlib.util
    from importlib import metadata

    from ..model_registry import MODELS

    def installed(spec) -> bool:
        try:
            return (
                all(metadata.version(r.split("==")[0]) for r in spec.packages)
                and importlib.util.find_spec("onnxruntime") is not None
            )
        except metadata.PackageNotFoundError:
            return False

    rows = [
        {
            "name": m.name,
            "aliases": list(m.aliases),
            "dim": m.dim,
            "quantized": m.quantized,
            "installed": installed(m),
            "install": m.install or None,
            "summary": m.summary,
        }
        for m in MODELS
    ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        state = "installed" if row["installed"] else f"not installed: {row['install']}"
        click.echo(f"{row['name']:<24} dim {row['dim']:<4} {row['summary']} ({state})")


model_name_option = click.option(
    "--model", "model_name", default=None, help="A model of 'paperlike model list' (default: the default model)."
)


@model.command("info")
@model_name_option
@json_option
def model_info(model_name, as_json):
    """Show the default model, its weights, and which backend will embed text.

    With the auto backend and no ONNX export yet, the first text to embed exports the model
    (about 30 s, once); 'onnx_auto_export_failed' holds the reason if that export failed (then
    text is embedded by sentence-transformers until 'paperlike model export-onnx' succeeds).

    Example usage:

    \b
        paperlike model info --json
        paperlike model info --model minilm-int8
    """
    from ..embedding.onnx import failed_marker

    embedder = _sentence_model(model_name)
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


def _sentence_model(name, backend=None):
    """The sentence-transformers model called ``name`` (errors for hashing, which has no file)."""
    from ..embedding import SentenceEmbedder, get_embedder
    from ..errors import ModelError
    from ..model_registry import DEFAULT_MODEL

    embedder = get_embedder(name or DEFAULT_MODEL)  # the default model, whatever $PAPERLIKE_MODEL builds
    if not isinstance(embedder, SentenceEmbedder):
        raise ModelError(f"model {embedder.name} is code, not a file: it has no weights and no ONNX export")
    if backend is not None:
        embedder = SentenceEmbedder(backend=backend, spec=embedder.spec)
    return embedder


@model.command("export-onnx")
@click.option("--force", is_flag=True, help="Export again even if the file exists.")
@model_name_option
@json_option
def model_export_onnx(force, model_name, as_json):
    """Export a model to ONNX (int8 models: quantise the fp32 export), so text queries start without PyTorch.

    The first text query (or build) does this by itself; this command does it by hand, again
    with --force, or after an automatic export failed. The export (about 20 s; it uses PyTorch) is checked against sentence-transformers on the 75
    bundled papers and kept only if every vector agrees to cosine >= 0.9999. It is written to
    $PAPERLIKE_CACHE_DIR, else the user cache folder; 'paperlike model info' shows where.

    Example usage:

    \b
        paperlike model export-onnx
        paperlike model export-onnx --force --json
        paperlike model export-onnx --model minilm-int8
    """
    from ..embedding.onnx import export_onnx, quantize_onnx
    from ..readers import bundled_corpus

    setup_notes()
    embedder = _sentence_model(model_name)
    target = embedder.onnx_file
    agreement = None
    texts = [p.text for p in bundled_corpus().papers]
    if force or not target.is_file():
        if embedder.spec.quantized:
            fp32 = embedder.fp32_onnx_file
            if force or not fp32.is_file():
                export_onnx(embedder.model_dir, fp32, texts)
            agreement = quantize_onnx(fp32, target, embedder.model_dir / "tokenizer.json", embedder.max_seq_length, texts)
        else:
            agreement = export_onnx(embedder.model_dir, target, texts)
    against = "its fp32 export" if embedder.spec.quantized else "sentence-transformers"
    summary = {"onnx_file": str(target), "exported": agreement is not None, "min_cosine_vs_sentence_transformers": agreement}
    if as_json:
        emit_json(summary)
    elif agreement is None:
        click.echo(f"already exported: {target} (--force to export again)")
    else:
        click.echo(f"exported {target}; agreement with {against} on the bundled papers: min cosine {agreement:.6f}")
