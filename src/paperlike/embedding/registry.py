"""Embedders by name."""

from __future__ import annotations

from ..errors import ModelError
from ..settings import Settings
from .base import Embedder
from .device import check_device
from .hashing import HashingEmbedder
from .minilm import DEFAULT_MODEL, MiniLMEmbedder

__all__ = ["get_embedder", "MODEL_NAMES"]


_ALIASES = {
    "all-minilm-l6-v2": DEFAULT_MODEL,
    "minilm": DEFAULT_MODEL,
    "sentence-transformers/all-minilm-l6-v2": DEFAULT_MODEL,
    "hashing": "hashing",
}


MODEL_NAMES = (DEFAULT_MODEL, "hashing")


def get_embedder(name: str | None = None, device: str | None = None) -> Embedder:
    """The embedder called ``name`` (default: ``$PAPERLIKE_MODEL``, else all-MiniLM-L6-v2).

    ``device`` (``auto``, ``cpu``, ``cuda``) is where MiniLM runs; the hashing model ignores it.

    Raises:
        ModelError: Unknown name or device.
    """
    name = name or Settings.from_env().model or DEFAULT_MODEL
    canonical = _ALIASES.get(name.strip().lower())
    if canonical == DEFAULT_MODEL:
        return MiniLMEmbedder(device=device)
    if canonical == "hashing":
        check_device(device)  # a typo is an error even where the device does not matter
        return HashingEmbedder()
    raise ModelError(f"unknown model '{name}'; known models: {', '.join(MODEL_NAMES)}")
