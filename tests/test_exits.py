"""Clean exits and a safe terminal: a closed pipe, a closed stdout, a full disk; control
characters from papers, files and queries; wrong types through the Python API; notes that do
not collide with the progress bar; settings read from one place."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import PaperlikeError, QueryError
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index

ESC = "\x1b"
HOSTILE = [
    Paper(
        f"evil{ESC}[31m",
        f"Knowledge {ESC}]0;pwned\x07 distillation \u202eeman\x9b2J title",
        "A teacher distils knowledge into a student model.",
        (f"Mallory{ESC}[2J",),
        2024,
        f"https://example.org/{ESC}[5m",
    ),
    Paper("plain", "Knowledge distillation for students", "Teacher and student networks share knowledge."),
    Paper("other", "Graph mining at scale", "Graphs and networks."),
]


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def _env(index_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(index_dir),
        "PYTHONPATH": os.pathsep.join(sys.path),
        "PAPERLIKE_INDEX_DIR": str(index_dir),
        "PAPERLIKE_MODEL": "hashing",
    }


def _without_reading(stderr: str) -> str:
    """stderr less the note that says how a query was read (``similar`` always gives it)."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith("note: query read as: "))


def _paperlike(args, index_dir: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "paperlike", *map(str, args)], env=_env(index_dir), **kwargs)


# -- exits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["papers"],
        ["similar", "autodistil", "-k", 70, "--why"],
        ["similar", "autodistil", "--json"],
        ["--help"],
        ["similar", "--help"],
    ],
)
def test_a_reader_that_goes_away_ends_quietly_with_141(hash_index_dir, args):
    """`paperlike ... | head -1`: the pipe is closed before paperlike writes, so it always sees EPIPE."""
    proc = _paperlike(args, hash_index_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert _without_reading(err) == ""


def test_head_minus_one_through_a_shell(hash_index_dir):
    out = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m paperlike similar autodistil -k 70 --why | head -1; echo "rc=${{PIPESTATUS[0]}}"'],
        env=_env(hash_index_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    first, rc = out.stdout.splitlines()
    assert first.startswith("Papers like: AutoDistil") and rc in ("rc=0", "rc=141")
    assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr


@pytest.mark.parametrize("args", [["papers"], ["similar", "autodistil", "--json"], ["--help"]])
def test_a_closed_stdout_is_an_error(hash_index_dir, args):
    """`paperlike papers >&-`: the process starts with no fd 1 at all."""
    code = (
        f'import subprocess, sys\np = subprocess.run([sys.executable, "-m", "paperlike", *{[str(a) for a in args]!r}], '
        "stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, pass_fds=(), close_fds=True, "
        "preexec_fn=lambda: __import__('os').close(1))\nprint(p.returncode)\nprint(p.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=_env(hash_index_dir), capture_output=True, text=True, timeout=120)
    rc, err = out.stdout.split("\n", 1)
    assert rc == "2"
    assert (
        _without_reading(err).strip()
        == "Error: cannot write the output: standard output is closed; redirect it, e.g. > out.txt or > /dev/null"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_on_stdout_is_an_error(hash_index_dir):
    with open("/dev/full", "w") as full:
        proc = _paperlike(["papers"], hash_index_dir, stdout=full, stderr=subprocess.PIPE)
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 2
    assert err.strip() == "Error: cannot write the output (No space left on device); check the disk and where the output goes"


def test_a_bug_still_exits_1_with_one_line(monkeypatch, hash_index_dir):
    import paperlike.service.recommender as recommender

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(recommender.Recommender, "answer", broken)  # what "similar" calls
    result = run("similar", "autodistil", "--index-dir", hash_index_dir)
    assert result.exit_code == 1 and "unexpected ZeroDivisionError: boom; this is a bug" in result.stderr
    monkeypatch.setenv("PAPERLIKE_DEBUG", "1")
    assert isinstance(run("similar", "autodistil", "--index-dir", hash_index_dir).exception, ZeroDivisionError)


# -- the terminal --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    """An index someone sent: its records hold raw control characters (readers would clean them)."""
    directory = tmp_path_factory.mktemp("hostile-index")
    build_index(Corpus(list(HOSTILE), "hostile.jsonl"), HashingEmbedder(), directory)
    return directory


def _no_raw_controls(text: str) -> None:
    raw = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E]
    assert raw == [], repr(text)


@pytest.mark.parametrize(
    "args",
    [
        ["papers"],
        ["similar", "plain", "-k", 3, "--why"],
        ["similar", "plain", "-k", 3, "--diverse"],
        ["similar", "knowledge distillation", "--text", "-k", 3],
        ["similar", "plain", "-k", 3, "--json"],
        ["papers", "--json"],
        ["dupes", "--threshold", "-1"],
        ["similar", f"nothing{ESC}[31m", "--paper"],
        ["similar", f"no{ESC}]0;x\x07 such \u202e paper", "several", "words"],
        ["similar", f"https://arxiv.org/abs/2401.0000{ESC}1"],
        [f"nonsense{ESC}[1m"],
        ["similar", "plain", f"--colour{ESC}[1m"],
    ],
)
def test_text_from_papers_and_queries_reaches_the_terminal_escaped(hostile_index, args):
    result = run(*args, "--index-dir", hostile_index) if args[0] in ("papers", "similar", "dupes") else run(*args)
    _no_raw_controls(result.stdout)
    _no_raw_controls(result.stderr)
    assert result.exit_code in (0, 2), result.output


def test_escaped_text_is_still_readable(hostile_index):
    table = run("similar", "plain", "-k", 3, "--index-dir", hostile_index).stdout
    assert "evil\\x1b[31m" in table and "\\u202eeman\\x9b2J" in table and "Mallory\\x1b[2J" in table
    data = json.loads(run("similar", "plain", "-k", 3, "--json", "--index-dir", hostile_index).stdout)
    assert {d["id"] for d in data} >= {f"evil{ESC}[31m"}  # JSON keeps the exact text, escaped
    error = run("similar", f"nothing{ESC}[31m", "--paper", "--index-dir", hostile_index).stderr
    assert "nothing\\x1b[31m" in error or "nothing [31m" in error


def test_notes_are_escaped_and_go_above_a_running_progress_bar(monkeypatch):
    from tqdm import tqdm

    from paperlike.cli.app import setup_notes
    from paperlike.cli.output import note

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    setup_notes()
    with tqdm(total=10, file=sys.stderr, desc="Embedding") as bar:
        bar.update(3)
        note(f"a note about {ESC}[31mred{ESC}[0m text")
        bar.update(7)
    out = err.getvalue()
    _no_raw_controls(out.replace("\r", ""))
    # The note sits on a line of its own: the bar was cleared (\r) before it, not continued.
    before = out[: out.index("note: ")]
    assert before.endswith("\r") or before.endswith("\n") or before == ""
    assert "note: a note about \\x1b[31mred\\x1b[0m text\n" in out
    logging.getLogger("paperlike").handlers = []


# -- the Python API ------------------------------------------------------------------------------


def test_wrong_types_raise_clear_errors(hash_index_dir):
    with pytest.raises(TypeError, match="index_dir is a folder path"):
        Recommender.load(123)
    rec = Recommender.load(hash_index_dir)
    with pytest.raises(TypeError, match=r"not the string 'autodistil'; write \['autodistil'\]"):
        rec.like("autodistil")
    with pytest.raises(TypeError, match="unlike is a list"):
        rec.like(["autodistil"], unlike="tame")
    with pytest.raises(TypeError, match="holds int"):
        rec.like(["autodistil", 3])
    with pytest.raises(TypeError, match="a query is a string"):
        rec.similar(1503.02531)
    with pytest.raises(TypeError, match="a query is a string"):
        rec.recommend(None)
    with pytest.raises(TypeError, match="theme is a theme id"):
        rec.similar("autodistil", theme=3)
    with pytest.raises(TypeError, match="diverse is True or False"):
        rec.similar("autodistil", diverse="yes")
    for bad_k in (0, -1, 2.5, "10", True, None):
        with pytest.raises(QueryError, match="k must be a whole number"):
            rec.similar("autodistil", k=bad_k)
    with pytest.raises(QueryError, match="unknown ranking mode"):
        rec.similar("autodistil", mode="magic")
    with pytest.raises(TypeError, match="queries is a list"):
        rec.ask("autodistil")
    assert issubclass(QueryError, PaperlikeError)


def test_like_with_one_paper_in_a_list_is_similar(hash_index_dir):
    rec = Recommender.load(hash_index_dir)
    assert rec.like(["autodistil"], k=5) == rec.similar("autodistil", k=5)
    assert rec.like(("autodistil",), k=5) == rec.similar("autodistil", k=5)


# -- records out ---------------------------------------------------------------------------------


def test_similar_format_uses_the_export_of_the_result_papers_in_rank_order(hash_index_dir):
    from paperlike.export import export_papers

    ids = [d["id"] for d in json.loads(run("similar", "autodistil", "-k", 4, "--json", "--index-dir", hash_index_dir).stdout)]
    rec = Recommender.load(hash_index_dir)
    for fmt in ("csv", "jsonl", "bibtex"):
        out = run("similar", "autodistil", "-k", 4, "--format", fmt, "--index-dir", hash_index_dir).stdout
        assert out == export_papers(rec.records(ids), fmt)
    papers = run("papers", "--search", "distil", "--format", "jsonl", "--index-dir", hash_index_dir).stdout
    assert [json.loads(line)["id"] for line in papers.splitlines()] == [pid for pid, _ in rec.list_papers("distil")]


def test_export_to_dash_is_stdout(hash_index_dir, tmp_path):
    to_stdout = run("export", "--format", "jsonl", "--ids", "autodistil,tame", "-o", "-", "--index-dir", hash_index_dir)
    assert [json.loads(line)["id"] for line in to_stdout.stdout.splitlines()] == ["autodistil", "tame"]
    assert not (Path.cwd() / "-").exists()


# -- settings ------------------------------------------------------------------------------------


def test_default_index_is_the_user_data_dir_however_paperlike_was_installed(monkeypatch, tmp_path):
    from paperlike.settings import default_index_dir

    monkeypatch.delenv("PAPERLIKE_INDEX_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_index_dir() == (tmp_path / "data" / "paperlike" / "index", "user data dir")
    assert not str(default_index_dir()[0]).startswith(str(ROOT))
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(tmp_path / "mine"))
    assert default_index_dir() == ((tmp_path / "mine").resolve(), "$PAPERLIKE_INDEX_DIR")


def test_index_dir_from_the_environment_is_shown_in_help_and_reported(hash_index_dir, monkeypatch):
    assert "env var: PAPERLIKE_INDEX_DIR" in " ".join(run("similar", "--help").stdout.split())
    assert "env var: PAPERLIKE_MODEL" in " ".join(run("index", "build", "--help").stdout.split())
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(hash_index_dir))
    info = json.loads(run("info", "--json").stdout)
    assert info["index_dir_from"] == "$PAPERLIKE_INDEX_DIR" and info["papers"] == 75


def test_backend_and_model_come_from_settings(monkeypatch):
    from paperlike.embedding import MiniLMEmbedder, get_embedder
    from paperlike.errors import ModelError

    monkeypatch.setenv("PAPERLIKE_BACKEND", "Torch ")
    assert MiniLMEmbedder().backend == "torch"
    monkeypatch.setenv("PAPERLIKE_BACKEND", "tensorflow")
    with pytest.raises(ModelError, match="unknown backend 'tensorflow'"):
        MiniLMEmbedder()
    monkeypatch.setenv("PAPERLIKE_MODEL", "hashing")
    assert get_embedder().name == "hashing"
