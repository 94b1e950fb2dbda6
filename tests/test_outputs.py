"""Files the user names with -o / --out: links written through, devices and FIFOs written to
(never replaced by a regular file), '-' is stdout, regular files replaced atomically."""

from __future__ import annotations

import os
import stat
import threading

from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.storage.files import write_output


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "real.bib"
    target.write_text("old")
    link = tmp_path / "link.bib"
    link.symlink_to(target)
    assert write_output(link, b"new") == target
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_fifo_is_written_to_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    write_output(fifo, b"through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_device_is_written_to_not_replaced():
    before = os.stat("/dev/null")
    write_output("/dev/null", b"nothing")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_regular_file_is_replaced_and_a_directory_refused(tmp_path):
    path = tmp_path / "out.bib"
    path.write_text("old")
    write_output(path, b"new")
    assert path.read_bytes() == b"new" and not path.is_symlink()
    try:
        write_output(tmp_path, b"x")
    except IsADirectoryError:
        pass
    else:
        raise AssertionError("a directory was written")


def test_export_and_map_through_the_cli(hash_index_dir, hash_index_copy, tmp_path):  # map saves themes: a copy
    target = tmp_path / "papers.bib"
    target.write_text("")
    link = tmp_path / "link.bib"
    link.symlink_to(target)
    result = run("export", "--format", "bibtex", "-o", link, "--index-dir", hash_index_dir)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and target.read_text().startswith("@")
    assert run("export", "--format", "jsonl", "-o", "/dev/null", "--index-dir", hash_index_dir).exit_code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    page = run("map", "--out", "-", "-n", "3", "--index-dir", hash_index_copy)
    assert page.exit_code == 0, page.output
    assert page.stdout.lstrip().lower().startswith("<!doctype html>")
