"""Every `paperlike ...` line in the README's code blocks runs, in README order, and exits 0.

The README's outputs are made by cog from real commands (`cog --check` in CI); these are the
other examples, the ones shown without output. They run in-process on a copy of the bundled
papers indexed with the hashing model, in a folder that holds the files they name (a user's
`today.txt`, `my_papers.bib`...), so state carries over as it would for a reader trying them
one after another (an `add` before a `remove` of what it added); `--online` examples ask a local
server of recorded answers (tests/online_support.py), never the internet. `serve` and the `model`
commands, which need a live server or the real model, are checked for their options only
(`--help` appended); tests/test_serve_cli.py and tests/test_model*.py run them for real.
"""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from click.testing import CliRunner

from conftest import ROOT
from paperlike.cli import cli

FIX = ROOT / "tests" / "fixtures"

# The files the examples name, as a user would have them.
_DAILY = "Daily Papers\n\nDistilling small students from large teachers\n\nWe distil a large model into a small one.\n\n" + (
    "Grokking in modular arithmetic\n\nA network generalises long after it fits the training data.\n"
)
_NEW_BIB = """@inproceedings{kdd19,
  title = {Rehearsal-Free Continual Learning for Recommender Systems},
  abstract = {We learn new tasks without forgetting old ones and without storing old data.},
  doi = {10.1145/3292500.3330701},
  year = {2019}
}
"""


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    # Blocks between cog markers are run by cog itself; skip them.
    text = re.sub(r"<!-- \[\[\[cog.*?<!-- \[\[\[end\]\]\] -->", "", text, flags=re.S)
    lines = []
    for body in re.findall(r"```\w*\n(.*?)```", text, flags=re.S):
        for line in body.splitlines():
            line = line.strip()
            if line.startswith("paperlike "):
                lines.append(line)
    return lines


def _args(line: str) -> tuple[list[str], str | None]:
    """The arguments of one README line (its comment and ``> file`` dropped), and the file."""
    words = shlex.split(line, comments=True)[1:]
    out = None
    if ">" in words:
        at = words.index(">")
        words, out = words[:at], words[at + 1]
    if words[0] in ("serve", "model"):
        words.append("--help")
    return words, out


@pytest.fixture
def online(monkeypatch):
    """The arXiv API and Crossref the --online examples ask: a local server of recorded answers."""
    from online_support import fake_services, point_at

    with fake_services() as (_, base):
        point_at(monkeypatch, base)
        yield base


@pytest.mark.slow
def test_every_readme_example_runs(tmp_path, monkeypatch, hash_index_dir, online):
    commands = readme_commands()
    assert len(commands) >= 40
    default = tmp_path / "default-index"
    shutil.copytree(hash_index_dir, default)
    for name in ("my-library", "my-index"):
        shutil.copytree(hash_index_dir, tmp_path / name)
    (tmp_path / "today.txt").write_text(_DAILY)
    (tmp_path / "arxiv_listing.xml").write_bytes((FIX / "arxiv_search.xml").read_bytes())
    (tmp_path / "arxiv_search.xml").write_bytes((FIX / "arxiv_search.xml").read_bytes())
    (tmp_path / "colleague.bib").write_bytes((FIX / "zotero.bib").read_bytes())
    (tmp_path / "my_papers.bib").write_bytes((FIX / "zotero.bib").read_bytes())
    (tmp_path / "refs.txt").write_bytes((FIX / "zotero.bib").read_bytes())
    (tmp_path / "new_papers.bib").write_text(_NEW_BIB)
    (tmp_path / "today_ids.txt").write_text("2401.00017\n10.1145/3580305.3599271\nautodistil\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(default))
    monkeypatch.setenv("PAPERLIKE_MODEL", "hashing")
    failed = []
    for line in commands:
        args, out = _args(line)
        result = CliRunner().invoke(cli, args)
        if result.exit_code != 0:
            failed.append(f"{line}\n  -> exit {result.exit_code}: {result.output.strip()[-300:]}")
        elif out:
            (tmp_path / out).write_text(result.stdout)
    assert failed == [], "\n".join(failed)
