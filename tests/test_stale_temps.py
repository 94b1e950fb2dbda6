"""Killed work is cleaned up (issue 23 §5): SIGTERM and SIGHUP stop a command as Ctrl-C does,
removing its temp files; what a SIGKILL left is removed by a later run, but only files that are
certainly paperlike's (its name pattern, owned by this user, old, their process gone)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from paperlike.cli import cli
from paperlike.storage.stale import STALE_AFTER, remove_stale, remove_stale_private

GENEROUS = 120
OLD = time.time() - STALE_AFTER - 600


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _plant(path: Path, *, folder: bool = False, when: float = OLD) -> Path:
    if folder:
        path.mkdir()
        (path / "zotero.sqlite").write_bytes(b"a private copy of someone's library")
    else:
        path.write_bytes(b"half-written")
    os.utime(path, (when, when))
    return path


def test_a_writer_removes_the_temp_files_a_killed_writer_left_in_the_index(hash_index_copy, tmp_path):
    idx = hash_index_copy
    (idx / "themes").mkdir(exist_ok=True)
    stale = [
        _plant(idx / ".paperlike-tmp-vectors-20260101120000-a1b2c3.faiss.k3j_x9q2"),
        _plant(idx / ".paperlike-tmp-lexical-20260101120000-a1b2c3.abcd1234", folder=True),
        _plant(idx / ".paperlike-tmp-.verified.json.zz99aa00"),
        _plant(idx / "themes" / ".paperlike-tmp-0123456789abcdef.json.q1w2e3r4"),
    ]
    someone_elses = tmp_path / "precious.txt"
    someone_elses.write_text("mine")
    kept = [
        _plant(idx / ".paperlike-tmp-vectors.faiss.k3j_x9q2", when=time.time()),  # recent: may be a write in progress
        _plant(idx / ".paperlike-tmp-notes"),  # no random tail: not a name paperlike makes
        _plant(idx / "paperlike-tmp-vectors.faiss.k3j_x9q2"),  # no leading dot
        _plant(idx / ".paperlike-tmpvectors.faiss.k3j_x9q2"),
        _plant(idx / "my.paperlike-tmp-x.k3j_x9q2"),
        _plant(idx / ".paperlike-tmp-x.k3j_x9q2.bak"),
    ]
    link = idx / ".paperlike-tmp-link.abcd1234"
    os.symlink(someone_elses, link)
    os.utime(link, (OLD, OLD), follow_symlinks=False)
    kept.append(link)
    if os.getuid() == 0:  # root can plant a file of another user: never removed
        other = _plant(idx / ".paperlike-tmp-other.abcd1234")
        os.chown(other, 65534, 65534)
        kept.append(other)
    papers = tmp_path / "new.csv"
    papers.write_text("title,abstract\nA new paper,Its abstract.\n")
    result = CliRunner().invoke(cli, ["add", str(papers), "--index-dir", str(idx)])
    assert result.exit_code == 0, result.output
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.is_symlink() and not p.exists()] == []
    assert link.is_symlink() and someone_elses.read_text() == "mine"


def test_any_command_removes_private_copies_and_cache_temps_of_killed_runs(tmp_path, monkeypatch):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() reads $TMPDIR again
    cache = tmp_path / "cache"
    (cache / "onnx").mkdir(parents=True)
    (cache / "models").mkdir(parents=True)
    monkeypatch.setenv("PAPERLIKE_CACHE_DIR", str(cache))
    dead = _dead_pid()
    stale = [
        _plant(tmp / f"paperlike-zotero-{dead}-abcd1234", folder=True),
        _plant(tmp / f"paperlike-upload-{dead}-abcd_234", folder=True),
        _plant(tmp / "paperlike-zotero-x1y2z3w4", folder=True, when=time.time() - 25 * 3600),  # an older paperlike's
        _plant(cache / "onnx" / ".paperlike-tmp-all-MiniLM-L6-v2-0123456789abcdef.onnx.r2d2c3p0"),  # a 90 MB export
        _plant(cache / "models" / ".paperlike-tmp-model.k9x_2abc", folder=True),  # mpnet's parts joined: 1.3 GB
    ]
    kept = [
        _plant(tmp / f"paperlike-zotero-{os.getpid()}-abcd1234", folder=True),  # its process is alive
        _plant(tmp / f"paperlike-zotero-{dead}-abcd1234x", folder=True),  # not tempfile's tail
        _plant(tmp / "paperlike-zotero-x1y2z3w5", folder=True),  # no pid and under a day old
        _plant(tmp / f"paperlike-zoterox-{dead}-abcd1234", folder=True),
        _plant(tmp / f"paperlike-zotero-{dead}-abcd9999"),  # a file, not one of paperlike's folders
        _plant(tmp / f"paperlike-zotero-{dead}-abcd5555", folder=True, when=time.time()),
        _plant(tmp / "zotero-copy", folder=True),
        _plant(cache / "onnx" / ".paperlike-tmp-all-MiniLM-L6-v2-0123456789abcdef.onnx.r2d2c3p1", when=time.time()),
        _plant(cache / "onnx" / "all-MiniLM-L6-v2-0123456789abcdef.onnx"),
        _plant(cache / "models" / ".paperlike-tmp-model.k9x_2abd", folder=True, when=time.time()),  # being joined now
        _plant(cache / "models" / "all-mpnet-base-v2-78c0197b", folder=True),  # the assembled model
    ]
    result = CliRunner().invoke(cli, ["papers", "--index-dir", str(tmp_path / "no-index")])
    assert result.exit_code == 2  # no index there: the clean-up ran all the same
    assert [p.name for p in stale if p.exists()] == []
    assert [p.name for p in kept if not p.exists()] == []


def test_the_library_functions_leave_missing_and_unlistable_folders_alone(tmp_path):
    assert remove_stale(tmp_path / "nowhere") == []
    assert remove_stale_private(tmp_path / "nowhere") == []


# A build whose every batch takes a while (an embedder slowed down), so a signal arrives mid-build.
_SLOW_BUILD = textwrap.dedent(
    """
    import sys, time
    from paperlike.embedding.hashing import HashingEmbedder
    embed = HashingEmbedder.embed_batch
    HashingEmbedder.embed_batch = lambda self, texts: (time.sleep(0.2), embed(self, texts))[1]
    from paperlike.cli import main
    sys.argv = ["paperlike", "index", "build", "--corpus", sys.argv[1], "--index-dir", sys.argv[2], "--model", "hashing"]
    main()
    """
)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_build_stopped_by_a_signal_leaves_no_temp_files(tmp_path, signum, code):
    corpus = tmp_path / "papers.jsonl"
    with corpus.open("w") as fh:
        for i in range(5000):
            fh.write(json.dumps({"id": f"p{i}", "title": f"Paper number {i}", "abstract": f"About topic {i % 97}."}) + "\n")
    idx = tmp_path / "idx"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_BUILD, str(corpus), str(idx)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + GENEROUS
        while not list(idx.glob(".paperlike-checkpoints/*/*")):  # embedding, checkpoints being written
            assert proc.poll() is None and time.monotonic() < deadline, "the build never got to embedding"
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=GENEROUS)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] == f"Stopped ({signal.Signals(signum).name})."
    assert [p for p in idx.rglob("*") if p.name.startswith(".paperlike-tmp-")] == []
    assert list(tmp.iterdir()) == []


# -- a stop at the very moment a temp file is made ------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_stop_right_as_the_temp_is_made_leaves_nothing(tmp_path, monkeypatch, kind):
    """The temp is named before it exists, so a Ctrl-C that lands between its creation and the
    code that would clean it up (a race a loaded machine hit in the signal test above) still
    removes it."""
    import paperlike.storage.files as files

    real_open, real_mkdir = os.open, os.mkdir

    def made_then_stopped(real):
        def make(path, *args):
            result = real(path, *args)
            if isinstance(result, int):
                os.close(result)
            raise KeyboardInterrupt

        return make

    if kind == "file":
        monkeypatch.setattr(files.os, "open", made_then_stopped(real_open))
        with pytest.raises(KeyboardInterrupt):
            files.atomic_write_bytes(tmp_path / "papers.jsonl", b"x")
    else:
        monkeypatch.setattr(files.os, "mkdir", made_then_stopped(real_mkdir))
        with pytest.raises(KeyboardInterrupt):
            files.atomic_write_dir(tmp_path / "lexical-x", lambda tmp: None)
    assert list(tmp_path.iterdir()) == []


def test_a_temp_name_that_exists_already_is_never_removed(tmp_path, monkeypatch):
    import paperlike.storage.files as files

    monkeypatch.setattr(files.secrets, "token_hex", lambda n: "abcd1234")
    theirs = tmp_path / ".paperlike-tmp-papers.jsonl.abcd1234"
    theirs.write_bytes(b"not ours")
    with pytest.raises(FileExistsError, match="exists already; run this again"):
        files.atomic_write_bytes(tmp_path / "papers.jsonl", b"x")
    assert theirs.read_bytes() == b"not ours" and not (tmp_path / "papers.jsonl").exists()
