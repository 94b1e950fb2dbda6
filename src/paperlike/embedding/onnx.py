"""all-MiniLM-L6-v2 without PyTorch: an ONNX export run by onnxruntime, tokenised by `tokenizers`.

Importing torch and sentence-transformers takes most of the 10+ seconds of a cold free-text
query; onnxruntime and tokenizers load in well under a second. The export is made once from the
installed model (the export itself uses torch) and checked against sentence-transformers on the
bundled papers (cosine >= 0.9999) before it is kept: automatically the first time the ``auto``
backend embeds something (:func:`auto_export`), or by hand with ``paperlike model export-onnx``.
Encoding follows the model's sentence-transformers config: WordPiece tokens truncated to 256,
mean pooling over the attention mask, L2 normalisation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..settings import Settings
from ..storage import files as store

__all__ = ["onnx_path", "OnnxEncoder", "export_onnx", "auto_export", "failed_marker", "AGREEMENT"]


AGREEMENT = 0.9999  # least cosine between ONNX and sentence-transformers vectors for an export to be kept

log = logging.getLogger("paperlike")


def onnx_path(weights_sha256: str) -> Path:
    """Where the ONNX export of the model with these weights lives."""
    return Settings.from_env().cache_root() / "onnx" / f"all-MiniLM-L6-v2-{weights_sha256[:16]}.onnx"


def failed_marker(target: Path) -> Path:
    """The file saying an automatic export to ``target`` failed (so it is not retried on every query)."""
    return target.with_name(target.name + ".failed")


def auto_export(model_dir: Path, target: Path) -> bool:
    """Export the model to ``target`` now, for the ``auto`` backend; True when it worked.

    Skipped (False) when the ``onnx`` package is missing or an earlier automatic export failed
    (``paperlike model export-onnx`` tries again). A failure is a note, never an error: the
    caller falls back to sentence-transformers.
    """
    import importlib.util

    if importlib.util.find_spec("onnx") is None or failed_marker(target).exists():
        return False
    from ..readers import bundled_corpus

    log.info(
        "exporting the model to ONNX once (about 30 s), so later text queries start without PyTorch; it goes to %s",
        target,
    )
    try:
        export_onnx(model_dir, target, [p.text for p in bundled_corpus().papers])
    except Exception as exc:  # the exporter (torch.onnx, onnx, transformers) can raise anything
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            store.atomic_write_bytes(failed_marker(target), reason.encode("utf-8"))
        except OSError:
            pass  # an unwritable cache only means the export is tried again next time
        log.warning("the automatic ONNX export failed (%s); using sentence-transformers instead", reason)
        return False
    return True


class OnnxEncoder:
    """Mean-pooled, normalised MiniLM embeddings from an ONNX file.

    Args:
        onnx_file: The exported model.
        tokenizer_file: The model's ``tokenizer.json``.
        max_seq_length: Tokens kept per text.
    """

    def __init__(self, onnx_file: Path, tokenizer_file: Path, max_seq_length: int = 256):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError(f"cannot import {exc.name}; run: pip install onnxruntime tokenizers") from None
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        try:
            self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # onnxruntime raises its own types (InvalidProtobuf, Fail...)
            raise ModelError(
                f"the ONNX model {onnx_file} cannot be loaded ({type(exc).__name__}); "
                "export it again with: paperlike model export-onnx --force"
            ) from None
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.enable_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, feed)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)


def export_onnx(model_dir: Path, target: Path, check_texts: Sequence[str]) -> float:
    """Export the model in ``model_dir`` to ``target`` (atomically) and check it.

    Returns:
        The least cosine between ONNX and sentence-transformers vectors over ``check_texts``.

    Raises:
        ModelError: torch, transformers or onnx is missing, or the export disagrees.
    """
    import importlib.util
    import warnings

    from .offline import quiet_transformers

    if importlib.util.find_spec("onnx") is None:
        raise ModelError("exporting to ONNX needs the onnx package; run: pip install onnx")
    try:
        quiet_transformers()
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers import AutoModel
    except ImportError as exc:
        raise ModelError(f"exporting needs {exc.name}; run: pip install torch==2.13.0 sentence-transformers onnx") from None

    try:
        model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    except Exception as exc:  # a broken model folder raises anything from OSError to KeyError
        raise ModelError(f"cannot load the model from {model_dir} for the export ({type(exc).__name__})") from None

    class _Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    example = torch.ones((2, 8), dtype=torch.int64)
    dynamic = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids", "hidden")}
    target.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        try:
            # The tracer warns about Python booleans it freezes (padding and causal-mask checks);
            # both are constant for this encoder, and the agreement check below proves the export.
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _Hidden(model),
                    (example, example, torch.zeros_like(example)),
                    str(tmp),
                    input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["hidden"],
                    dynamic_axes=dynamic,
                    opset_version=17,
                    dynamo=False,
                )
        except ImportError as exc:
            raise ModelError(f"exporting needs {exc.name}; run: pip install onnx") from None

    agreement = 0.0

    def check(tmp: Path) -> None:
        # Checked before it is kept: a failed or interrupted check never leaves an unchecked file.
        nonlocal agreement
        reference = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        expected = reference.encode(list(check_texts), normalize_embeddings=True, batch_size=16)
        got = OnnxEncoder(tmp, model_dir / "tokenizer.json").encode(check_texts)
        agreement = float(np.min(np.sum(expected * got, axis=1)))
        if agreement < AGREEMENT:
            raise ModelError(f"the ONNX export disagrees with sentence-transformers (cosine {agreement:.6f}); not kept")

    store.atomic_write(target, write, check=check)
    failed_marker(target).unlink(missing_ok=True)
    return agreement
