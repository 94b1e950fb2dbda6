"""Writers never lose each other's work (issue 17, 2).

Concurrent ``add``s of disjoint papers, ``remove``s and a ``build`` run as separate processes on
one index, many operations each. Every writer reports the generation it started from and the one
it wrote; those reports must form one chain (no two writers started from the same generation),
and replaying the reported operations in chain order must give exactly the final index, each
paper with the vector of its own text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import lock_held_elsewhere
from paperlike.embedding import HashingEmbedder
from paperlike.errors import IndexBusyError
from paperlike.readers import BUNDLED_SOURCE, bundled_corpus
from paperlike.records import Corpus, Paper
from paperlike.service.build import build_index, ensure_default_index
from paperlike.service.edits import add_papers, remove_papers
from paperlike.storage import load_index, read_manifest
from paperlike.storage.lock import writer_lock

WORKER = r"""
import json, sys
from paperlike.embedding import HashingEmbedder
from paperlike.records import Corpus, Paper
from paperlike.service.build import build_index
from paperlike.service.edits import add_papers, remove_papers

index_dir, role, worker, rounds, removers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
base = [Paper(**r) for r in json.loads(sys.argv[6])]
out = []
for r in range(rounds):
    if role == "add":
        papers = [Paper(f"w{worker}-r{r}-{j}", f"Paper {j} of writer {worker}, round {r}", f"text {worker} {r} {j}") for j in range(2)]
        corpus = Corpus(papers, f"w{worker}.jsonl", explicit_ids=frozenset(p.id for p in papers))
        rep = add_papers(index_dir, [corpus], embedder=HashingEmbedder())
        out.append({"op": "add", "ids": rep.added_ids, "gen": rep.generation, "parent": rep.parent})
    elif role == "remove":
        pid = base[worker + r * removers].id  # each base paper is removed by one remover, once
        gone = remove_papers(index_dir, [pid])
        out.append({"op": "remove", "ids": list(gone), "gen": gone.generation, "parent": gone.parent})
    else:
        rep = build_index(Corpus(base, "base.jsonl"), HashingEmbedder(), index_dir)
        out.append({"op": "build", "gen": rep.generation, "parent": rep.parent})
print(json.dumps(out))
"""


def _base(n: int) -> list[Paper]:
    return [Paper(f"b{i}", f"Base paper number {i}", f"base words {i} {i * 3}") for i in range(n)]


def _replay(start: str, reports: list[dict], base: list[Paper]) -> tuple[list[str], int]:
    """The ids the index must hold after the reported operations, applied in chain order."""
    by_parent: dict[str, list[dict]] = {}
    for rep in reports:
        by_parent.setdefault(rep["parent"], []).append(rep)
    forks = {p: len(v) for p, v in by_parent.items() if len(v) > 1}
    assert not forks, f"writers started from the same generation (lost updates): {forks}"
    state, gen, applied = [p.id for p in base], start, 0
    while gen in by_parent:
        rep = by_parent[gen][0]
        if rep["op"] == "add":
            state += rep["ids"]
        elif rep["op"] == "remove":
            assert rep["ids"][0] in state, f"{rep['ids']} removed but not in the index it started from"
            state.remove(rep["ids"][0])
        else:
            state = [p.id for p in base]
        gen, applied = rep["gen"], applied + 1
    assert applied == len(reports), f"{len(reports) - applied} reported writes are not in the chain"
    return state, applied


def _stress(tmp_path: Path, adders: int, removers: int, builders: int, rounds: int) -> dict[str, int]:
    base = _base(removers * rounds + 5)
    index_dir = tmp_path / "index"
    start = build_index(Corpus(base, "base.jsonl"), HashingEmbedder(), index_dir).generation
    roles = ["add"] * adders + ["remove"] * removers + ["build"] * builders
    payload = json.dumps([p.to_dict() for p in base])
    procs = []
    for role in roles:
        worker = sum(r == role for r, _ in procs)
        cmd = [sys.executable, "-c", WORKER, str(index_dir), role, str(worker), str(rounds), str(removers), payload]
        procs.append((role, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    reports = []
    for role, proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{role} writer failed: {err.strip().splitlines()[-1:]}"
        reports += json.loads(out)
    expected, applied = _replay(start, reports, base)
    index = load_index(index_dir)
    lost = len(set(expected) - set(index.ids))
    extra = len(set(index.ids) - set(expected))
    assert (lost, extra) == (0, 0) and index.ids == expected
    # Each paper's vector is the vector of its own text (no paper got another's vector).
    texts = [p.text for p in index.papers()]
    np.testing.assert_allclose(index.all_vectors(), HashingEmbedder().embed_batch(texts), atol=1e-6)
    return {"writers": len(roles), "rounds": rounds, "writes": applied, "papers": index.count, "lost": lost}


def test_concurrent_writers_lose_nothing(tmp_path, capsys):
    figures = _stress(tmp_path, adders=2, removers=1, builders=1, rounds=3)
    with capsys.disabled():
        print(f"\n[writers] {figures}")


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_over_many_rounds(tmp_path, capsys):
    totals = {"writes": 0, "lost": 0}
    for repeat in range(3):
        figures = _stress(tmp_path / str(repeat), adders=3, removers=2, builders=1, rounds=8)
        totals = {k: totals[k] + figures[k] for k in totals}
    with capsys.disabled():
        print(f"\n[writers, slow] 3 runs x 6 writers x 8 rounds: {totals['writes']} writes, {totals['lost']} papers lost")


def test_two_adds_in_threads_both_land(hash_index_copy):
    errors: list[BaseException] = []

    def add(worker: int) -> None:
        try:
            for r in range(3):
                paper = Paper(f"t{worker}-{r}", f"Thread {worker} paper {r}", f"thread text {worker} {r}")
                add_papers(
                    hash_index_copy, [Corpus([paper], "t", explicit_ids=frozenset({paper.id}))], embedder=HashingEmbedder()
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = load_index(hash_index_copy).ids
    assert len(ids) == 75 + 9 and {f"t{w}-{r}" for w in range(3) for r in range(3)} <= set(ids)


def test_a_writer_waits_for_the_lock_then_gives_a_clear_error(hash_index_copy, monkeypatch):
    monkeypatch.setenv("PAPERLIKE_LOCK_TIMEOUT", "0.3")
    with lock_held_elsewhere(hash_index_copy):
        started = time.monotonic()
        with pytest.raises(IndexBusyError, match="is being changed by another paperlike command .waited 0.3 s"):
            remove_papers(hash_index_copy, ["tame"])
        assert time.monotonic() - started >= 0.3
    assert remove_papers(hash_index_copy, ["tame"]) == ["tame"]  # free again


def test_the_lock_is_reentrant_in_one_thread_only(tmp_path):
    with writer_lock(tmp_path):
        with writer_lock(tmp_path):  # a command holding it can run the build that takes it again
            pass
        got = []
        other = threading.Thread(target=lambda: got.append(_try_lock(tmp_path)))
        other.start()
        other.join()
        assert got == [False]  # another thread still has to wait
    assert _try_lock(tmp_path)


def _try_lock(directory: Path) -> bool:
    try:
        with writer_lock(directory, timeout=0.05):
            return True
    except IndexBusyError:
        return False


def test_a_commit_on_a_moved_index_writes_nothing(hash_index_copy):
    """The second line behind the lock: a writer that started from an older generation is refused."""
    from paperlike.service.build import rebuild_index

    index = load_index(hash_index_copy)
    remove_papers(hash_index_copy, ["tame"])  # the index moves on
    with pytest.raises(IndexBusyError, match="was changed by another writer while this command ran"):
        rebuild_index(
            Corpus(index.papers(), "x"), HashingEmbedder(), hash_index_copy, base_generation=index.manifest["generation"]
        )
    assert "tame" not in load_index(hash_index_copy).ids


# -- the default index ---------------------------------------------------------------------------


def test_remove_on_the_default_index_stays_removed(tmp_path):
    directory = tmp_path / "default"
    ensure_default_index(directory, HashingEmbedder(), progress=False)
    assert load_index(directory).count == 75
    remove_papers(directory, ["tame"])
    ensure_default_index(directory, HashingEmbedder(), progress=False)  # what every later command runs
    assert load_index(directory).count == 74 and "tame" not in load_index(directory).ids
    assert read_manifest(directory)["corpus"]["edited"] is True


def test_the_default_index_is_rebuilt_when_the_bundled_papers_change(tmp_path):
    directory = tmp_path / "default"
    bundled = bundled_corpus()
    # What an older paperlike's bundle left: fewer papers, another file checksum.
    older = Corpus(bundled.papers[:70], BUNDLED_SOURCE, file_sha256="0" * 64)
    build_index(older, HashingEmbedder(), directory)
    ensure_default_index(directory, HashingEmbedder(), progress=False)
    index = load_index(directory)
    assert index.count == 75 and index.ids == [p.id for p in bundled.papers]
    generation = read_manifest(directory)["generation"]
    ensure_default_index(directory, HashingEmbedder(), progress=False)  # unchanged bundle: nothing to do
    assert read_manifest(directory)["generation"] == generation


def test_the_default_index_keeps_a_users_own_corpus(tmp_path):
    directory = tmp_path / "default"
    build_index(Corpus([Paper("mine", "My own paper", "mine")], "mine.jsonl"), HashingEmbedder(), directory)
    ensure_default_index(directory, HashingEmbedder(), progress=False)
    assert load_index(directory).ids == ["mine"]


def test_two_first_uses_of_the_default_index_at_once(tmp_path):
    directory = tmp_path / "default"
    directory.mkdir()
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            ensure_default_index(directory, HashingEmbedder(), progress=False)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and load_index(directory).count == 75
    assert len([p for p in directory.iterdir() if p.name.startswith("vectors-")]) == 1


@pytest.mark.skipif(os.name != "posix", reason="fcntl locks")
def test_the_lock_is_the_one_older_paperlike_versions_took(tmp_path):
    """filelock (used by 851650a and before) locks the same file the same way: old and new writers exclude each other."""
    from filelock import FileLock

    with FileLock(str(tmp_path / ".lock")):
        assert not _try_lock(tmp_path)
    assert _try_lock(tmp_path)


def test_bm25_folders_saved_by_readers_during_rebuilds_are_not_left_behind(hash_index_copy):
    """Readers save the BM25 folder of the generation they loaded without the writer lock; one
    saved just after a writer retired that generation is removed again by the reader itself."""
    from paperlike.service import Recommender

    stop = threading.Event()
    errors: list[BaseException] = []

    def read_repeatedly() -> None:
        try:
            while not stop.is_set():
                Recommender.load(hash_index_copy).similar("autodistil", k=3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    try:
        for i in range(6):
            build_index(Corpus(bundled_corpus().papers[: 70 + i % 2], "t"), HashingEmbedder(), hash_index_copy)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    live = read_manifest(hash_index_copy)["generation"]
    left = sorted(p.name for p in hash_index_copy.iterdir() if "lexical-" in p.name)
    assert set(left) <= {f"lexical-{live}"}, left
