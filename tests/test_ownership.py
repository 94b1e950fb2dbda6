"""paperlike touches only files it created (issue 17, 3), and checkpoints belong to one build.

A build into a folder holding other files and no index is refused unless forced, and even then
only paperlike's own files are written. Cleanup deletes only what the generation record lists.
Checkpoint shards carry their build, model and dimension, are checked before reuse, are attached
to the papers whose text they embed, and survive other commands until their build resumes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import tree_snapshot, write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import NotAnIndexError
from paperlike.readers import bundled_corpus
from paperlike.records import Corpus, Paper
from paperlike.service.build import build_index
from paperlike.service.edits import remove_papers
from paperlike.storage import load_index, read_manifest
from paperlike.storage.files import TMP_PREFIX, atomic_write_json
from paperlike.storage.generations import RECORD
from paperlike.storage.names import CHECKPOINT_DIR

USER_FILES = {
    "notes.txt": b"my notes",
    "vectors-20200101000000-abcdef.faiss": b"mine, named like paperlike's",
    "papers-20200101000000-abcdef.jsonl": b'{"id": "mine"}\n',
    f"{TMP_PREFIX}mine.txt": b"starts with the temp prefix, still mine",
    "sub/data.csv": b"a,b\n",
    "lexical-20200101000000-abcdef/meta.json": b"{}",
}


def _plant(directory: Path) -> None:
    for name, data in USER_FILES.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)


def _mine(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in USER_FILES if (directory / name).exists()}


def run(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_folder_of_other_files_is_refused_without_force(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "thesis.tex").write_text("mine")
    (folder / "figures").mkdir()
    before = tree_snapshot(folder)
    result = run("index", "build", "--index-dir", folder, "--model", "hashing", "-q")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"Error: {folder} is not empty (2 file(s) such as 'figures') and holds no paperlike index; build into an "
        "empty or new folder, or add --force to build there anyway (only paperlike's own files are written)"
    )
    assert tree_snapshot(folder) == before and sorted(p.name for p in folder.iterdir()) == ["figures", "thesis.tex"]
    result = run("index", "build", "--index-dir", folder, "--model", "hashing", "-q", "--force")
    assert result.exit_code == 0, result.output
    assert (folder / "thesis.tex").read_text() == "mine" and load_index(folder).count == 75
    # From now on it is an index folder: no --force needed, and the user's files stay.
    assert run("index", "build", "--index-dir", folder, "--model", "hashing", "-q", "--no-cache").exit_code == 0
    assert (folder / "thesis.tex").read_text() == "mine" and (folder / "figures").is_dir()


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_manifest_json_of_someone_elses_is_never_overwritten(tmp_path, force):
    folder = tmp_path / "webapp"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "my web app", "icons": []}')
    result = run("index", "build", "--index-dir", folder, "--model", "hashing", "-q", *force)
    assert result.exit_code == 2 and "holds a manifest.json that is not paperlike's" in result.stderr
    assert (folder / "manifest.json").read_text() == '{"name": "my web app", "icons": []}'
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"]


def test_a_file_as_index_dir_is_refused(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    result = run("index", "build", "--index-dir", target, "--model", "hashing", "-q")
    assert result.exit_code == 2 and "is a file" in result.stderr
    with pytest.raises(NotAnIndexError, match="is a file, not a folder"):
        build_index(bundled_corpus(), HashingEmbedder(), target)
    assert target.read_text() == "x"


def test_files_named_like_paperlikes_are_never_deleted(hash_index_copy, tmp_path):
    _plant(hash_index_copy)
    extra = write_jsonl(tmp_path / "x.jsonl", [{"title": "A new paper to add", "abstract": "words"}])
    build_index(bundled_corpus(), HashingEmbedder(), hash_index_copy, reuse=False)
    assert run("add", extra, "--index-dir", hash_index_copy, "-q").exit_code == 0
    remove_papers(hash_index_copy, ["tame"])
    build_index(bundled_corpus(), HashingEmbedder(), hash_index_copy)
    assert _mine(hash_index_copy) == USER_FILES
    assert load_index(hash_index_copy).count == 75


def test_a_forced_build_writes_only_its_own_files(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    _plant(folder)
    (folder / "vectors-20200101000000-abcdef.faiss").unlink()  # else the folder looks like an older index
    (folder / "papers-20200101000000-abcdef.jsonl").unlink()
    planted = _mine(folder)
    with pytest.raises(NotAnIndexError):
        build_index(bundled_corpus(), HashingEmbedder(), folder)
    build_index(bundled_corpus(), HashingEmbedder(), folder, force=True)
    build_index(Corpus(bundled_corpus().papers[:10], "ten"), HashingEmbedder(), folder)
    assert _mine(folder) == planted
    ours = {p.name for p in folder.iterdir()} - {Path(n).parts[0] for n in planted}
    live = {f["name"] for f in read_manifest(folder)["files"].values()}
    assert ours - {".verified.json"} == live | {"manifest.json", ".lock", RECORD}


def test_leftovers_of_a_killed_writer_are_cleaned_because_they_are_recorded(hash_index_copy):
    dead = "20200101000000-dead00"
    record = json.loads((hash_index_copy / RECORD).read_text())
    atomic_write_json(hash_index_copy / RECORD, {**record, "generations": record["generations"] + [dead]})
    left = [f"vectors-{dead}.faiss", f"titles-{dead}.json", f"{TMP_PREFIX}papers-{dead}.jsonl.k1ll3d", f"lexical-{dead}/data.npy"]
    for name in left:
        (hash_index_copy / name).parent.mkdir(exist_ok=True)
        (hash_index_copy / name).write_bytes(b"half written")
    remove_papers(hash_index_copy, ["tame"])
    assert not any((hash_index_copy / Path(name).parts[0]).exists() for name in left)
    assert json.loads((hash_index_copy / RECORD).read_text())["generations"] == [read_manifest(hash_index_copy)["generation"]]


def test_an_index_of_an_older_paperlike_is_taken_over_and_cleaned(hash_index_copy):
    """Indexes written before the generation record: the manifest's files are paperlike's."""
    old = read_manifest(hash_index_copy)
    (hash_index_copy / RECORD).unlink()
    build_index(bundled_corpus(), HashingEmbedder(), hash_index_copy, reuse=False)
    assert not any((hash_index_copy / f["name"]).exists() for f in old["files"].values())
    assert load_index(hash_index_copy).count == 75


# -- checkpoints -----------------------------------------------------------------------------


class Interrupting(HashingEmbedder):
    """Embeds ``limit`` texts, then is interrupted (a Ctrl-C in the middle of a build)."""

    def __init__(self, limit: int | None = None):
        super().__init__()
        self.limit = limit
        self.embedded = 0

    def embed_batch(self, texts):
        if self.limit is not None and self.embedded + len(texts) > self.limit:
            raise KeyboardInterrupt
        self.embedded += len(texts)
        return super().embed_batch(texts)


def _interrupted(corpus: Corpus, directory: Path, limit: int, batch_size: int = 4) -> None:
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, Interrupting(limit), directory, batch_size=batch_size)


def _shard_files(directory: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree_snapshot(directory).items() if k.startswith(CHECKPOINT_DIR)}


def _assert_own_vectors(directory: Path) -> None:
    """Each paper's stored vector is the vector of its own text."""
    index = load_index(directory)
    expected = HashingEmbedder().embed_batch([p.text for p in index.papers()])
    np.testing.assert_allclose(index.all_vectors(), expected, atol=1e-6)


def _other_corpus(n: int = 40) -> Corpus:
    return Corpus([Paper(f"o{i}", f"Other corpus paper {i}", f"other words {i} {i * 11}") for i in range(n)], "other.jsonl")


def test_add_and_remove_keep_another_interrupted_builds_checkpoints(hash_index_copy, tmp_path):
    _interrupted(_other_corpus(), hash_index_copy, limit=24)  # 6 shards of the other corpus wait
    shards = _shard_files(hash_index_copy)
    assert len(shards) == 12
    extra = write_jsonl(tmp_path / "x.jsonl", [{"title": "Something new to add here", "abstract": "new"}])
    assert run("add", extra, "--index-dir", hash_index_copy, "-q").exit_code == 0
    remove_papers(hash_index_copy, ["tame"])
    build_index(Corpus(load_index(hash_index_copy).papers(), "same papers"), HashingEmbedder(), hash_index_copy)
    assert _shard_files(hash_index_copy) == shards  # untouched by add, remove and another build
    resumed = Interrupting()
    report = build_index(_other_corpus(), resumed, hash_index_copy)
    assert (report.reused, report.embedded, resumed.embedded) == (24, 16, 16)  # the hours are not lost
    assert _shard_files(hash_index_copy) == {} and not (hash_index_copy / CHECKPOINT_DIR).exists()
    _assert_own_vectors(hash_index_copy)


@pytest.mark.parametrize("batch_sizes", [(4, 4, 4), (3, 7, 5), (1, 16, 2), (9, 2, 32)])
def test_resumed_builds_attach_each_vector_to_its_own_paper(tmp_path, batch_sizes):
    """Two interruptions, then a resume: the third build uses shards of both earlier ones."""
    corpus = bundled_corpus()
    directory = tmp_path / "i"
    _interrupted(corpus, directory, limit=20, batch_size=batch_sizes[0])
    # The second build embeds only what is missing (a subset, in another order) and is interrupted too.
    _interrupted(corpus, directory, limit=30, batch_size=batch_sizes[1])
    final = Interrupting()
    report = build_index(corpus, final, directory, batch_size=batch_sizes[2])
    b0, b1 = batch_sizes[:2]
    assert report.reused == 20 // b0 * b0 + 30 // b1 * b1  # every whole batch of both was kept
    assert report.embedded == final.embedded == 75 - report.reused
    _assert_own_vectors(directory)


def _corrupt_shard(directory: Path, how: str) -> None:
    keys = sorted((directory / CHECKPOINT_DIR).rglob("shard-*.json"))[0]
    vectors = keys.with_suffix(".npy")
    record = json.loads(keys.read_text())
    array = np.load(vectors)
    if how == "nan":
        array[0, 0] = np.nan
        np.save(vectors, array)
    elif how == "inf":
        array[-1, 3] = np.inf
        np.save(vectors, array)
    elif how == "shape":
        np.save(vectors, array[:, :100])
    elif how == "rows":
        np.save(vectors, array[:-1])
    elif how == "dtype":
        np.save(vectors, array.astype(np.float64))
    elif how == "truncated":
        vectors.write_bytes(vectors.read_bytes()[:-50])
    elif how == "other-model":
        keys.write_text(json.dumps({**record, "model": {**record["model"], "version": "other"}}))
    elif how == "other-dim":
        keys.write_text(json.dumps({**record, "dim": 64}))
    elif how == "bad-hash":
        keys.write_text(json.dumps({**record, "hashes": ["../../x"] + record["hashes"][1:]}))
    elif how == "bad-build":
        keys.write_text(json.dumps({**record, "build": "../x"}))
    elif how == "not-json":
        keys.write_text("{")
    elif how == "object-array":
        np.save(vectors, np.array([object()] * len(array), dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    "how",
    [
        "nan",
        "inf",
        "shape",
        "rows",
        "dtype",
        "truncated",
        "other-model",
        "other-dim",
        "bad-hash",
        "bad-build",
        "not-json",
        "object-array",
    ],
)
def test_damaged_checkpoints_are_never_reused(tmp_path, how):
    corpus = bundled_corpus()
    directory = tmp_path / "i"
    _interrupted(corpus, directory, limit=16)
    _corrupt_shard(directory, how)
    final = Interrupting()
    report = build_index(corpus, final, directory)
    assert report.reused == 12 and final.embedded == 63  # the damaged shard's 4 texts were embedded again
    _assert_own_vectors(directory)
    assert load_index(directory).count == 75


def test_a_nan_from_the_model_stops_the_build_before_any_checkpoint(tmp_path):
    class NaNModel(HashingEmbedder):
        def embed_batch(self, texts):
            out = super().embed_batch(texts)
            out[0, 0] = np.nan
            return out

    from paperlike.errors import ModelError

    with pytest.raises(ModelError, match="non-finite values"):
        build_index(bundled_corpus(), NaNModel(), tmp_path / "i")
    assert not (tmp_path / "i").exists()


def test_the_default_index_folder_is_paperlikes_own(tmp_path, monkeypatch):
    """A source checkout's index/ holds a tracked README: the default index is still built there
    (without --force), and the README stays as it is."""
    import paperlike.service.build as build
    from paperlike.service.build import ensure_default_index
    from paperlike.settings import Settings, default_index_dir

    assert build._default_location(default_index_dir(Settings())[0]) and not build._default_location(tmp_path)
    folder = tmp_path / "checkout-index"
    folder.mkdir()
    (folder / "README.md").write_text("# index/\n")
    monkeypatch.setattr(build, "default_index_dir", lambda settings=None: (folder, "source checkout"))
    ensure_default_index(folder, HashingEmbedder(), progress=False)
    assert load_index(folder).count == 75 and (folder / "README.md").read_text() == "# index/\n"
    other = tmp_path / "other"
    other.mkdir()
    (other / "README.md").write_text("mine")
    with pytest.raises(NotAnIndexError):
        build_index(bundled_corpus(), HashingEmbedder(), other)
