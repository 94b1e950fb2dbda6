"""Hugging Face libraries switched offline and quiet, before they are first imported.

Shared by the MiniLM embedder and the ONNX exporter (one home, so neither imports the other).
"""

from __future__ import annotations

import os

__all__ = ["quiet_transformers"]


def _set_offline_switches() -> None:
    # Must happen before huggingface_hub / transformers are imported: they read these at import.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def quiet_transformers() -> None:
    """Offline switches on, and transformers' logging and progress bars off (before any load)."""
    _set_offline_switches()
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
