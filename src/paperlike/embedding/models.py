"""The model records (see :mod:`paperlike.model_registry`, kept outside this package so the CLI
reads names and help without importing numpy)."""

from ..model_registry import DEFAULT_MODEL, HASHING, MODEL_NAMES, MODELS, ModelSpec, find_model, model_names_help

__all__ = ["ModelSpec", "MODELS", "MODEL_NAMES", "DEFAULT_MODEL", "HASHING", "find_model", "model_names_help"]
