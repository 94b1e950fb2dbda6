"""Every example in every command's ``--help`` runs (issue 24, item 4: ``similar 1503.02531``,
the doi.org example and the ``--not`` example failed on the default index the help describes).

Each command's "Example usage:" block runs, line by line in order, in the state the examples
assume: the default index of the bundled papers (hashing embedder, as every test), a saved theme
set ``mine`` (made as the ``themes`` help shows), ``./my-index`` (a small library with DOIs and
arXiv ids, as the README builds it), ``./my-library`` (the README's rank library) and the files
the examples name, copied from tests/fixtures.
Only examples that need what no test machine has are not run (:data:`NOT_RUN`, with why).
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT
from paperlike.cli import cli
from paperlike.readers import bundled_corpus

FIXTURES = ROOT / "tests" / "fixtures"

# (text in the example, why it is not run here)
NOT_RUN = [
    ("--engine ray", "needs a Ray cluster at the address it names (tests/test_ray.py starts a local one)"),
    ("--device cuda", "needs an NVIDIA GPU"),
    ("paperlike serve", "runs a server until stopped (tests/test_serve_cli.py starts one)"),
    ("paperlike model export-onnx", "exports the real MiniLM (tests marked model do)"),
]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def _examples(command: click.Command) -> list[str]:
    text = command.help or ""
    if "Example usage:" not in text:
        return []
    return [line.strip() for line in text.split("Example usage:", 1)[1].splitlines() if line.strip().startswith("paperlike ")]


BLOCKS = {" ".join(path): _examples(command) for path, command in _commands(cli)}


def test_every_command_has_examples():
    assert [name for name, lines in BLOCKS.items() if not lines and name not in ("index", "model")] == []
    assert sum(map(len, BLOCKS.values())) >= 60


def _files(folder: Path) -> None:
    """The files the examples name, from the test fixtures."""
    papers = [p.to_dict() for p in bundled_corpus().papers]
    import json

    def jsonl(name: str, records: list[dict]) -> None:
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    jsonl("new_papers.jsonl", [{**papers[0], "id": "new-paper", "title": "A new paper on distillation"}])
    jsonl("arxiv_new.jsonl", papers[:3])
    jsonl("my_papers.jsonl", papers[:20])
    jsonl("arxiv_1m.jsonl", papers[:30])
    jsonl("arxiv.jsonl", papers[:10])
    for name in ("zotero.bib", "arxiv_search.xml"):
        shutil.copy(FIXTURES / name, folder / name)
    shutil.copy(FIXTURES / "zotero.bib", folder / "papers.bib")
    shutil.copy(FIXTURES / "zotero.bib", folder / "colleague.bib")
    shutil.copy(FIXTURES / "arxiv_search.xml", folder / "arxiv_listing.xml")
    shutil.copy(ROOT / "docs" / "readme" / "rank_library.bib", folder / "rank_library.bib")  # the README's library
    shutil.copy(ROOT / "src" / "paperlike" / "data" / "daily_papers_seed.txt", folder / "today.txt")
    shutil.copy(ROOT / "src" / "paperlike" / "data" / "daily_papers_seed.txt", folder / "daily.txt")
    (folder / "today_ids.txt").write_text("2401.00002\nautodistil\n10.1145/3580305.3599271\n")  # fetched with --online
    (folder / "reading_list.txt").write_text("autodistil\nLLM-Pruner: On the Structural Pruning of Large Language Models\n")
    (folder / "today.csv").write_text("Name,abstract\nA paper from a sheet,Knowledge distillation for students.\n")
    (folder / "sheet.csv").write_text("Name,Summary\nA sheet paper,Its summary.\nAnother one,Another summary.\n")


def _run(line: str) -> tuple[int, str]:
    words = shlex.split(line)
    out = None
    if ">" in words:  # a shell redirection: stdout into that file
        out = words[words.index(">") + 1]
        words = words[: words.index(">")]
    result = CliRunner().invoke(cli, words[1:])
    if out is not None:
        Path(out).write_text(result.stdout)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def state(hash_index_dir, tmp_path_factory) -> Path:
    """The state the examples assume, made once: a copy is given to each block."""
    root = tmp_path_factory.mktemp("examples")
    work, default = root / "work", root / "default-index"
    work.mkdir()
    shutil.copytree(hash_index_dir, default)
    _files(work)
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    mp.setenv("PAPERLIKE_INDEX_DIR", str(default))
    try:
        for line in (
            'paperlike themes --seed distillation --seed "robot learning" --save-as mine',
            "paperlike index build --corpus zotero.bib --index-dir ./my-index",
            "paperlike add arxiv_search.xml --index-dir ./my-index",
            "paperlike index build --corpus rank_library.bib --index-dir ./my-library",
        ):
            code, output = _run(line)
            assert code == 0, (line, output)
    finally:
        mp.undo()
    return root


@pytest.fixture(scope="module")
def online() -> Iterator[str]:
    """The arXiv API and Crossref the --online examples ask: a local server of recorded answers."""
    from online_support import fake_services

    with fake_services() as (_, base):
        yield base


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_help_examples_run(block, state, online, tmp_path, monkeypatch):
    from online_support import point_at

    point_at(monkeypatch, online)
    lines = BLOCKS[block]
    if not lines:
        pytest.skip(f"'{block}' is a group; its commands have the examples")
    shutil.copytree(state, tmp_path / "state")
    monkeypatch.chdir(tmp_path / "state" / "work")
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(tmp_path / "state" / "default-index"))
    ran = 0
    for line in lines:
        if any(part in line for part, _ in NOT_RUN):
            continue
        code, output = _run(line)
        assert code == 0, f"{line}\n{output}"
        assert "Traceback" not in output
        ran += 1
    assert ran or all(any(part in line for part, _ in NOT_RUN) for line in lines)
