"""Embedders by name, from the model records of :mod:`.models`."""

from __future__ import annotations

from ..errors import ModelError
from ..settings import Settings
from .base import Embedder
from .device import check_device
from .hashing import HashingEmbedder
from .models import DEFAULT_MODEL, HASHING, MODEL_NAMES, find_model, model_names_help

__all__ = ["get_embedder", "MODEL_NAMES"]


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
    if spec.name == HASHING:
        check_device(device)  # a typo is an error even where the device does not matter
        return HashingEmbedder()
    from .minilm import MiniLMEmbedder
    from .sentence import SentenceEmbedder

    if spec.name == DEFAULT_MODEL:
        return MiniLMEmbedder(device=device)
    return SentenceEmbedder(device=device, spec=spec)
