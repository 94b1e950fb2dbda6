"""Values read from an index folder never make paperlike read, write or delete outside it (issue 17, 1).

An index folder may come from someone else. Every value in it that becomes part of a path (the
manifest's generation and file names, the generation record, ``.verified.json``, the BM25
folder, checkpoints, the lock file) is checked by a strict pattern and a containment check on
the resolved path; a bad one is a damaged-index error (exit 2) and nothing outside is touched.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import tree_snapshot, write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import IndexCorruptError
from paperlike.readers import bundled_corpus
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.service.edits import add_papers, remove_papers
from paperlike.storage import load_index, verify_index
from paperlike.storage.checkpoints import EmbeddingCache
from paperlike.storage.files import VERIFIED, Verifier
from paperlike.storage.generations import RECORD
from paperlike.storage.lexical import lexical_folder
from paperlike.storage.manifest import MANIFEST, read_manifest
from paperlike.storage.names import CHECKPOINT_DIR, LOCK, is_plain_name

HOSTILE_GENERATIONS = [
    "../victim",
    "/../../victim",
    "/tmp/victim",
    "20260101000000-abcdef/../../victim",
    "20260101000000-abcdef\n",  # '$' in a regex would let the newline through
    "20260101000000-ABCDEF",
    "",
    "..",
    "x" * 300,
    "20260101000000-abcdef\x00",
]


def _edit(directory: Path, edit) -> None:
    manifest = json.loads((directory / MANIFEST).read_text())
    edit(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest))


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.mkdir(exist_ok=True)
    (victim / "precious.txt").write_text("do not delete")
    return victim


@pytest.mark.parametrize("generation", HOSTILE_GENERATIONS)
def test_a_hostile_generation_is_a_damaged_index_and_deletes_nothing(hash_index_copy, tmp_path, generation):
    victim = _victim(tmp_path)
    # The attack on 851650a: a manifest whose generation walks out of "lexical-<generation>", a
    # planted "lexical-" folder so the path resolves, and a lookup that found the folder
    # unreadable and deleted it (the victim beside the index).
    (hash_index_copy / "lexical-").mkdir()
    (hash_index_copy / "lexical-..").mkdir()
    _edit(hash_index_copy, lambda m: m.update(generation=generation))
    with pytest.raises(IndexCorruptError, match="invalid generation|missing or invalid fields: generation|files"):
        read_manifest(hash_index_copy)
    result = CliRunner().invoke(cli, ["similar", "autodistil", "--index-dir", str(hash_index_copy)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "rebuild it with: paperlike index build --index-dir" in result.stderr
    assert (victim / "precious.txt").read_text() == "do not delete"
    # The suggested fix works, and leaves the planted folders (not paperlike's) alone.
    assert CliRunner().invoke(cli, ["index", "build", "--index-dir", str(hash_index_copy), "-q"]).exit_code == 0
    assert (hash_index_copy / "lexical-").is_dir() and load_index(hash_index_copy).count == 75


@pytest.mark.parametrize("generation", HOSTILE_GENERATIONS)
def test_the_bm25_folder_is_checked_even_when_the_manifest_was_not(hash_index_dir, tmp_path, generation):
    """A second line: code holding a manifest that skipped read_manifest still cannot leave the folder."""
    victim = _victim(tmp_path)
    index = load_index(hash_index_dir)
    index.manifest = {**index.manifest, "generation": generation}
    with pytest.raises(IndexCorruptError):
        Recommender(index).similar("autodistil", k=3)
    with pytest.raises(IndexCorruptError):
        lexical_folder(hash_index_dir, generation)
    assert (victim / "precious.txt").read_text() == "do not delete"


def test_the_bm25_folder_as_a_link_to_elsewhere_is_refused(hash_index_copy, tmp_path):
    victim = _victim(tmp_path)
    folder = lexical_folder(hash_index_copy, read_manifest(hash_index_copy)["generation"])
    shutil.rmtree(folder, ignore_errors=True)  # saved by an earlier query, maybe
    os.symlink(victim, folder)
    result = CliRunner().invoke(cli, ["similar", "autodistil", "--index-dir", str(hash_index_copy)])
    assert result.exit_code == 2 and "leads outside the index folder" in result.stderr
    assert (victim / "precious.txt").read_text() == "do not delete"
    assert sorted(p.name for p in victim.iterdir()) == ["precious.txt"]


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda m: m["files"]["vectors"].update(name=m["files"]["titles"]["name"]), "files.vectors"),  # another kind's file
        (lambda m: m["files"]["titles"].update(name="titles-20200101000000-abcdef.json"), "files.titles"),  # another generation
        (lambda m: m["files"]["papers"].update(name="../papers.jsonl"), "files.papers"),
        (lambda m: m["files"]["papers"].update(name="/etc/passwd"), "files.papers"),
        (lambda m: m["files"]["vectors"].update(bytes=-1), "files.vectors"),
        (lambda m: m.update(parent="../x"), "invalid generation"),
    ],
)
def test_manifest_file_entries_name_only_this_generations_files(hash_index_copy, edit, problem):
    _edit(hash_index_copy, edit)
    with pytest.raises(IndexCorruptError, match=problem):
        load_index(hash_index_copy)
    with pytest.raises(IndexCorruptError):
        verify_index(hash_index_copy)


@pytest.mark.parametrize("kind", ["vectors", "titles", "papers"])
def test_a_data_file_that_links_outside_is_never_read(hash_index_copy, tmp_path, kind):
    name = read_manifest(hash_index_copy)["files"][kind]["name"]
    outside = tmp_path / "outside.bin"
    outside.write_bytes((hash_index_copy / name).read_bytes())  # same bytes: only the link is wrong
    (hash_index_copy / name).unlink()
    os.symlink(outside, hash_index_copy / name)
    with pytest.raises(IndexCorruptError, match=f"{name} leads outside the index folder"):
        load_index(hash_index_copy).papers()
    with pytest.raises(IndexCorruptError, match="leads outside"):
        verify_index(hash_index_copy)


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "..", "a/b", ".hidden", "x\n"])
def test_verified_stamps_naming_other_places_are_a_damaged_index(hash_index_copy, key):
    stamps = json.loads((hash_index_copy / VERIFIED).read_text()) if (hash_index_copy / VERIFIED).exists() else {}
    stamps[key] = [1, 2, 3, 4, "0" * 64]
    (hash_index_copy / VERIFIED).write_text(json.dumps(stamps))
    with pytest.raises(IndexCorruptError, match=f"{VERIFIED} names a file outside the folder"):
        load_index(hash_index_copy)
    # A stamp of the wrong shape is only forgotten (the file is hashed again), never trusted.
    (hash_index_copy / VERIFIED).write_text(json.dumps({"manifest.json": "x", "titles": [1]}))
    assert load_index(hash_index_copy).count == 75
    assert Verifier(hash_index_copy).stamps.keys() >= {read_manifest(hash_index_copy)["files"]["titles"]["name"]}


@pytest.mark.parametrize(
    "record",
    [
        {"format": "paperlike-generations", "format_version": 1, "generations": ["../../victim"]},
        {"format": "paperlike-generations", "format_version": 1, "generations": ["20260101000000-abcdef/../.."]},
        {"format": "paperlike-generations", "format_version": 1, "generations": "20260101000000-abcdef"},
        {"format": "something-else", "generations": []},
        ["20260101000000-abcdef"],
        "not json at all {",
    ],
)
def test_a_hostile_generation_record_stops_writers_before_they_delete(hash_index_copy, tmp_path, record):
    victim = _victim(tmp_path)
    before = tree_snapshot(hash_index_copy)
    text = record if isinstance(record, str) else json.dumps(record)
    (hash_index_copy / RECORD).write_text(text)
    extra = write_jsonl(tmp_path / "x.jsonl", [{"title": "A paper on hostile records", "abstract": "x"}])
    result = CliRunner().invoke(cli, ["add", str(extra), "--index-dir", str(hash_index_copy)])
    assert result.exit_code == 2 and f"{RECORD} is damaged" in result.stderr and "delete" in result.stderr
    result = CliRunner().invoke(cli, ["index", "build", "--index-dir", str(hash_index_copy), "-q"])
    assert result.exit_code == 2 and f"{RECORD} is damaged" in result.stderr
    assert (victim / "precious.txt").read_text() == "do not delete"
    after = tree_snapshot(hash_index_copy)
    assert {k: v for k, v in after.items() if k != RECORD} == {k: v for k, v in before.items() if k != RECORD}
    assert after[RECORD] == text.encode()
    # The fix the message names works.
    (hash_index_copy / RECORD).unlink()
    assert CliRunner().invoke(cli, ["add", str(extra), "--index-dir", str(hash_index_copy)]).exit_code == 0


def test_a_lock_file_that_links_elsewhere_is_never_written_through(hash_index_copy, tmp_path):
    target = tmp_path / "someone-elses-file.txt"
    target.write_text("precious")
    (hash_index_copy / LOCK).unlink(missing_ok=True)
    os.symlink(target, hash_index_copy / LOCK)
    with pytest.raises(IndexCorruptError, match=r"\.lock is a link"):
        remove_papers(hash_index_copy, ["tame"])
    extra = write_jsonl(tmp_path / "x.jsonl", [{"title": "Another paper about locks", "abstract": "y"}])
    result = CliRunner().invoke(cli, ["add", str(extra), "--index-dir", str(hash_index_copy)])
    assert result.exit_code == 2 and "is a link, not paperlike's lock file" in result.stderr
    assert target.read_text() == "precious"


def test_a_checkpoint_folder_that_links_elsewhere_is_never_written_or_emptied(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shard-0123456789abcdef.npy").write_bytes(b"looks like a shard, is not ours")
    index_dir = tmp_path / "i"
    build_index(Corpus([Paper("a", "Alpha paper", "x"), Paper("b", "Beta paper", "y")], "t"), HashingEmbedder(), index_dir)
    os.symlink(outside, index_dir / CHECKPOINT_DIR)
    with pytest.raises(IndexCorruptError, match=f"{CHECKPOINT_DIR} leads outside the index folder"):
        build_index(bundled_corpus(), HashingEmbedder(), index_dir)
    with pytest.raises(IndexCorruptError, match="leads outside"):
        EmbeddingCache(index_dir, HashingEmbedder().identity()).checkpoint(["0" * 32], np.zeros((1, 384), np.float32))
    assert sorted(p.name for p in outside.iterdir()) == ["shard-0123456789abcdef.npy"]


def test_paper_ids_and_sources_never_become_paths(tmp_path):
    index_dir = tmp_path / "deep" / "i"
    papers = [Paper("../../escape", "../../../etc/passwd", "x", source="/etc/shadow"), Paper("/abs", "lexical-..", "y")]
    build_index(Corpus(papers, "../../../corpus"), HashingEmbedder(), index_dir)
    add_papers(
        index_dir, [Corpus([Paper("../x", "A title with ../ in it", "z")], "/etc/passwd", explicit_ids=frozenset({"../x"}))]
    )
    remove_papers(index_dir, ["/abs"])
    Recommender.load(index_dir).similar("../../escape", k=1, why=True)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert all(p.startswith("deep") for p in written)


@pytest.mark.parametrize("name", ["ok.json", "vectors-20260101000000-abcdef.faiss", "data.npy", "doc_terms.npy"])
def test_plain_names_pass(name):
    assert is_plain_name(name)


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "/x", ".hidden", "-flag", "a\nb", "x\n", "a" * 201, 5, None])
def test_names_with_any_path_in_them_fail(name):
    assert not is_plain_name(name)


def _finishes(action, seconds: float = 20.0):
    """Run ``action`` in a thread; fail (instead of hanging the suite) if it blocks."""
    import threading

    outcome: list = []

    def target() -> None:
        try:
            outcome.append(("ok", action()))
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome.append(("error", exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, "blocked (reading a FIFO?)"
    return outcome[0]


def _fifo_in_place_of(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    os.mkfifo(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
@pytest.mark.parametrize("which", ["manifest", "vectors", "titles", "papers", "record", "lock"])
def test_a_fifo_in_place_of_an_index_file_is_an_error_not_a_hang(hash_index_copy, which):
    files = read_manifest(hash_index_copy)["files"]
    names = {"manifest": MANIFEST, "record": RECORD, "lock": LOCK, **{k: files[k]["name"] for k in files}}
    _fifo_in_place_of(hash_index_copy / names[which])

    def use() -> None:
        load_index(hash_index_copy).papers()
        remove_papers(hash_index_copy, ["tame"])

    kind, value = _finishes(use)
    assert kind == "error" and isinstance(value, IndexCorruptError), value
    assert "not a regular file" in str(value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_in_place_of_a_derived_file_is_recomputed(hash_index_copy):
    """Stamps and the BM25 folder are derived: a FIFO there is replaced by what it should hold."""
    Recommender.load(hash_index_copy).similar("autodistil", k=3)  # saves the BM25 folder and the stamps
    folder = lexical_folder(hash_index_copy, read_manifest(hash_index_copy)["generation"])
    _fifo_in_place_of(folder / "meta.json")
    _fifo_in_place_of(hash_index_copy / VERIFIED)
    kind, value = _finishes(lambda: [r.id for r in Recommender.load(hash_index_copy).similar("autodistil", k=3)])
    assert kind == "ok" and len(value) == 3
    assert (folder / "meta.json").is_file() and (hash_index_copy / VERIFIED).is_file()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
@pytest.mark.parametrize("suffix", [".npy", ".json"])
def test_a_fifo_in_place_of_a_checkpoint_is_skipped(tmp_path, suffix):
    directory = tmp_path / "i"
    corpus = bundled_corpus()

    class Stop(HashingEmbedder):
        def embed_batch(self, texts):
            if getattr(self, "done", 0) >= 8:
                raise KeyboardInterrupt
            self.done = getattr(self, "done", 0) + len(texts)
            return super().embed_batch(texts)

    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, Stop(), directory, batch_size=4)
    shard = sorted((directory / CHECKPOINT_DIR).rglob(f"shard-*{suffix}"))[0]
    _fifo_in_place_of(shard)
    kind, value = _finishes(lambda: build_index(corpus, HashingEmbedder(), directory))
    assert kind == "ok" and value.reused == 4 and value.embedded == 71
