from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import random_unit_vectors, tree_snapshot
from paperlike.embedding import HashingEmbedder, check_model
from paperlike.errors import IndexCorruptError, IndexMissingError, ModelError, ModelMismatchError, NotAnIndexError
from paperlike.readers import bundled_corpus
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.storage import load_index, verify_index
from paperlike.storage.files import TMP_PREFIX, VERIFIED
from paperlike.storage.generations import RECORD
from paperlike.storage.manifest import MANIFEST, read_manifest
from paperlike.storage.writer import write_index


def _random_index(tmp_path, n=400, dim=32, seed=0):
    vectors = random_unit_vectors(n, dim, seed)
    papers = [Paper(f"p{i}", f"Paper {i}", f"abstract {i}") for i in range(n)]
    model = {"name": "random", "dim": dim}
    write_index(tmp_path / "idx", papers, vectors, model, "random", "sha")
    return load_index(tmp_path / "idx"), vectors


def test_faiss_search_matches_numpy_brute_force(tmp_path):
    index, vectors = _random_index(tmp_path)
    queries = random_unit_vectors(25, 32, seed=1)
    scores, positions = index.search(queries, 10)
    exact = queries @ vectors.T
    expected = np.argsort(-exact, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(positions, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(exact, expected, axis=1), rtol=1e-5, atol=1e-6)


def test_similar_matches_numpy_and_excludes_the_query_paper(tmp_path):
    index, vectors = _random_index(tmp_path, n=200, dim=16, seed=3)
    rec = Recommender(index)
    for query in (0, 57, 199):
        got = rec.similar(f"p{query}", k=7, mode="dense")
        exact = vectors @ vectors[query]
        exact[query] = -np.inf
        expected = np.argsort(-exact, kind="stable")[:7]
        assert [r.id for r in got] == [f"p{i}" for i in expected]
        assert [r.rank for r in got] == list(range(1, 8))
        np.testing.assert_allclose([r.score for r in got], exact[expected], rtol=1e-5)


def test_write_then_load_roundtrip(tmp_path):
    corpus = bundled_corpus()
    build_index(corpus, HashingEmbedder(), tmp_path / "i")
    index = load_index(tmp_path / "i")
    assert index.count == 75 and index.dim == 384
    assert index.ids == [p.id for p in corpus.papers]
    assert index.papers() == corpus.papers
    m = read_manifest(tmp_path / "i")
    assert m["count"] == 75 and m["model"] == HashingEmbedder().identity()
    assert m["corpus"] == {"source": corpus.source, "sha256": corpus.sha256(), "file_sha256": corpus.file_sha256}
    assert set(m) >= {"format_version", "built_at", "generation", "files", "dim"}
    np.testing.assert_allclose(index.vector(3), HashingEmbedder().embed_batch([corpus.papers[3].text])[0], atol=1e-6)
    assert verify_index(tmp_path / "i") == []
    # Files get ordinary permissions, not mkstemp's 0600.
    assert all((tmp_path / "i" / f["name"]).stat().st_mode & 0o044 for f in m["files"].values())


def test_rebuild_switches_generation_and_leaves_no_old_or_temp_files(tmp_path):
    d = tmp_path / "i"
    corpus = Corpus([Paper("a", "Alpha", "x"), Paper("b", "Beta", "y")], "t")
    build_index(corpus, HashingEmbedder(), d)
    first = read_manifest(d)["generation"]
    # What a run killed while writing leaves: the temp file of one of its generation's files.
    (d / f"{TMP_PREFIX}vectors-{first}.faiss.x1y2z3").write_bytes(b"junk from a killed run")
    build_index(Corpus(corpus.papers + [Paper("c", "Gamma", "z")], "t"), HashingEmbedder(), d)
    m = read_manifest(d)
    assert m["generation"] != first and m["count"] == 3
    names = sorted(p.name for p in d.iterdir() if p.name != VERIFIED)  # the checksum stamps may be there
    assert names == sorted([".lock", MANIFEST, RECORD] + [f["name"] for f in m["files"].values()])


def test_missing_directory_says_how_to_build(tmp_path):
    with pytest.raises(IndexMissingError, match=r"no index in .*; build one with: paperlike index build --index-dir"):
        load_index(tmp_path / "nope")


@pytest.mark.parametrize("kind", ["vectors", "titles", "papers"])
def test_truncated_file_is_a_clear_error(hash_index_copy, kind):
    name = read_manifest(hash_index_copy)["files"][kind]["name"]
    path = hash_index_copy / name
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IndexCorruptError) as err:
        load_index(hash_index_copy).papers()  # papers are read on first use
    assert name in str(err.value) and "truncated" in str(err.value)
    assert "paperlike index build --index-dir" in str(err.value)
    assert any(name in p for p in verify_index(hash_index_copy))


def test_missing_data_file_is_a_clear_error(hash_index_copy):
    name = read_manifest(hash_index_copy)["files"]["vectors"]["name"]
    (hash_index_copy / name).unlink()
    with pytest.raises(IndexCorruptError, match=f"{name} is missing"):
        load_index(hash_index_copy)


def test_bit_flip_is_caught_by_verify(hash_index_copy):
    name = read_manifest(hash_index_copy)["files"]["vectors"]["name"]
    path = hash_index_copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert verify_index(hash_index_copy) == [f"{name} is damaged (checksum mismatch)"]
    # Loading checks checksums too: a flipped bit is an error, never a wrong answer.
    with pytest.raises(IndexCorruptError, match=f"{name} is damaged .checksum mismatch.; rebuild it with"):
        load_index(hash_index_copy)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda m: m.update(format_version=99), "format version 99"),
        (lambda m: m.update(format="other"), "not a paperlike manifest"),
        (lambda m: m["files"]["papers"].update(name="../../etc/passwd"), "files.papers"),
        (lambda m: m.pop("count"), "missing or invalid fields: count"),
        (lambda m: m.update(count=3), "does not hold 3 ids and titles"),
    ],
)
def test_bad_manifest_is_rejected(hash_index_copy, edit, expected):
    manifest = json.loads((hash_index_copy / MANIFEST).read_text())
    edit(manifest)
    (hash_index_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError) as err:
        load_index(hash_index_copy)
    assert expected in str(err.value)


def test_unparseable_and_missing_manifest(hash_index_copy):
    (hash_index_copy / MANIFEST).write_text("{not json")
    with pytest.raises(IndexCorruptError, match="manifest.json is unreadable"):
        load_index(hash_index_copy)
    (hash_index_copy / MANIFEST).unlink()
    with pytest.raises(IndexCorruptError, match="manifest.json is missing"):
        load_index(hash_index_copy)


class _OtherModel(HashingEmbedder):
    name = "other-model"

    def identity(self):
        return {"name": self.name, "version": "1", "dim": self.dim}


def test_text_query_against_index_of_another_model_is_refused(hash_index_dir):
    rec = Recommender(load_index(hash_index_dir), embedder=_OtherModel())
    with pytest.raises(ModelMismatchError, match="was built with hashing .* but the model in use is other-model"):
        rec.similar_to_text("continual learning")
    # Looking up an indexed paper needs no model, so it still works.
    assert len(rec.similar("autodistil", k=3)) == 3
    with pytest.raises(ModelMismatchError):
        check_model(read_manifest(hash_index_dir)["model"], HashingEmbedder(dim=64), hash_index_dir)


def test_embedder_returning_wrong_shape_is_a_model_error(tmp_path):
    class Broken(HashingEmbedder):
        def embed_batch(self, texts):
            return np.zeros((len(texts), 5), np.float32)

    with pytest.raises(ModelError, match="returned an array of shape"):
        build_index(bundled_corpus(), Broken(), tmp_path / "i")
    assert not (tmp_path / "i").exists()


def test_failed_build_leaves_the_previous_index_intact(hash_index_copy):
    before = tree_snapshot(hash_index_copy)

    class Crashing(HashingEmbedder):
        calls = 0

        def embed_batch(self, texts):
            Crashing.calls += 1
            if Crashing.calls == 2:
                raise KeyboardInterrupt
            return super().embed_batch(texts)

    with pytest.raises(KeyboardInterrupt):
        build_index(bundled_corpus(), Crashing(), hash_index_copy, reuse=False)
    after = tree_snapshot(hash_index_copy)
    # The index is untouched; the one batch embedded before the interrupt waits as a checkpoint.
    assert {k: v for k, v in after.items() if not k.startswith(".paperlike-checkpoints/")} == before
    assert len([k for k in after if k.startswith(".paperlike-checkpoints/")]) == 2  # one shard: vectors + keys
    assert load_index(hash_index_copy).count == 75


class _Counting(HashingEmbedder):
    def __init__(self, fail_after: int | None = None):
        super().__init__()
        self.embedded = 0
        self.fail_after = fail_after

    def embed_batch(self, texts):
        if self.fail_after is not None and self.embedded >= self.fail_after:
            raise KeyboardInterrupt
        self.embedded += len(texts)
        return super().embed_batch(texts)


def test_interrupted_build_resumes_losing_at_most_one_batch(tmp_path):
    corpus = bundled_corpus()
    directory = tmp_path / "i"
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, _Counting(fail_after=40), directory, batch_size=8)
    assert not (directory / MANIFEST).exists()  # nothing was switched in
    second = _Counting()
    report = build_index(corpus, second, directory, batch_size=8)
    assert (report.embedded, report.reused) == (35, 40) and second.embedded == 35
    assert not (directory / ".paperlike-checkpoints").exists()  # checkpoints are folded into the index
    fresh = tmp_path / "fresh"
    build_index(corpus, HashingEmbedder(), fresh)
    np.testing.assert_array_equal(load_index(directory).all_vectors(), load_index(fresh).all_vectors())


def test_rebuilding_the_same_corpus_embeds_nothing_and_no_cache_embeds_all(hash_index_copy):
    counting = _Counting()
    report = build_index(bundled_corpus(), counting, hash_index_copy)
    assert (report.embedded, report.reused, counting.embedded) == (0, 75, 0)
    report = build_index(bundled_corpus(), counting, hash_index_copy, reuse=False)
    assert (report.embedded, counting.embedded) == (75, 75)


def test_user_files_in_the_index_directory_are_never_deleted(tmp_path):
    directory = tmp_path / "here"
    directory.mkdir()
    mine = {"papers-2024.jsonl": b'{"title": "mine"}\n', "titles-final.json": b"{}", "vectors-old.faiss": b"x"}
    for name, data in mine.items():
        (directory / name).write_bytes(data)
    with pytest.raises(
        NotAnIndexError, match="is not empty .3 file.s. such as 'papers-2024.jsonl'. and holds no paperlike index"
    ):
        build_index(bundled_corpus(), HashingEmbedder(), directory)
    assert sorted(p.name for p in directory.iterdir()) == sorted(mine)  # refused before writing anything
    build_index(bundled_corpus(), HashingEmbedder(), directory, force=True)
    build_index(bundled_corpus(), HashingEmbedder(), directory, reuse=False)  # an index now: no --force needed
    assert {name: (directory / name).read_bytes() for name in mine} == mine


def test_papers_stay_readable_while_a_rebuild_replaces_them(hash_index_copy):
    index = load_index(hash_index_copy)
    build_index(bundled_corpus(), HashingEmbedder(), hash_index_copy, reuse=False)  # deletes the old generation
    assert len(index.papers()) == 75


def test_ties_rank_the_same_whatever_k(tmp_path):
    same = [Paper(f"dup{i}", "Same title", "same text") for i in range(6)]
    build_index(Corpus(same + [Paper("other", "Other", "different words")], "t"), HashingEmbedder(), tmp_path / "i")
    rec = Recommender.load(tmp_path / "i")
    full = [r.id for r in rec.similar("dup0", k=6)]
    assert full[:5] == ["dup1", "dup2", "dup3", "dup4", "dup5"]
    for k in range(1, 6):
        assert [r.id for r in rec.similar("dup0", k=k)] == full[:k]


def test_hashing_embedder_is_deterministic_and_unit_length():
    texts = ["Knowledge distillation of language models", "", "Continual learning"]
    a = HashingEmbedder().embed_batch(texts)
    b = HashingEmbedder().embed_batch(texts)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a[[0, 2]], axis=1), 1.0, rtol=1e-5)
    assert not a[1].any()  # no words, no direction (and no NaN)
    assert a.dtype == np.float32 and a.shape == (3, 384)


def test_verified_files_are_not_hashed_again_but_any_change_is_caught(tmp_path, monkeypatch):
    import hashlib as _hashlib

    import paperlike.storage.files as store

    d = tmp_path / "i"
    build_index(bundled_corpus(), HashingEmbedder(), d)
    load_index(d)  # verifies and stamps every file it read
    stamps = json.loads((d / VERIFIED).read_text())
    vectors = next(d.glob("vectors-*.faiss"))
    assert vectors.name in stamps
    calls = []
    real = _hashlib.sha256
    monkeypatch.setattr(store.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    load_index(d)
    assert calls == []  # unchanged files: no hashing
    # Flip one byte and put the old mtime back: the ctime still changes, so it is hashed and caught.
    st = vectors.stat()
    raw = bytearray(vectors.read_bytes())
    raw[-7] ^= 0x01
    vectors.write_bytes(bytes(raw))
    os.utime(vectors, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(IndexCorruptError, match="checksum mismatch"):
        load_index(d)
    assert calls


def test_paper_records_behind_why_labels_and_the_map_are_checked(hash_index_copy):
    """papers_at (the path of --why, theme labels and the map) checks the papers file's checksum."""
    from click.testing import CliRunner

    from paperlike.cli import cli

    index = load_index(hash_index_copy)  # opens the papers file; its records are read on first use
    path = hash_index_copy / read_manifest(hash_index_copy)["files"]["papers"]["name"]
    data = path.read_bytes()
    at = data.index(b'"title": "AutoDistil') + len(b'"title": "')
    with open(path, "r+b") as fh:  # same size, same file: only the checksum can tell
        fh.seek(at)
        fh.write(b"B")
    with pytest.raises(IndexCorruptError, match="papers-.* is damaged .checksum mismatch."):
        index.papers_at([0])
    with pytest.raises(IndexCorruptError, match="checksum mismatch"):
        Recommender(load_index(hash_index_copy)).similar("tame", k=3, why=True)
    with pytest.raises(IndexCorruptError, match="checksum mismatch"):
        Recommender(load_index(hash_index_copy)).paper("autodistil")
    result = CliRunner().invoke(cli, ["similar", "tame", "--why", "--index-dir", str(hash_index_copy)])
    assert result.exit_code == 2 and "checksum mismatch" in result.stderr
