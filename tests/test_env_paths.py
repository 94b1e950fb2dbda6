"""Folder paths from the environment and inside the index (issue 23 §4): a symlink loop or an
unknown ``~user`` is a one-line error with exit 2, never a traceback or an "unexpected" exit 1;
every folder the index keeps files in stays inside the index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import tree_snapshot
from paperlike.cli import cli
from paperlike.errors import IndexCorruptError, PathError
from paperlike.settings import Settings
from paperlike.storage.themes import load_set_names, save_set_name

VARIABLES = ("PAPERLIKE_INDEX_DIR", "PAPERLIKE_CACHE_DIR")
COMMANDS = (["info"], ["similar", "distillation"], ["papers"], ["index", "build"])


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def loop(tmp_path) -> Path:
    path = tmp_path / "loop"
    os.symlink(path, path)
    return path


@pytest.mark.parametrize("variable", VARIABLES)
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_symlink_loop_in_the_environment_is_a_one_line_error(loop, monkeypatch, variable, args):
    monkeypatch.setenv(variable, str(loop))
    line = _one_line_error(CliRunner().invoke(cli, args))
    assert (
        line == f"Error: ${variable} '{loop}' cannot be used (a symlink loop); give a folder path that exists or can be created"
    )


@pytest.mark.parametrize("variable", VARIABLES)
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_an_unknown_user_in_the_environment_is_a_one_line_error(monkeypatch, variable, args):
    monkeypatch.setenv(variable, "~nosuchuser-paperlike/x")
    line = _one_line_error(CliRunner().invoke(cli, args))
    assert "'~nosuchuser-paperlike/x' cannot be used (its ~ names no user's home folder)" in line


def test_settings_say_which_variable(loop):
    with pytest.raises(PathError, match=r"\$PAPERLIKE_CACHE_DIR .*\(a symlink loop\)"):
        Settings.from_env({"PAPERLIKE_CACHE_DIR": str(loop)})
    assert Settings.from_env({"PAPERLIKE_INDEX_DIR": "~/x"}).index_dir == Path("~/x").expanduser().resolve()


@pytest.mark.parametrize(
    "args",
    [["index", "build"], ["info"], ["similar", "x"], ["papers"], ["themes"], ["add", "FILE"], ["remove", "x"]],
    ids=" ".join,
)
@pytest.mark.parametrize("inner", ["", "sub/dir"])
def test_index_dir_option_in_a_symlink_loop_is_a_one_line_error(loop, tmp_path, args, inner):
    papers = tmp_path / "papers.csv"
    papers.write_text("title,abstract\nA paper,Its abstract.\n")
    target = loop / inner if inner else loop
    args = [str(papers) if a == "FILE" else a for a in args]
    line = _one_line_error(CliRunner().invoke(cli, [*args, "--index-dir", str(target)]))
    assert line.startswith(f"Error: index folder '{target}' cannot be used (a symlink loop)"), line


@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "users-folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    return folder


@pytest.mark.parametrize("args", [["themes", "--save-as", "mine"], ["themes"], ["map", "--out", "MAP"]], ids=" ".join)
def test_a_themes_folder_linked_out_of_the_index_is_refused(hash_index_copy, outside, tmp_path, args):
    os.symlink(outside, hash_index_copy / "themes")
    before = tree_snapshot(outside)
    args = [str(tmp_path / "map.html") if a == "MAP" else a for a in args]
    line = _one_line_error(CliRunner().invoke(cli, [*args, "--index-dir", str(hash_index_copy)]))
    assert "themes leads outside the index folder (a link?)" in line
    assert tree_snapshot(outside) == before


def test_the_theme_names_lock_may_not_be_a_link(hash_index_copy, outside):
    (hash_index_copy / "themes").mkdir(exist_ok=True)
    os.symlink(outside / "notes.txt", hash_index_copy / "themes" / ".names.lock")
    with pytest.raises(IndexCorruptError, match="is a link"):
        save_set_name(hash_index_copy, "mine", {"n": 3, "seeds": [], "margin": 0.05})
    assert (outside / "notes.txt").read_text() == "mine"  # FileLock would have truncated it
    assert load_set_names(hash_index_copy) == {}
