"""Both notebooks run top to bottom, headless: on the bundled corpus with the real model, and on
a library of your own (PAPERLIKE_INDEX_DIR), with `jupyter nbconvert` as the notebook extra installs it.

They are stored with outputs stripped (checked here too), so git diffs stay readable.
"""

from __future__ import annotations

import json
import sys

import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_both_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["papers_like_this.ipynb", "theme_browser.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


@pytest.fixture(scope="module")
def minilm_index(tmp_path_factory):
    from paperlike.embedding import MiniLMEmbedder
    from paperlike.readers import bundled_corpus
    from paperlike.service.build import build_index

    directory = tmp_path_factory.mktemp("notebook-index")
    build_index(bundled_corpus(), MiniLMEmbedder(), directory)
    return directory


def _outputs(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


@pytest.mark.model
@pytest.mark.parametrize(
    "name, expected",
    [
        ("papers_like_this.ipynb", ["AutoDistil", "shares:", "llm-pruner"]),
        (
            "theme_browser.ipynb",
            [
                "distillation",
                "continual learning",
                "task-agnostic training",
                "projection: t-SNE",
                "scatter",
                "<svg",
                "the automatic themes",
            ],
        ),
    ],
)
def test_notebook_runs_headless(name, expected, minilm_index, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(minilm_index))
    monkeypatch.delenv("PAPERLIKE_MODEL")
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    # Raises CellExecutionError (with the failing cell) if any cell fails.
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = _outputs(nb)
    for word in expected:
        assert word in text, f"{name}: '{word}' not in the outputs"
    assert "Traceback" not in text


@pytest.fixture(scope="module")
def own_index(tmp_path_factory):
    """A library that is not the bundled papers: 3 BibTeX records, hashing embedder (a small
    index is the hard case: fewer papers than the notebooks ask for)."""
    from paperlike.embedding import HashingEmbedder
    from paperlike.readers import read_corpus
    from paperlike.service.build import build_index

    directory = tmp_path_factory.mktemp("own-index")
    build_index(read_corpus(ROOT / "tests" / "fixtures" / "zotero.bib"), HashingEmbedder(), directory)
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("name", ["papers_like_this.ipynb", "theme_browser.ipynb"])
def test_notebooks_run_on_a_library_that_is_not_the_bundled_one(name, own_index, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(own_index))
    monkeypatch.delenv("PAPERLIKE_MODEL", raising=False)
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = _outputs(nb)
    assert "Traceback" not in text and "AutoDistil" not in text
    assert "3 papers" in text if name == "papers_like_this.ipynb" else "the automatic themes" in text


@pytest.mark.slow
def test_the_notebook_extra_runs_them_with_jupyter_nbconvert(own_index, tmp_path):
    import os
    import shutil
    import subprocess

    jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or pytest.skip("jupyter not installed")
    env = dict(os.environ, PAPERLIKE_INDEX_DIR=str(own_index))
    env.pop("PAPERLIKE_MODEL", None)
    done = subprocess.run(
        [
            jupyter,
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--output-dir",
            str(tmp_path),
            str(ROOT / "notebooks" / "papers_like_this.ipynb"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "papers_like_this.ipynb").exists()
