"""Themes and the map on degenerate data, and themes files that were edited or damaged by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import IndexCorruptError, QueryError
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.storage.themes import load_saved_themes, load_set_names, save_set_name
from paperlike.themes import compute_themes
from paperlike.viz.projection import project_2d

pytest.importorskip("pandas")
pytest.importorskip("plotly")


def _index(tmp_path, papers, name="i"):
    directory = tmp_path / name
    build_index(Corpus(papers, "t"), HashingEmbedder(), directory)
    return directory


def _run(args, cwd):
    """The real CLI in a child process: a crash in native code shows as a signal, not a pass."""
    env = {**os.environ, "PAPERLIKE_MODEL": "hashing"}
    return subprocess.run(
        [sys.executable, "-m", "paperlike", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def _identical(count):
    # Titles differ only in punctuation, which the hashing embedder ignores: identical vectors.
    return [Paper(f"p{i}", "Same" + "!" * i, "identical text about the same thing") for i in range(count)]


@pytest.mark.parametrize("count", [2, 4, 8, 40])
def test_identical_vectors_map_themes_and_diverse_finish(tmp_path, count):
    directory = _index(tmp_path, _identical(count))
    vectors = Recommender.load(directory).index.all_vectors()
    assert (vectors == vectors[0]).all()
    for args in (
        ["map", "--out", str(tmp_path / "m.html"), "--index-dir", str(directory), "--json"],
        ["themes", "--index-dir", str(directory), "--json"],
        ["theme", "t1", "--index-dir", str(directory)],
        ["similar", "p1", "--diverse", "--index-dir", str(directory), "--json"],
    ):
        done = _run(args, tmp_path)
        assert done.returncode == 0, (args, done.returncode, done.stderr[-500:])
    summary = json.loads(_run(["map", "--out", "m.html", "--index-dir", str(directory), "--json"], tmp_path).stdout)
    assert summary["papers"] == count
    frame = Recommender.load(directory).map_2d()
    xy = frame[["x", "y"]].to_numpy()
    assert np.isfinite(xy).all() and len({tuple(p) for p in xy}) == count  # every dot can be hovered


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_one_to_five_papers(tmp_path, count):
    papers = [Paper(f"p{i}", f"Paper {i} about topic {i}", f"words on subject {i} and more") for i in range(count)]
    directory = _index(tmp_path, papers)
    out = CliRunner().invoke(cli, ["map", "--out", str(tmp_path / "m.html"), "--index-dir", str(directory)])
    themes = CliRunner().invoke(cli, ["themes", "--index-dir", str(directory)])
    diverse = CliRunner().invoke(cli, ["similar", "p0", "--diverse", "--index-dir", str(directory)])
    if count == 1:
        assert out.exit_code == 2 and themes.exit_code == 2 and "themes need at least 2" in themes.stderr
        assert diverse.exit_code == 0 and "(no results)" in diverse.stdout
    else:
        assert out.exit_code == 0, out.output
        assert themes.exit_code == 0 and themes.stdout.startswith(f"{len(load_saved_themes(directory))} themes of {count} papers")
        assert diverse.exit_code == 0 and len(diverse.stdout.splitlines()) == count + 1


def test_zero_vectors_finish(tmp_path):
    # Titles with no word give the hashing embedder nothing: zero vectors.
    papers = [Paper(f"z{i}", "!" * (i + 1), "") for i in range(4)] + [Paper("a", "alpha beta", "gamma delta")]
    directory = _index(tmp_path, papers)
    assert not np.abs(Recommender.load(directory).index.all_vectors()[:4]).any()
    for args in (["map", "--out", "m.html"], ["themes"], ["similar", "z1", "--diverse"], ["theme", "t1"]):
        done = _run([*args, "--index-dir", str(directory)], tmp_path)
        assert done.returncode == 0, (args, done.stderr[-400:])


def test_vectors_that_are_not_numbers_are_a_clean_error():
    x = np.eye(6, dtype=np.float32)
    x[2, 0] = np.nan
    with pytest.raises(QueryError, match="paper 'c' has a damaged vector"):
        compute_themes(x, list("abcdef"), list("abcdef"), lambda pos: ["text"] * len(pos))
    with pytest.raises(QueryError, match="not numbers"):
        project_2d(x)


def test_a_theme_of_one_paper(tmp_path):
    papers = [Paper(f"a{i}", f"protein folding study {i}", "protein cell biology folding enzymes") for i in range(6)]
    papers.append(Paper("odd", "Galaxy survey redshift", "telescope stars galaxies cosmology"))
    directory = _index(tmp_path, papers)
    rec = Recommender.load(directory)
    themes = rec.themes(n=2)
    solo = next(t for t in themes if t.size == 1)
    assert solo.papers[0].id == "odd"
    assert [r.id for r in rec.similar("a1", k=3, theme=solo)] == ["odd"]
    assert rec.similar("odd", k=3, theme=solo) == []
    frame = rec.map_2d(themes)
    assert (frame["theme"] == solo.id).sum() == 1
    page = CliRunner().invoke(cli, ["map", "--out", str(tmp_path / "m.html"), "-n", "2", "--index-dir", str(directory)])
    assert page.exit_code == 0, page.output


# -- themes files edited by hand -----------------------------------------------------------------


@pytest.fixture
def saved(hash_index_copy):
    Recommender.load(hash_index_copy).themes(n=4)
    (path,) = (hash_index_copy / "themes").glob("*.json")
    return hash_index_copy, path


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


BAD_SHAPES = {
    "themes not a list": lambda d: d.update(themes={"a": 1}),
    "no themes": lambda d: d.update(themes=[]),
    "theme a string": lambda d: d["themes"].__setitem__(0, "t1"),
    "papers a dict": lambda d: d["themes"][0].update(papers={"x": 1}),
    "paper too short": lambda d: d["themes"][0]["papers"].__setitem__(0, ["id", "title"]),
    "score a string": lambda d: d["themes"][0]["papers"][0].__setitem__(2, "high"),
    "score NaN-like": lambda d: d["themes"][0]["papers"][0].__setitem__(2, 1e400),
    "centroid of text": lambda d: d["themes"][0].update(centroid=["a", "b"]),
    "centroid too short": lambda d: d["themes"][1].update(centroid=[0.1, 0.2]),
    "centroid nested": lambda d: d["themes"][0].update(centroid=[[0.1], [0.2]]),
    "seed a number": lambda d: d["themes"][0].update(seed=7),
    "id empty": lambda d: d["themes"][0].update(id=""),
    "id a path": lambda d: d["themes"][0].update(id=["..", "etc"]),
    "status unknown": lambda d: d["themes"][0].update(status="exploded"),
    "terms not strings": lambda d: d["themes"][0].update(terms=[1, 2]),
    "n a string": lambda d: d["options"].update(n="4"),
    "n a bool": lambda d: d["options"].update(n=True),
    "seeds nested wrong": lambda d: d["options"].update(seeds=[["only-one"]]),
    "margin missing": lambda d: d["options"].pop("margin"),
    "changes a list": lambda d: d.update(changes=[1]),
    "merged of numbers": lambda d: d.update(changes={"merged": {"t1": 2}}),
    "generation a number": lambda d: d.update(generation=5),
    "duplicate ids": lambda d: d["themes"][1].update(id=d["themes"][0]["id"]),
    "top level a list": lambda d: (d.clear(), d.update(x=1)),
}


@pytest.mark.parametrize("name", list(BAD_SHAPES))
def test_wrong_shapes_are_a_damaged_index_error_naming_the_file(saved, name):
    directory, path = saved
    _edit(path, BAD_SHAPES[name])
    with pytest.raises(IndexCorruptError, match=f"saved themes {path} are damaged .*; delete the file to recompute them"):
        load_saved_themes(directory)
    result = CliRunner().invoke(cli, ["themes", "-n", "4", "--index-dir", str(directory)])
    assert result.exit_code == 2 and str(path) in result.stderr and "delete the file" in result.stderr


def test_papers_that_are_not_in_the_index_make_the_set_recomputed(saved):
    directory, path = saved
    _edit(path, lambda d: d["themes"][0]["papers"].__setitem__(0, ["../../etc/passwd", "x", 0.9, True]))
    themes = Recommender.load(directory).themes(n=4)
    assert all(p.id != "../../etc/passwd" for t in themes for p in t.papers)


def test_a_fifo_in_place_of_a_themes_file_never_hangs(saved):
    directory, path = saved
    path.unlink()
    os.mkfifo(path)
    done = threading.Event()
    outcome = []

    def load():
        try:
            outcome.append(load_saved_themes(directory, path.stem))
        except IndexCorruptError as exc:
            outcome.append(exc)
        done.set()

    threading.Thread(target=load, daemon=True).start()
    assert done.wait(10), "reading a FIFO hung"
    assert isinstance(outcome[0], IndexCorruptError) and "not a regular file" in str(outcome[0])
    result = CliRunner().invoke(cli, ["themes", "-n", "4", "--index-dir", str(directory)])
    assert result.exit_code == 2 and str(path) in result.stderr


def test_damaged_set_names_are_an_error_naming_the_file(hash_index_copy):
    save_set_name(hash_index_copy, "mine", {"n": 4, "seeds": [], "margin": 0.05})
    assert load_set_names(hash_index_copy) == {"mine": {"n": 4, "seeds": [], "margin": 0.05}}
    names = hash_index_copy / "themes" / "names.json"
    for bad in (
        {"format": "paperlike-theme-names", "format_version": 1, "sets": {"../x": {"n": 1, "seeds": [], "margin": 0}}},
        {"format": "paperlike-theme-names", "format_version": 1, "sets": {"a": {"n": "x", "seeds": [], "margin": 0}}},
        {"format": "paperlike-theme-names", "format_version": 1, "sets": []},
        [1, 2],
    ):
        names.write_text(json.dumps(bad))
        result = CliRunner().invoke(cli, ["theme", "t1", "--theme-set", "a", "--index-dir", str(hash_index_copy)])
        assert result.exit_code == 2, result.output
        assert f"theme set names {names} are damaged" in result.stderr and "--save-as NAME" in result.stderr


def test_concurrent_names_are_all_kept(hash_index_copy):
    threads = [
        threading.Thread(target=save_set_name, args=(hash_index_copy, f"set{i}", {"n": i + 2, "seeds": [], "margin": 0.05}))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(load_set_names(hash_index_copy)) == sorted(f"set{i}" for i in range(8))
