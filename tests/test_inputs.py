"""Inputs that are not files, and files that are too big (issue #17 §7)."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from paperlike.cli import cli
from paperlike.errors import CorpusError
from paperlike.readers import MAX_CORPUS_BYTES, read_corpus
from paperlike.readers.base import read_bytes
from paperlike.records import Paper
from paperlike.text import MAX_TEXT_CHARS, clip_text


def _read_in_thread(path: Path, seconds: float = 20) -> BaseException | object:
    """read_corpus(path) on a thread; if it blocks (a FIFO), unblock it and report the hang."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = read_corpus(path)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["value"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():  # opening a FIFO for writing releases a reader blocked in open()
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(5)
        pytest.fail(f"reading {path} hung")
    return outcome["value"]


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "papers.jsonl"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_without_waiting_for_a_writer(fifo):
    found = _read_in_thread(fifo)
    assert isinstance(found, CorpusError)
    assert str(found) == f"corpus path is a named pipe (FIFO): {fifo}; save the papers to a regular file and give that"


def test_a_symlink_to_a_fifo_is_refused(fifo, tmp_path):
    link = tmp_path / "link.jsonl"
    link.symlink_to(fifo)
    assert "named pipe (FIFO)" in str(_read_in_thread(link))


def test_a_path_that_becomes_a_fifo_after_the_check_still_does_not_hang(fifo, monkeypatch):
    real_stat = os.stat
    regular = os.stat_result((stat.S_IFREG | 0o644, 0, 0, 1, 0, 0, 10, 0, 0, 0))

    def stat_as_before_the_swap(path, *args, **kwargs):
        return regular if str(path) == str(fifo) else real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat_as_before_the_swap)
    found = _read_in_thread(fifo)
    assert isinstance(found, CorpusError) and "named pipe (FIFO)" in str(found)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused_before_reading(device):
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    with pytest.raises(CorpusError, match=f"corpus path is a device: {device}; save the papers to a regular file"):
        read_corpus(device)


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(CorpusError, match="corpus path is not a regular file"):
            read_corpus(path)
    finally:
        server.close()


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(CorpusError, match="corpus path is a directory"):
        read_corpus(tmp_path)


def test_the_cli_refuses_a_fifo_for_build_and_add(fifo, hash_index_copy, tmp_path):
    runner = CliRunner()
    for args in (
        ["index", "build", "--corpus", str(fifo), "--index-dir", str(tmp_path / "i")],
        ["add", str(fifo), "--index-dir", str(hash_index_copy)],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and "named pipe (FIFO)" in result.stderr
    assert not (tmp_path / "i").exists()


def test_files_over_the_limit_are_refused_up_front(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"x" * 101)
    with pytest.raises(CorpusError, match=r"big.jsonl: the file is over 100 bytes, the most a corpus file may hold"):
        read_bytes(path, max_bytes=100)
    path.write_bytes(b"x" * 100)
    assert len(read_bytes(path, max_bytes=100)) == 100
    # A sparse file just over the real limit: refused from its size, never read into memory
    # (a format read whole: JSON lines are read line by line, see the next test).
    sparse = tmp_path / "sparse.bib"
    with open(sparse, "wb") as handle:
        handle.truncate(MAX_CORPUS_BYTES + 1)
    tracemalloc.start()
    try:
        with pytest.raises(CorpusError, match="over 1,073,741,824 bytes"):
            read_corpus(sparse)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # refused from its size: its gigabyte was never read


def test_json_lines_over_the_file_limit_are_read_a_line_at_a_time(tmp_path, monkeypatch):
    from paperlike.readers import lines

    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 1 << 20)
    # Over the limit of a file read whole: one line of a gigabyte of NUL bytes, then a paper.
    sparse = tmp_path / "sparse.jsonl"
    with open(sparse, "wb") as handle:
        handle.truncate(MAX_CORPUS_BYTES + 1)
        handle.seek(0, os.SEEK_END)
        handle.write(b'\n{"title": "After the long line", "abstract": "Still read."}\n')
    tracemalloc.start()
    try:
        corpus = read_corpus(sparse)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [p.title for p in corpus.papers] == ["After the long line"]
    assert corpus.skipped == 1 and "sparse.jsonl:1: a line of over 1,048,576 bytes" in corpus.notes[0]
    assert peak < 16 << 20  # a megabyte-long piece at a time, never the gigabyte
    small = tmp_path / "small.jsonl"
    with open(small, "wb") as handle:
        handle.truncate((1 << 20) + 1)
    with pytest.raises(
        CorpusError, match=r"small.jsonl:1: a line of over 1,048,576 bytes; each line must be one paper's JSON object \(--strict"
    ):
        read_corpus(small, strict=True)


def test_a_file_growing_while_it_is_read_is_still_bounded(tmp_path, monkeypatch):
    path = tmp_path / "growing.jsonl"
    path.write_bytes(b"y" * 500)
    real_fstat = os.fstat

    def fstat_before_it_grew(fd):
        found = real_fstat(fd)
        return os.stat_result((found.st_mode, 0, 0, 1, 0, 0, 10, 0, 0, 0))

    monkeypatch.setattr(os, "fstat", fstat_before_it_grew)
    with pytest.raises(CorpusError, match="over 100 bytes"):
        read_bytes(path, max_bytes=100)


# ---- one huge paper must not make every later lookup slow --------------------------------------


def test_the_text_used_for_search_is_clipped_before_latex_is_decoded(monkeypatch):
    from paperlike.records import papers

    seen: list[int] = []
    real = papers.plain_text
    monkeypatch.setattr(papers, "plain_text", lambda text: seen.append(len(text)) or real(text))
    huge = Paper("big", "A title", r"{\em word} " * 500_000)  # 5.5 MB of LaTeX
    assert len(huge.text) <= MAX_TEXT_CHARS
    assert huge.text.startswith("A title. word word")
    assert max(seen) <= MAX_TEXT_CHARS
    short = Paper("s", "T", "Short abstract.")
    assert short.text == "T. Short abstract."


def test_clip_text_cuts_at_a_space():
    assert clip_text("abc def ghi", 9) == "abc def"
    assert clip_text("x" * 50, 10) == "x" * 10
    assert clip_text("short", 10) == "short"


def test_a_huge_abstract_is_noted_once_and_answers(tmp_path):
    path = write_jsonl(
        tmp_path / "big.jsonl",
        [
            {"title": "A very long paper", "abstract": "gradient descent converges slowly " * 100_000},
            {"title": "Another very long paper", "abstract": "stochastic gradient descent " * 100_000},
            {"title": "A short paper", "abstract": "Gradient descent with momentum."},
        ],
    )
    corpus = read_corpus(path)
    notes = [n for n in corpus.notes if "characters" in n]
    assert notes == [
        f"{path}: 2 paper(s) have a title and abstract over 20,000 characters; "
        f"search and explanations use the first 20,000 (first at {path}:1)"
    ]
    index_dir = tmp_path / "i"
    built = CliRunner().invoke(
        cli, ["index", "build", "--corpus", str(path), "--index-dir", str(index_dir), "--model", "hashing"]
    )
    assert built.exit_code == 0 and "search and explanations use the first 20,000" in built.stderr
    answer = CliRunner().invoke(
        cli, ["similar", "a-very-long-paper", "-k", "2", "--why", "--json", "--index-dir", str(index_dir)]
    )
    assert answer.exit_code == 0, answer.output
    assert {r["id"] for r in json.loads(answer.stdout)} == {"a-short-paper", "another-very-long-paper"}
