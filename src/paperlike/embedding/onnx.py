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

__all__ = [
    "onnx_path",
    "OnnxEncoder",
    "export_onnx",
    "auto_export",
    "failed_marker",
    "quantize_onnx",
    "drop_if_changed",
    "AGREEMENT",
    "INT8_AGREEMENT",
    "QUANT_RECIPE",
]


AGREEMENT = 0.9999  # least cosine between ONNX and sentence-transformers vectors for an export to be kept
# Least cosine between an int8 graph's vectors and its fp32 export's on the bundled papers for the
# int8 graph to be kept. Per-channel 7-bit weights give MiniLM 0.996 (mean 0.997) and mpnet 0.991
# (mean 0.994); one scale per tensor gave MiniLM 0.886 (mean 0.936), which this refuses.
INT8_AGREEMENT = 0.98
# How the int8 graphs are made, part of their file name and of the model identity (vectors differ
# between recipes). "pc7-ffnout": int8 weights with one scale per output channel, except the
# feed-forward output projections, kept in fp32: quantising those cost mpnet the most (least
# cosine 0.754 with them, 0.992 without; MiniLM 0.992 -> 0.997). The weights use 7 bits of the 8
# ("reduce_range"): on a CPU without VNNI instructions (AVX2 only, e.g. many AMD EPYC), ONNX
# Runtime's u8 x s8 products saturate in 16 bits, and full-range per-channel weights gave mpnet
# garbage there (least cosine 0.01 against fp32; 0.991 with 7 bits). A graph runs on whatever CPU
# loads it, so every graph is made the way that is safe on both. ("pc-ffnout", full range, was
# the recipe before; its files are not reused.)
QUANT_RECIPE = "pc7-ffnout"

log = logging.getLogger("paperlike")


def onnx_path(weights_sha256: str, name: str = "all-MiniLM-L6-v2") -> Path:
    """Where the ONNX graph of model ``name`` with these weights lives."""
    return Settings.from_env().cache_root() / "onnx" / f"{name}-{weights_sha256[:16]}.onnx"


def checksum_file(target: Path) -> Path:
    """The sidecar recording the SHA-256 of an export, written when the export is kept."""
    return target.with_name(target.name + ".sha256.json")


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    # ctime cannot be set by a user: any rewrite of the file changes it, so an unchanged key
    # means unchanged bytes and the file need not be hashed again on every query.
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _record_checksum(target: Path) -> None:
    store.atomic_write_json(checksum_file(target), {"sha256": store.sha256_file(target), "stat": _stat_key(target)})


def drop_if_changed(target: Path, remake: bool) -> bool:
    """True (and the file removed, when ``remake``) if an export no longer has the SHA-256
    recorded when it was made: a changed graph would give other vectors under the same model
    identity. An export without a record (made before records existed) counts as changed."""
    import json

    try:
        recorded = json.loads(checksum_file(target).read_text(encoding="utf-8"))
        if recorded.get("stat") == _stat_key(target):
            return False
        if recorded.get("sha256") == store.sha256_file(target):
            _record_checksum(target)  # same bytes, new stat (copied, restored from a backup)
            return False
    except (OSError, ValueError, AttributeError):
        pass
    if not remake:
        raise ModelError(
            f"the ONNX file {target} is not the one paperlike exported (checksum); export it again with: paperlike model export-onnx --force"
        )
    log.warning("the ONNX file %s is not the one paperlike exported (checksum differs); making it again", target)
    target.unlink(missing_ok=True)
    checksum_file(target).unlink(missing_ok=True)
    return True


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
        if not checksum_file(target).is_file():
            _record_checksum(target)
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

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state

    import inspect

    # BERT-like models (MiniLM) take token type ids; MPNet has none.
    inputs = ["input_ids", "attention_mask"] + (
        ["token_type_ids"] if "token_type_ids" in inspect.signature(model.forward).parameters else []
    )
    example = torch.ones((2, 8), dtype=torch.int64)
    examples = (example, example, torch.zeros_like(example))[: len(inputs)]
    dynamic = {name: {0: "batch", 1: "tokens"} for name in inputs + ["hidden"]}
    target.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        try:
            # The tracer warns about Python booleans it freezes (padding and causal-mask checks);
            # both are constant for this encoder, and the agreement check below proves the export.
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _Hidden(model),
                    examples,
                    str(tmp),
                    input_names=inputs,
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
        got = OnnxEncoder(tmp, model_dir / "tokenizer.json", int(reference.max_seq_length or 256)).encode(check_texts)
        agreement = float(np.min(np.sum(expected * got, axis=1)))
        if agreement < AGREEMENT:
            raise ModelError(f"the ONNX export disagrees with sentence-transformers (cosine {agreement:.6f}); not kept")

    store.atomic_write(target, write, check=check)
    _record_checksum(target)
    failed_marker(target).unlink(missing_ok=True)
    return agreement


def quantize_onnx(fp32: Path, target: Path, tokenizer_file: Path, max_seq_length: int, check_texts: Sequence[str]) -> float:
    """Make an int8 graph of ``fp32`` (ONNX Runtime's dynamic quantisation of the weights of the
    matrix products) at ``target``, kept only if its vectors agree with the fp32 ones on
    ``check_texts`` to cosine >= :data:`INT8_AGREEMENT`.

    Returns:
        The least cosine between int8 and fp32 vectors over ``check_texts``.
    """
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ModelError(f"quantising needs {exc.name}; run: pip install onnx onnxruntime") from None
    log.info("quantising %s to int8 once; it goes to %s", fp32.name, target)
    agreement = 0.0

    def write(tmp: Path) -> None:
        import onnx

        products = [n.name for n in onnx.load(str(fp32), load_external_data=False).graph.node if n.op_type in ("MatMul", "Gemm")]
        keep_fp32 = [n for n in products if "output/dense" in n and "attention" not in n]
        quantize_dynamic(
            str(fp32),
            str(tmp),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm"],
            per_channel=True,
            reduce_range=True,
            nodes_to_exclude=keep_fp32,
        )

    def check(tmp: Path) -> None:
        nonlocal agreement
        texts = list(check_texts)
        expected = OnnxEncoder(fp32, tokenizer_file, max_seq_length).encode(texts)
        got = OnnxEncoder(tmp, tokenizer_file, max_seq_length).encode(texts)
        agreement = float(np.min(np.sum(expected * got, axis=1)))
        if agreement < INT8_AGREEMENT:
            raise ModelError(f"the int8 graph disagrees with the fp32 one (cosine {agreement:.4f}); not kept")

    target.parent.mkdir(parents=True, exist_ok=True)
    store.atomic_write(target, write, check=check)
    _record_checksum(target)
    return agreement
