"""``rank`` reuses vectors of papers it has seen: the index's for library texts, the rank cache's
for batch papers ranked before (same model only; a damaged cache is rebuilt, never trusted)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.readers import bundled_corpus
from paperlike.records import Paper
from paperlike.service.build import build_index
from paperlike.service.incoming import rank_batch
from paperlike.service.recommender import Recommender
from paperlike.storage.rank_cache import RANK_CACHE_DIR, RankCache

NEW = [
    Paper("distil-small", "Distilling language models into small students", "We distil a large teacher into a small student."),
    Paper("robot-hands", "Dexterous robot hands from human videos", "A robot learns manipulation from videos of hands."),
    Paper("sea-birds", "Migration routes of sea birds", "We track albatross flights over the southern ocean."),
]


class Counting(HashingEmbedder):
    """The hashing embedder, counting the texts it embeds."""

    def __init__(self, dim: int = 384):
        super().__init__(dim=dim)
        self.embedded = 0

    def embed_batch(self, texts):
        self.embedded += len(texts)
        return super().embed_batch(texts)


def _rank(directory, papers, **kw):
    embedder = Counting()
    ranking = rank_batch(Recommender.load(directory, embedder=embedder), papers, why=False, **kw)
    return embedder.embedded, ranking


def test_second_run_embeds_nothing_and_gives_the_same_ranking(hash_index_copy):
    count, first = _rank(hash_index_copy, NEW)
    assert count == 3 and (first.embedded, first.reused) == (3, 0)
    assert {r.vector_from for r in first} == {"embedded"}
    count, second = _rank(hash_index_copy, NEW)
    assert count == 0 and (second.embedded, second.reused) == (0, 3)
    assert {r.vector_from for r in second} == {"cache"}
    assert [(r.id, r.score, r.cosine) for r in second] == [(r.id, r.score, r.cosine) for r in first]


def test_a_changed_text_is_embedded_again(hash_index_copy):
    _rank(hash_index_copy, NEW)
    changed = [NEW[0], Paper(NEW[1].id, NEW[1].title, NEW[1].abstract + " Now with tactile sensors."), NEW[2]]
    count, ranking = _rank(hash_index_copy, changed)
    assert count == 1 and (ranking.embedded, ranking.reused) == (1, 2)
    assert {r.id: r.vector_from for r in ranking}["robot-hands"] == "embedded"


def test_a_library_text_takes_the_index_vector(hash_index_copy):
    lib = Recommender.load(hash_index_copy, embedder=HashingEmbedder()).index.papers()[4]
    count, ranking = _rank(hash_index_copy, [lib, *NEW[:1]], include_known=True)
    assert count == 1
    assert {r.id: r.vector_from for r in ranking} == {lib.id: "library", "distil-small": "embedded"}


def _damage_vectors(directory):
    (npy,) = (directory / RANK_CACHE_DIR).glob("*.npy")
    data = bytearray(npy.read_bytes())
    data[-8:] = b"\xff" * 8  # two NaN floats, same shape: only the checksum and the NaN check see it
    npy.write_bytes(bytes(data))


def _truncate_vectors(directory):
    (npy,) = (directory / RANK_CACHE_DIR).glob("*.npy")
    npy.write_bytes(npy.read_bytes()[:200])


def _bad_hashes(directory):
    (keys,) = (directory / RANK_CACHE_DIR).glob("*.json")
    record = json.loads(keys.read_text())
    record["hashes"][0] = "../../etc/passwd"
    keys.write_text(json.dumps(record))


def _other_dim(directory):
    (keys,) = (directory / RANK_CACHE_DIR).glob("*.json")
    record = json.loads(keys.read_text())
    record["dim"] = 8
    keys.write_text(json.dumps(record))


def _keys_not_json(directory):
    (keys,) = (directory / RANK_CACHE_DIR).glob("*.json")
    keys.write_bytes(b"\x00garbage")


def _pickled_vectors(directory):
    (npy,) = (directory / RANK_CACHE_DIR).glob("*.npy")
    np.save(npy, np.array([{"x": 1}], dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    "damage", [_damage_vectors, _truncate_vectors, _bad_hashes, _other_dim, _keys_not_json, _pickled_vectors]
)
def test_a_damaged_cache_is_ignored_and_rebuilt(hash_index_copy, damage):
    _, first = _rank(hash_index_copy, NEW)
    damage(hash_index_copy)
    count, again = _rank(hash_index_copy, NEW)
    assert count == 3  # nothing of the damaged cache was trusted
    assert [(r.id, r.score) for r in again] == [(r.id, r.score) for r in first]
    count, third = _rank(hash_index_copy, NEW)
    assert count == 0 and third.reused == 3  # ...and it was written whole again


class OtherVersion(Counting):
    """Same name and dimension, another version: another model identity."""

    def identity(self) -> dict:
        return {**super().identity(), "version": "2"}


def test_an_index_of_another_model_reuses_nothing(tmp_path):
    """The cache is per model identity: vectors made by one model are not offered to another of
    the same dimension, even when the first model's cache sits in the second index's folder."""
    directory = tmp_path / "idx"
    build_index(bundled_corpus(), HashingEmbedder(), directory)
    _rank(directory, NEW)
    other = tmp_path / "idx-v2"
    build_index(bundled_corpus(), OtherVersion(), other)
    (other / RANK_CACHE_DIR).mkdir()
    for f in (directory / RANK_CACHE_DIR).iterdir():
        (other / RANK_CACHE_DIR / f.name).write_bytes(f.read_bytes())
    # Even under the other model's file names: the identity inside is checked too.
    for f in (directory / RANK_CACHE_DIR).iterdir():
        mine = RankCache(other, OtherVersion().identity(), 384)
        (mine.keys_path if f.suffix == ".json" else mine.vectors_path).write_bytes(f.read_bytes())
    embedder = OtherVersion()
    ranking = rank_batch(Recommender.load(other, embedder=embedder), NEW, why=False)
    assert embedder.embedded == 3 and ranking.reused == 0
    assert RankCache(other, HashingEmbedder().identity(), 384).load()  # the copied cache itself is valid


def test_the_cache_keeps_only_the_newest_entries(tmp_path):
    cache = RankCache(tmp_path, {"name": "m"}, 4, limit=3)
    vec = {f"{i:032x}": np.full(4, i, np.float32) for i in range(5)}
    cache.save({}, [], dict(list(vec.items())[:3]))
    loaded = cache.load()
    cache.save(loaded, [f"{0:032x}"], dict(list(vec.items())[3:]))  # 0 used again: 1 and 2 are oldest
    assert sorted(cache.load()) == [f"{i:032x}" for i in (0, 3, 4)]


def test_cli_says_what_was_embedded_and_reused(hash_index_copy, tmp_path):
    batch = write_jsonl(tmp_path / "today.jsonl", [p.to_dict() for p in NEW])
    runner = CliRunner()
    first = runner.invoke(cli, ["rank", str(batch), "--index-dir", str(hash_index_copy), "--json"])
    assert first.exit_code == 0, first.output
    assert "3 paper(s) embedded, 0 reused" in first.stderr
    assert {row["vector_from"] for row in json.loads(first.stdout)} == {"embedded"}
    second = runner.invoke(cli, ["rank", str(batch), "--index-dir", str(hash_index_copy), "--json"])
    assert "0 paper(s) embedded, 3 reused" in second.stderr
    assert {row["vector_from"] for row in json.loads(second.stdout)} == {"cache"}
