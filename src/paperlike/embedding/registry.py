"""Embedders by name, from the model records of :mod:`.models` (each names its loader)."""

from __future__ import annotations

from ..errors import ModelError
from ..registries import load_callable
from ..settings import Settings
from .base import Embedder
from .models import DEFAULT_MODEL, MODEL_NAMES, find_model, model_names_help

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
    return load_callable(spec.load)(spec, device)
