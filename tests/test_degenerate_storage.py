"""Degenerate data never crashes building, storing or ``dupes`` (issue 17, 5).

Identical vectors (the same text several times), 1 to 5 papers, zero vectors (texts with no
words), NaN or infinite vectors at write time: every command finishes, or stops with a clean
error and writes nothing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import tree_snapshot, write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import ModelError
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.service.edits import add_papers
from paperlike.storage import load_index, verify_index
from paperlike.storage.writer import write_index


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _build_cli(tmp_path, records, name="i"):
    corpus = write_jsonl(tmp_path / f"{name}.jsonl", records)
    result = run("index", "build", "--corpus", corpus, "--index-dir", tmp_path / name, "--model", "hashing", "-q")
    assert result.exit_code == 0, result.output
    return tmp_path / name


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_one_to_five_papers_build_and_list_dupes(tmp_path, n):
    index_dir = _build_cli(tmp_path, [{"title": f"Tiny corpus paper {i}", "abstract": f"words {i}"} for i in range(n)])
    result = run("dupes", "--json", "--index-dir", index_dir)
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert run("dupes", "--index-dir", index_dir, "--threshold", "-1").exit_code == 0
    all_pairs = json.loads(run("dupes", "--json", "--threshold", "-1", "--index-dir", index_dir).stdout)
    assert len(all_pairs) == n * (n - 1) // 2  # with so few papers every pair is examined
    assert verify_index(index_dir) == []


@pytest.mark.parametrize("n", [2, 6, 12])
def test_identical_texts_are_listed_as_duplicates(tmp_path, n):
    index_dir = _build_cli(tmp_path, [{"id": f"same{i}", "title": "Same title", "abstract": "same text"} for i in range(n)])
    pairs = json.loads(run("dupes", "--json", "--index-dir", index_dir).stdout)
    assert pairs and all(p["score"] == pytest.approx(1.0, abs=1e-5) for p in pairs)
    assert all(p["a"] != p["b"] for p in pairs) and len({(p["a"], p["b"]) for p in pairs}) == len(pairs)
    assert len(pairs) >= n - 1  # every copy is paired with at least one other
    assert load_index(index_dir).count == n


def test_texts_without_words_give_zero_vectors_and_still_work(tmp_path):
    records = [{"id": f"z{i}", "title": "!!!", "abstract": "???"} for i in range(3)] + [{"id": "w", "title": "Real words here"}]
    index_dir = _build_cli(tmp_path, records)
    index = load_index(index_dir)
    assert not index.all_vectors()[:3].any()  # zero vectors, not NaN
    pairs = json.loads(run("dupes", "--json", "--index-dir", index_dir).stdout)
    assert pairs == []  # a zero vector is like nothing
    assert run("similar", "z0", "--json", "--index-dir", index_dir).exit_code == 0
    assert run("remove", "z1", "--index-dir", index_dir).exit_code == 0


def test_every_vector_zero(tmp_path):
    index_dir = _build_cli(tmp_path, [{"id": f"z{i}", "title": "...", "abstract": "--"} for i in range(4)])
    assert json.loads(run("dupes", "--json", "--index-dir", index_dir).stdout) == []
    assert run("dupes", "--json", "--threshold", "-1", "--index-dir", index_dir).exit_code == 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_vectors_are_refused_at_write_time(tmp_path, bad):
    directory = tmp_path / "i"
    papers = [Paper(f"p{i}", f"Paper {i}", "x") for i in range(3)]
    good = np.eye(3, 8, dtype=np.float32)
    write_index(directory, papers, good, {"name": "m", "dim": 8}, "t", "sha")
    before = tree_snapshot(directory)
    vectors = good.copy()
    vectors[1, 2] = bad
    with pytest.raises(
        ModelError, match=r"returned 1 vector\(s\) with NaN or infinite values \(first: paper 'p1'\); nothing was written"
    ):
        write_index(directory, papers, vectors, {"name": "m", "dim": 8}, "t", "sha")
    assert tree_snapshot(directory) == before


def test_a_model_returning_nan_stops_add_and_leaves_the_index(hash_index_copy, tmp_path):
    class NaNModel(HashingEmbedder):
        def embed_batch(self, texts):
            return np.full((len(texts), self.dim), np.nan, np.float32)

    before = tree_snapshot(hash_index_copy)
    extra = write_jsonl(tmp_path / "x.jsonl", [{"title": "A paper the model cannot embed", "abstract": "x"}])
    from paperlike.readers import read_corpus

    with pytest.raises(ModelError, match="non-finite"):
        add_papers(hash_index_copy, [read_corpus(extra)], embedder=NaNModel())
    assert tree_snapshot(hash_index_copy) == before


def test_an_index_of_one_paper_answers_and_refuses_to_lose_its_last_paper(tmp_path):
    directory = tmp_path / "one"
    build_index(Corpus([Paper("solo", "A single paper", "Its abstract.")], "t"), HashingEmbedder(), directory)
    assert Recommender.load(directory).similar("solo", k=5) == []
    assert json.loads(run("dupes", "--json", "--index-dir", directory).stdout) == []
    result = run("remove", "solo", "--index-dir", directory)
    assert result.exit_code == 2 and "would remove all 1 papers" in result.stderr
    assert load_index(directory).count == 1
