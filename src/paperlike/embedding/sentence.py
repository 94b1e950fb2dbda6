"""Sentence-transformers models from PyPI packages (see :mod:`.models`), loaded with every
network switch off, run by ONNX Runtime or PyTorch.

torch and sentence-transformers are imported only when a model actually embeds something.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from ..model_registry import DEFAULT_MODEL, MODELS, ModelSpec
from ..settings import Settings
from ..storage.files import sha256_file
from .offline import quiet_transformers

if TYPE_CHECKING:  # pragma: no cover
    from .onnx import OnnxEncoder

__all__ = ["SentenceEmbedder", "quiet_transformers"]


class SentenceEmbedder:
    """A sentence-transformers model of the registry (:mod:`.models`), never online.

    Two backends give the same vectors (cosine >= 0.9999, so indexes are shared): ``onnx``
    (onnxruntime, starts in well under a second) and ``torch`` (sentence-transformers, several
    seconds to import). ``auto`` takes ONNX when the export exists; when it does not, the first
    text it embeds exports the model once (see :func:`.onnx.auto_export`, checked as
    ``paperlike model export-onnx`` is), and it falls back to torch, saying so, only when the
    export cannot be made.

    A quantised (int8) model runs on ONNX Runtime only: its graph is made by paperlike from the
    fp32 export (:func:`.onnx.quantize_onnx`) and checked against it.

    Args:
        model_dir: A sentence-transformers model folder to use instead of the packaged one.
        batch_size: Texts per forward pass.
        backend: ``auto``, ``onnx`` or ``torch`` (default: ``$PAPERLIKE_BACKEND``, else ``auto``).
        device: ``auto``, ``cpu`` or ``cuda`` (default: ``$PAPERLIKE_DEVICE``, else ``auto``: a GPU
            when PyTorch sees one, which also picks the torch backend). Not part of the identity.
        spec: The model (default: all-MiniLM-L6-v2).
    """

    name = DEFAULT_MODEL
    dim = 384
    max_seq_length = 256

    def __init__(
        self,
        model_dir: str | Path | None = None,
        batch_size: int = 32,
        backend: str | None = None,
        device: str | None = None,
        spec: ModelSpec | None = None,
    ):
        from .device import check_device

        self.spec = spec or _default_spec()
        self.name, self.dim, self.max_seq_length = self.spec.name, self.spec.dim, self.spec.max_seq_length
        self.batch_size = batch_size
        self.device = check_device(device)
        self._model_dir = Path(model_dir) if model_dir else None
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        self.backend = (backend or Settings.from_env().backend or "auto").strip().lower()
        if self.backend not in ("auto", "onnx", "torch"):
            raise ModelError(f"unknown backend '{self.backend}'; use auto, onnx or torch")
        if self.spec.quantized and self.backend == "torch":
            raise ModelError(
                f"{self.name} is an int8 ONNX graph and runs on ONNX Runtime only; use --model {self.spec.base} for torch"
            )
        self._resolved: str | None = None

    @cached_property
    def model_dir(self) -> Path:
        """Folder holding the model's weights and configs."""
        if self._model_dir is not None:
            return self._model_dir
        from .sources import model_folder

        return model_folder(self.spec)

    @cached_property
    def weights_file(self) -> Path:
        for name in ("model.safetensors", "pytorch_model.bin"):
            if (self.model_dir / name).is_file():
                return self.model_dir / name
        raise ModelError(f"no weights file in {self.model_dir}; reinstall with: {self.spec.install}")

    def identity(self) -> dict:
        """Name, package and version, a SHA-256 of the weights file, and the quantisation."""
        package = self.spec.packages[0].split("==")[0] if self.spec.packages else self.name
        try:
            version = metadata.version(package) if self._model_dir is None else None
        except metadata.PackageNotFoundError:
            version = None
        ident = {
            "name": self.name,
            "package": package if self._model_dir is None else str(self._model_dir),
            "version": version,
            "weights_sha256": _cached_sha256(self.weights_file),
            "dim": self.dim,
            "max_seq_length": self.max_seq_length,
        }
        if self.spec.quantized:
            from .onnx import QUANT_RECIPE

            ident["quantized"] = f"{self.spec.quantized}-{QUANT_RECIPE}"  # other vectors than the fp32 model's
        return ident

    def _load(self):
        if self._model is None:
            model_dir = self.model_dir
            _ = self.weights_file  # fail with the install hint before the slow imports
            try:
                quiet_transformers()
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ModelError(
                    f"cannot import sentence-transformers ({exc}); run: pip install sentence-transformers torch==2.13.0"
                ) from None
            try:
                self._model = SentenceTransformer(str(model_dir), device=self.resolved_device(), local_files_only=True)
            except Exception as exc:  # a broken model folder raises anything from OSError to KeyError
                raise ModelError(f"cannot load the model from {model_dir} ({exc}); reinstall with: {self.spec.install}") from None
            self._model.max_seq_length = self.max_seq_length
        return self._model

    @cached_property
    def _tokenizer(self):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the model's word-piece tokens in ``text`` (no special tokens)."""
        return [tuple(span) for span in self._tokenizer.encode(text, add_special_tokens=False).offsets]

    @property
    def onnx_file(self) -> Path:
        """Where this model's ONNX export is (or would be)."""
        from .onnx import QUANT_RECIPE, onnx_path

        name = f"{self.name}-{QUANT_RECIPE}" if self.spec.quantized else self.name
        return onnx_path(_cached_sha256(self.weights_file), name)

    @property
    def fp32_onnx_file(self) -> Path:
        """The fp32 export a quantised graph is made from (the model's own export otherwise)."""
        from .onnx import onnx_path

        return onnx_path(_cached_sha256(self.weights_file), self.spec.base or self.name)

    def resolved_device(self) -> str:
        """The device that will embed with torch: ``cpu`` or ``cuda`` (ONNX always runs on the CPU)."""
        from .device import resolve_device

        return resolve_device(self.device)

    def resolved_backend(self) -> str:
        """The backend that will embed: ``onnx`` or ``torch`` (``auto`` may export the model first)."""
        if self._resolved is None:
            self._resolved = self._resolve_backend()
        return self._resolved

    def planned_backend(self) -> str:
        """What will embed, without exporting or loading anything (for ``paperlike model info``)."""
        from .device import gpu_present
        from .onnx import failed_marker

        if self.backend != "onnx" and (self.device == "cuda" or (self.device == "auto" and gpu_present())):
            return "torch (cuda)"
        has_runtime = importlib.util.find_spec("onnxruntime") is not None
        if self.spec.quantized:
            return (
                "onnx (int8)" if self.onnx_file.is_file() else "onnx (int8, made from the fp32 export by the first text to embed)"
            )
        if self.backend == "torch" or not has_runtime:
            return "torch"
        if self.onnx_file.is_file():
            return "onnx"
        if self.backend == "onnx":
            return "onnx (not exported yet: paperlike model export-onnx)"
        if failed_marker(self.onnx_file).exists() or importlib.util.find_spec("onnx") is None:
            return "torch (no ONNX export; paperlike model export-onnx makes one)"
        return "onnx (exported automatically by the first text to embed)"

    def _resolve_backend(self) -> str:
        if self.backend == "onnx" and self.device == "cuda":
            raise ModelError("the onnx backend runs on the CPU; use --device cpu, or PAPERLIKE_BACKEND=torch for cuda")
        if self.spec.quantized:
            return self._resolve_quantized()
        if self._torch_chosen():
            return "torch"
        from .onnx import auto_export, drop_if_changed

        has_runtime = importlib.util.find_spec("onnxruntime") is not None
        if has_runtime and self.onnx_file.is_file() and not drop_if_changed(self.onnx_file, self.backend == "auto"):
            return "onnx"
        if self.backend == "onnx" and not has_runtime:
            raise ModelError("the onnx backend needs onnxruntime; run: pip install onnxruntime")
        if self.backend == "onnx":
            raise ModelError(
                f"no ONNX export of {self.name} at {self.onnx_file}; make it once with: paperlike model export-onnx --model {self.name}"
            )
        # auto: pay the export once (it loads torch, as this query would have anyway), so that
        # every later text query starts without importing PyTorch.
        if has_runtime and auto_export(self.model_dir, self.onnx_file):
            return "onnx"
        logging.getLogger("paperlike").info(
            "using sentence-transformers (slow to start); 'paperlike model export-onnx' once makes "
            "text queries start in about a second"
        )
        return "torch"

    def _torch_chosen(self) -> bool:
        # A GPU (asked for, or found by auto) is used through torch: ONNX here runs on the CPU.
        return self.backend == "torch" or (self.backend == "auto" and self.device != "cpu" and self.resolved_device() == "cuda")

    def _resolve_quantized(self) -> str:
        """An int8 graph is made once from the fp32 export (exported first if need be); there is
        no torch fallback, since torch would give other vectors than the index holds."""
        from .onnx import auto_export, drop_if_changed, quantize_onnx

        if importlib.util.find_spec("onnxruntime") is None:
            raise ModelError(f"{self.name} needs onnxruntime; run: pip install onnxruntime")
        if self.onnx_file.is_file() and not drop_if_changed(self.onnx_file, True):
            return "onnx"
        fp32 = self.fp32_onnx_file
        if not (fp32.is_file() and not drop_if_changed(fp32, True)) and not auto_export(self.model_dir, fp32):
            raise ModelError(
                f"{self.name} needs the fp32 ONNX export first; run: paperlike model export-onnx --model {self.spec.base}"
            )
        from ..readers import bundled_corpus

        quantize_onnx(
            fp32,
            self.onnx_file,
            self.model_dir / "tokenizer.json",
            self.max_seq_length,
            [p.text for p in bundled_corpus().papers],
        )
        return "onnx"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (the first call loads the model)."""
        if self.resolved_backend() == "onnx":
            if self._onnx is None:
                from .onnx import OnnxEncoder

                self._onnx = OnnxEncoder(self.onnx_file, self.model_dir / "tokenizer.json", self.max_seq_length)
            vectors = (
                np.concatenate([self._onnx.encode(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)])
                if texts
                else np.zeros((0, self.dim), np.float32)
            )
            return np.ascontiguousarray(vectors, dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _default_spec() -> ModelSpec:
    return next(m for m in MODELS if m.name == DEFAULT_MODEL)


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]
