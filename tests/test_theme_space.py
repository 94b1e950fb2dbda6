"""The space discovered themes are clustered in (themes/space.py): the model's vectors beside the
papers' reduced TF-IDF words, averaged with their nearest papers, from 300 to 20,000 papers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

import paperlike.themes.space as space
from conftest import random_unit_vectors
from paperlike.themes import compute_themes


def _corpus(n: int = 400, seed: int = 0):
    """Two fields told apart by their words only: the vectors are noise around one direction."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=32)
    vectors = base + 0.8 * rng.normal(size=(n, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    field = np.arange(n) % 2
    vocab = 300
    rows = []
    for i in range(n):
        own = rng.choice(np.arange(vocab // 2) + field[i] * (vocab // 2), size=12, replace=False)
        row = np.zeros(vocab, dtype=np.float32)
        row[own] = 1.0
        rows.append(row / np.linalg.norm(row))
    words = csr_matrix(np.array(rows))
    ids = [f"p{i}" for i in range(n)]
    return vectors, words, ids, field


def _primary(themes, ids):
    at = {pid: i for i, pid in enumerate(ids)}
    labels = np.full(len(ids), -1)
    for number, theme in enumerate(themes.themes):
        for paper in theme.papers:
            if paper.primary:
                labels[at[paper.id]] = number
    return labels


def _agreement(labels, field) -> float:
    """Share of papers in their theme's majority field."""
    right = sum(np.bincount(field[labels == t]).max() for t in np.unique(labels))
    return right / len(field)


def test_words_and_neighbours_find_fields_the_vectors_blur():
    vectors, words, ids, field = _corpus()
    texts = lambda pos: ["x"] * len(pos)  # noqa: E731
    with_words = compute_themes(vectors, ids, ids, texts, n=2, words=lambda: words)
    alone = compute_themes(vectors, ids, ids, texts, n=2)
    assert _agreement(_primary(with_words, ids), field) > 0.95
    assert _agreement(_primary(alone, ids), field) < 0.75
    # Centroids and scores stay in the model's space (seeds, earlier themes and the map use it).
    assert all(t.centroid.shape == (32,) for t in with_words.themes)
    for theme in with_words.themes:
        for paper in theme.papers[:5]:
            cos = float(vectors[ids.index(paper.id)] @ theme.centroid)
            assert paper.score == pytest.approx(cos, abs=1e-4)


def test_the_same_papers_give_the_same_themes_every_time():
    vectors, words, ids, _ = _corpus()
    texts = lambda pos: ["x"] * len(pos)  # noqa: E731
    first = compute_themes(vectors, ids, ids, texts, words=lambda: words)
    again = compute_themes(vectors, ids, ids, texts, words=lambda: words)
    assert first.to_dict() == again.to_dict()


def test_earlier_themes_keep_their_ids_through_the_space():
    vectors, words, ids, _ = _corpus()
    texts = lambda pos: ["x"] * len(pos)  # noqa: E731
    first = compute_themes(vectors, ids, ids, texts, n=4, words=lambda: words)
    again = compute_themes(vectors, ids, ids, texts, n=4, words=lambda: words, previous=first)
    assert sorted(t.id for t in again.themes) == sorted(t.id for t in first.themes)
    assert [sorted(p.id for p in again.get(t.id).papers) for t in first.themes] == [
        sorted(p.id for p in t.papers) for t in first.themes
    ]


def test_outside_its_range_the_words_are_never_read(monkeypatch):
    asked = []
    small = random_unit_vectors(space.MIN_PAPERS - 1, 16, seed=3)
    assert space.cluster_space(small, lambda: asked.append(1)) is None
    monkeypatch.setattr(space, "MAX_PAPERS", 350)
    vectors, words, _, _ = _corpus()
    assert space.cluster_space(vectors, lambda: asked.append(1)) is None
    assert asked == []


def test_too_few_words_or_a_mismatched_matrix_fall_back_to_the_vectors():
    vectors, words, _, _ = _corpus()
    assert space.cluster_space(vectors, lambda: words[:, :50]) is None  # not more words than the SVD keeps
    assert space.cluster_space(vectors, lambda: words[:100]) is None  # not one row a paper
    assert space.cluster_space(vectors, lambda: None) is None


def test_identical_papers_and_papers_without_words_do_not_break_it():
    vectors, words, ids, _ = _corpus()
    same = np.repeat(vectors[:1], len(vectors), axis=0)
    out = space.cluster_space(same, lambda: words)
    assert out is not None and np.isfinite(out).all()
    empty = words.tolil()
    empty[:50] = 0  # fifty papers with no word in the TF-IDF side
    out = space.cluster_space(vectors, lambda: csr_matrix(empty))
    assert out is not None and np.isfinite(out).all() and np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    themes = compute_themes(same, ids, ids, lambda pos: ["x"] * len(pos), words=lambda: words)
    assert sum(len([p for p in t.papers if p.primary]) for t in themes.themes) == len(ids)


def test_the_words_are_numbered_alike_in_every_process():
    """bm25s numbers terms in an order that follows Python's per-process string hashing; the
    lexical index renumbers them by word, so the TF-IDF columns the themes are clustered with
    are the same in every run."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib; from paperlike.readers import bundled_corpus; from paperlike.search.lexical import build_lexical;"
        "lex = build_lexical([p.text for p in bundled_corpus().papers]); m = lex.tfidf().matrix();"
        "print(hashlib.sha256(repr(sorted(lex.vocab.items(), key=lambda kv: kv[1])).encode()"
        " + m.data.tobytes() + m.indices.tobytes()).hexdigest())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outs) == 1
