from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import QueryError
from paperlike.readers import bundled_corpus
from paperlike.records import Corpus, Paper, parse_seeds
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.storage.themes import load_saved_themes
from paperlike.themes import auto_theme_range
from paperlike.themes.labels import near_duplicate, stop_words

SEEDS = ["distillation", "continual learning", "task-agnostic training"]


@pytest.fixture
def rec(hash_index_copy):
    return Recommender.load(hash_index_copy)


def _json(theme_set) -> str:
    return json.dumps(theme_set.to_dict(), sort_keys=True)


def test_json_contract_and_order(rec):
    data = rec.themes(n=6).to_dict()
    assert len(data["themes"]) == 6
    for theme in data["themes"]:
        assert {"id", "label", "size", "seed", "papers"} <= set(theme)
        assert theme["size"] == len(theme["papers"]) > 0
        assert all(set(p) == {"id", "title", "score"} for p in theme["papers"])
        scores = [p["score"] for p in theme["papers"]]
        assert scores == sorted(scores, reverse=True)
    keys = [(-t["size"], t["id"]) for t in data["themes"]]
    assert keys == sorted(keys, key=lambda k: (k[0], int(k[1][1:])))


@pytest.mark.parametrize("options", [{}, {"n": 5}, {"seeds": SEEDS}, {"n": 9, "seeds": SEEDS}])
def test_every_paper_has_a_theme(rec, options):
    themes = rec.themes(**options)
    covered = {p.id for t in themes for p in t.papers}
    assert covered == set(rec.index.ids)
    primaries = [p.id for t in themes for p in t.papers if p.primary and t.seed is None]
    assert len(primaries) == len(set(primaries))  # one primary discovered theme at most


def test_deterministic_across_runs_and_after_save_and_load(hash_index_copy):
    first = Recommender.load(hash_index_copy).themes(seeds=SEEDS, save=True)
    key_files = list((hash_index_copy / "themes").glob("*.json"))
    assert len(key_files) == 1
    reloaded = Recommender.load(hash_index_copy).themes(seeds=SEEDS)  # served from the saved file
    assert _json(reloaded) == _json(first)
    shutil.rmtree(hash_index_copy / "themes")
    again = Recommender.load(hash_index_copy).themes(seeds=SEEDS)  # computed afresh
    assert _json(again) == _json(first)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.centroid, b.centroid)


def test_same_themes_in_separate_processes(hash_index_dir, tmp_path):
    outputs = []
    for run in range(2):
        target = tmp_path / f"copy{run}"
        shutil.copytree(hash_index_dir, target, ignore=shutil.ignore_patterns("themes"))
        out = subprocess.run(
            [sys.executable, "-m", "paperlike", "themes", "--json", "--index-dir", str(target)],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )
        outputs.append(out.stdout)
    assert outputs[0] == outputs[1] and json.loads(outputs[0])["themes"]


def test_seeds_map_back_and_papers_can_belong_to_several_themes(rec):
    all_seeds = SEEDS + ["rlhf=reinforcement learning from human feedback, preference alignment"]
    themes = rec.themes(seeds=all_seeds)
    seeded = {t.seed: t for t in themes if t.seed is not None}
    assert set(seeded) == set(SEEDS) | {"rlhf"}
    assert seeded["continual learning"].id == "continual-learning"
    assert rec.theme("Continual Learning", seeds=all_seeds).id == "continual-learning"
    assert rec.theme("continual-learning", seeds=all_seeds).seed == "continual learning"
    distil = {p.id for p in seeded["distillation"].papers}
    assert {"impossible-distillation", "distilling-instruction-following"} <= distil
    memberships: dict[str, int] = {}
    for t in themes:
        for p in t.papers:
            memberships[p.id] = memberships.get(p.id, 0) + 1
    assert max(memberships.values()) >= 2
    assert any(t.seed is None for t in themes)  # papers near no seed get discovered themes


def test_labels_are_short_distinct_and_free_of_stop_words(rec):
    stop = stop_words()
    for theme in rec.themes(n=7):
        assert 1 <= len(theme.terms) <= 4 and theme.label == " · ".join(theme.terms)
        for term in theme.terms:
            assert not any(word in stop for word in term.split()), term
        for i, a in enumerate(theme.terms):
            assert not any(near_duplicate(a, b) for b in theme.terms[i + 1 :])


def test_near_duplicate_rule():
    assert near_duplicate("continual learning", "continual")
    assert near_duplicate("experts", "expert")
    assert not near_duplicate("knowledge distillation", "continual learning")


def test_ids_survive_adding_papers(tmp_path):
    corpus = bundled_corpus()
    index_dir = tmp_path / "i"
    build_index(corpus, HashingEmbedder(), index_dir)
    before = Recommender.load(index_dir).themes(n=6)
    tame = next(t for t in before if any(p.id == "tame" for p in t.papers if p.primary))
    extra = [
        Paper(
            f"new-{i}", f"Task agnostic continual learning with experts, part {i}", corpus.papers[4].abstract + f" Extension {i}."
        )
        for i in range(3)
    ]
    build_index(Corpus(corpus.papers + extra, "more"), HashingEmbedder(), index_dir)
    after = Recommender.load(index_dir).themes(n=6)
    old_ids, new_ids = {t.id for t in before}, {t.id for t in after}
    assert len(old_ids & new_ids) >= 5
    home = next(t for t in after if any(p.id == "new-0" for p in t.papers if p.primary))
    assert home.id == tame.id and home.status == "grown"
    assert tame.id in after.changes["grown"]
    for t in after:
        old = next((o for o in before if o.id == t.id), None)
        if old is not None:
            a, b = {p.id for p in old.papers}, {p.id for p in t.papers}
            assert len(a & b) / len(a | b) >= 0.5


def test_changes_report_new_and_gone(tmp_path):
    words = "abcdefghijkl"
    base = [Paper(f"a{i}", f"alpha topic {words[i]}", "alpha beta gamma words") for i in range(6)]
    other = [Paper(f"b{i}", f"protein folding {words[i]}", "protein cell biology folding") for i in range(6)]
    third = [Paper(f"c{i}", f"galaxy survey {words[i]}", "galaxy telescope redshift stars") for i in range(6)]
    index_dir = tmp_path / "i"
    build_index(Corpus(base + other, "x"), HashingEmbedder(), index_dir)
    first = Recommender.load(index_dir).themes(n=2)
    build_index(Corpus(base + third, "x"), HashingEmbedder(), index_dir)
    second = Recommender.load(index_dir).themes(n=2)
    alpha_before = next(t.id for t in first if t.papers[0].id.startswith("a"))
    alpha_after = next(t for t in second if t.papers[0].id.startswith("a"))
    galaxy = next(t for t in second if t.papers[0].id.startswith("c"))
    biology = next(t.id for t in first if t.papers[0].id.startswith("b"))
    assert alpha_after.id == alpha_before and alpha_after.status == "same"
    assert galaxy.status == "new" and second.changes["new"] == [galaxy.id] and galaxy.id == "t3"
    assert second.changes["gone"] == [biology]


def test_auto_number_of_themes_scales_with_corpus_size():
    assert auto_theme_range(10) == (3, 3)
    assert auto_theme_range(75) == (7, 11)
    assert auto_theme_range(100_000) == (100, 100)
    lo, hi = auto_theme_range(5250)
    assert 40 <= lo <= hi <= 100


@pytest.mark.parametrize("count", [2, 3, 10])
def test_tiny_indexes(tmp_path, count):
    papers = [Paper(f"p{i}", f"Paper {i} on topic {i % 2}", f"words about topic {i % 2} and item {i}") for i in range(count)]
    build_index(Corpus(papers, "t"), HashingEmbedder(), tmp_path / "i")
    themes = Recommender.load(tmp_path / "i").themes()
    assert {p.id for t in themes for p in t.papers} == {p.id for p in papers}
    assert 1 <= len(themes) <= max(2, count // 3 + 1)


def test_data_frame_view(rec):
    themes = rec.themes(seeds=SEEDS)
    frame = themes.to_frame()
    assert list(frame.columns) == ["theme_id", "theme_label", "seed", "paper_id", "title", "score", "primary"]
    assert len(frame) == sum(t.size for t in themes)
    assert set(frame["seed"].dropna()) == set(SEEDS)
    assert "<table>" in themes._repr_html_()


def test_similar_within_a_theme(rec):
    distillation = rec.theme("distillation", seeds=SEEDS)
    members = {p.id for p in distillation.papers}
    results = rec.similar("autodistil", k=50, theme=distillation)
    assert results and {r.id for r in results} <= members - {"autodistil"}
    # A name alone means a theme of the automatic themes, whatever was computed last.
    auto = rec.themes()
    t2 = {p.id for p in auto.get("t2").papers}
    assert {r.id for r in rec.similar("autodistil", k=50, theme="t2")} <= t2


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda r: r.themes(n=0), "between 1 and 75"),
        (lambda r: r.themes(n=76), "between 1 and 75"),
        (lambda r: r.themes(n=2, seeds=SEEDS), "fewer than the 3 seeds"),
        (lambda r: r.themes(seeds=[" "]), "empty seed name"),
        (lambda r: r.themes(seeds=["Distillation", "distillation"]), "given twice"),
        (lambda r: r.theme("no such theme"), "no theme 'no such theme' in the automatic themes; known themes: t1"),
        (lambda r: r.theme("distillation", n=6), r"no theme 'distillation' in the themes -n 6; .*paperlike themes -n 6$"),
        (lambda r: r.theme("t1", theme_set="nope"), "no theme set named 'nope' in this index"),
        (lambda r: r.theme("t1", theme_set="../x"), "theme set name '../x' is not allowed"),
        (lambda r: r.themes(n=3, name="mine"), "give either --theme-set or -n/--seed"),
    ],
)
def test_bad_theme_requests(rec, call, expected):
    with pytest.raises(QueryError, match=expected):
        call(rec)


def test_one_paper_index_has_no_themes(tmp_path):
    build_index(Corpus([Paper("solo", "Solo", "x")], "t"), HashingEmbedder(), tmp_path / "i")
    with pytest.raises(QueryError, match="holds 1 paper.s.; themes need at least 2"):
        Recommender.load(tmp_path / "i").themes()


def test_parse_seeds():
    seeds = parse_seeds(["rlhf = reinforcement learning from human feedback", "continual learning"])
    assert [(s.name, s.description, s.theme_id) for s in seeds] == [
        ("rlhf", "reinforcement learning from human feedback", "rlhf"),
        ("continual learning", "", "continual-learning"),
    ]


def test_themes_cli(hash_index_copy):
    runner = CliRunner()
    idx = ["--index-dir", str(hash_index_copy)]
    seed_opts = sum((["--seed", s] for s in SEEDS), [])
    result = runner.invoke(cli, ["themes", *idx, *seed_opts])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{len(load_saved_themes(hash_index_copy))} themes of 75 papers")
    assert first.endswith(": the themes --seed distillation --seed 'continual learning' --seed 'task-agnostic training'")
    assert "(seed: continual learning)" in result.stdout
    data = json.loads(runner.invoke(cli, ["themes", "--json", *idx, "--seed", "distillation"]).stdout)
    assert [t["seed"] for t in data["themes"] if t["seed"]] == ["distillation"]
    assert data["theme_set"] == {"name": None, "options": "--seed distillation", "description": "the themes --seed distillation"}
    # Something else computed last changes nothing: the options name the set.
    assert runner.invoke(cli, ["themes", "-n", "8", *idx]).exit_code == 0
    one = runner.invoke(cli, ["theme", "distillation", "-k", "2", "--json", *idx, *seed_opts])
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["seed"] == "distillation" and len(json.loads(one.stdout)["papers"]) == 2
    assert json.loads(one.stdout)["theme_set"]["options"] == " ".join(shlex.quote(o) for o in seed_opts)
    table = runner.invoke(cli, ["theme", "distillation", *idx, *seed_opts])
    assert table.stdout.startswith("distillation: ") and "(seed: distillation," in table.stdout
    full = json.loads(runner.invoke(cli, ["theme", "distillation", "--json", *idx, *seed_opts]).stdout)
    within = runner.invoke(cli, ["similar", "autodistil", "-k", "50", "--theme", "distillation", "--json", *idx, *seed_opts])
    assert within.exit_code == 0, within.output
    ids = {p["id"] for p in full["papers"]}
    got = {r["id"] for r in json.loads(within.stdout)}
    assert got and got <= ids - {"autodistil"} and len(got) == len(ids - {"autodistil"})
    assert "of the themes --seed distillation" in within.stderr
    # export --theme takes the same options and exports exactly that theme's papers.
    exported = runner.invoke(cli, ["export", "--format", "jsonl", "--theme", "distillation", *idx, *seed_opts])
    assert exported.exit_code == 0, exported.output
    assert {json.loads(line)["id"] for line in exported.stdout.splitlines()} == ids
    # The automatic themes (no options) are the default everywhere, never the last computed set.
    auto = json.loads(runner.invoke(cli, ["themes", "--json", *idx]).stdout)
    t9 = runner.invoke(cli, ["theme", "t2", "--json", *idx])
    assert json.loads(t9.stdout)["papers"] == next(t for t in auto["themes"] if t["id"] == "t2")["papers"]
    assert runner.invoke(cli, ["similar", "autodistil", "--theme", "distillation", *idx]).exit_code == 2


def test_named_theme_sets(hash_index_copy):
    runner = CliRunner()
    idx = ["--index-dir", str(hash_index_copy)]
    saved = runner.invoke(cli, ["themes", "--seed", "distillation", "-n", "6", "--save-as", "mine", "--json", *idx])
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.stdout)["theme_set"]["name"] == "mine"
    runner.invoke(cli, ["themes", "-n", "9", *idx])
    again = json.loads(runner.invoke(cli, ["themes", "--theme-set", "mine", "--json", *idx]).stdout)
    assert again["themes"] == json.loads(saved.stdout)["themes"]
    one = runner.invoke(cli, ["theme", "distillation", "--theme-set", "mine", *idx])
    assert one.exit_code == 0 and "theme set 'mine' (themes -n 6 --seed distillation)" in one.stdout
    within = runner.invoke(cli, ["similar", "autodistil", "--theme", "t1", "--theme-set", "mine", "--json", *idx])
    t1 = {p["id"] for p in next(t for t in again["themes"] if t["id"] == "t1")["papers"]}
    assert within.exit_code == 0 and {r["id"] for r in json.loads(within.stdout)} <= t1
    both = runner.invoke(cli, ["theme", "t1", "--theme-set", "mine", "-n", "3", *idx])
    assert both.exit_code == 2 and "either --theme-set or -n/--seed" in both.stderr
    unknown = runner.invoke(cli, ["theme", "t1", "--theme-set", "theirs", *idx])
    assert unknown.exit_code == 2 and "no theme set named 'theirs' in this index (named sets: mine)" in unknown.stderr
    bad = runner.invoke(cli, ["themes", "--save-as", "../../etc/x", *idx])
    assert bad.exit_code == 2 and "is not allowed" in bad.stderr
    assert sorted(p.name for p in (hash_index_copy / "themes").iterdir() if not p.name.startswith(".")) == sorted(
        [*(p.name for p in (hash_index_copy / "themes").glob("????????????????.json")), "names.json"]
    )
    alone = runner.invoke(cli, ["similar", "autodistil", "--seed", "distillation", *idx])
    assert alone.exit_code == 2 and "give --theme too" in alone.stderr


def test_sizes_that_add_up_to_more_than_the_corpus_say_why(rec):
    themes = rec.themes(seeds=SEEDS)
    papers, total, histogram = themes.membership_counts()
    assert papers == 75 and total == sum(t.size for t in themes) > 75
    assert sum(histogram.values()) == 75 and sum(k * v for k, v in histogram.items()) == total
    assert themes.overlap_note().startswith(f"sizes add up to {total}: ")
    out = CliRunner().invoke(cli, ["themes", "--index-dir", str(rec.directory), *sum((["--seed", s] for s in SEEDS), [])])
    assert out.stdout.splitlines()[1] == themes.overlap_note()


def test_a_single_string_is_one_seed(rec):
    one = rec.themes(seeds="distillation")
    assert [t.seed for t in one if t.seed] == ["distillation"]
    with pytest.raises(TypeError, match="a seed must be a string"):
        rec.themes(seeds=[3])
    with pytest.raises(TypeError, match="seeds must be a string or a list"):
        rec.themes(seeds=42)


ROBOT_PAPERS = ["behavior-retrieval", "crossing-the-human-robot-embodiment-gap", "towards-passive-safe-reinforcement"]


@pytest.mark.model
def test_a_robot_learning_seed_ranks_the_robot_papers_first(tmp_path):
    """Issue #13: scored by the centroid, the robot papers sat at the bottom of a "robot learning"
    seed, below papers on language models and continual learning."""
    from paperlike.embedding import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    build_index(bundled_corpus(), embedder, tmp_path / "i")
    rec = Recommender.load(tmp_path / "i", embedder=embedder)
    theme = rec.theme("robot learning", seeds="robot learning")
    ranked = [p.id for p in theme.papers]
    assert set(ROBOT_PAPERS) <= set(ranked), ranked
    assert set(ranked[:2]) <= set(ROBOT_PAPERS), ranked
    assert max(ranked.index(r) for r in ROBOT_PAPERS) <= 3, ranked
    # The same seed among others is the same theme (a seeded theme depends on its seed only).
    again = rec.theme("robot learning", seeds=["distillation", "robot learning"])
    assert [p.id for p in again.papers] == ranked


# -- memberships and the saved file at scale ----------------------------------------------------------


@pytest.mark.parametrize("margin", [0.0, 0.05, 0.2, 2.0])
def test_a_paper_joins_at_most_max_also_other_themes_its_best_ones_within_the_margin(margin):
    from conftest import random_unit_vectors
    from paperlike.themes.compute import MAX_ALSO, compute_themes

    x = random_unit_vectors(400, 16, seed=3)
    ids = [f"p{i}" for i in range(len(x))]
    themes = compute_themes(x, ids, ids, lambda positions: [f"text {i}" for i in positions], n=7, margin=margin)
    centroids = np.stack([t.centroid for t in themes])
    got = {i: set() for i in ids}
    for number, t in enumerate(themes):
        for p in t.papers:
            got[p.id].add(number)
    scores = x @ centroids.T  # brute force: the best theme, then the next best within the margin
    for i, row in enumerate(scores):
        order = np.argsort(-row, kind="stable")
        expected = {int(c) for c in order[: MAX_ALSO + 1] if row[c] >= row[order[0]] - margin}
        assert got[ids[i]] == expected
    if margin == 2.0:
        assert all(len(found) == MAX_ALSO + 1 for found in got.values())


def test_saved_themes_are_written_in_pieces_and_read_back_the_same(tmp_path):
    from paperlike.records import Theme, ThemePaper, ThemeSet
    from paperlike.storage.themes import _theme_set_json, save_themes

    hostile = ['a "quoted" title', "line\nbreak \u2028 and \\ backslash", "", "ünïcödé 𝛼", "]}{[,"]
    themes = [
        Theme(
            f"t{t}",
            f"label {t}",
            None if t else "seed",
            [ThemePaper(f"id{t}-{i}", hostile[i % len(hostile)], 1.0 - i / 10, i % 2 == 0) for i in range(size)],
            ["term"],
            np.full(4, 0.5, dtype=np.float32),
            "same",
        )
        for t, size in enumerate([7, 1, 0, 3])
    ]
    theme_set = ThemeSet(
        themes,
        {"n": 4, "seeds": [["seed", "seed"]], "margin": 0.05},
        "gen",
        {"new": ["t1"], "gone": [], "grown": ["t0"], "shrunk": [], "merged": {}},
    )
    whole = json.loads("".join(_theme_set_json(theme_set, rows_at_once=2)))
    assert [[row[0] for row in t["papers"]] for t in whole["themes"]] == [[p.id for p in t.papers] for t in themes]
    assert whole["themes"][0]["papers"][1] == ["id0-1", hostile[1], 0.9, False]
    assert whole["themes"][2]["papers"] == []
    theme_set.themes = [t for t in themes if t.papers]
    save_themes(tmp_path, "0123456789abcdef", theme_set)
    again = load_saved_themes(tmp_path, "0123456789abcdef")
    assert [(t.id, t.label, t.seed, t.status, t.terms, t.papers) for t in again] == [
        (t.id, t.label, t.seed, t.status, t.terms, t.papers) for t in theme_set.themes
    ]
    assert again.options == theme_set.options and again.changes == theme_set.changes


def test_the_saved_file_may_be_as_big_as_the_index_makes_it(tmp_path, monkeypatch):
    from paperlike.errors import IndexCorruptError
    from paperlike.storage import themes as saved

    build_index(bundled_corpus(), HashingEmbedder(), tmp_path / "idx")
    rec = Recommender.load(tmp_path / "idx")
    rec.themes()
    size = next((rec.directory / "themes").glob("*.json")).stat().st_size
    monkeypatch.setattr(saved, "_MAX_FILE_BYTES", size - 1)
    with pytest.raises(IndexCorruptError, match="delete the file"):
        load_saved_themes(rec.directory)  # too big for an index of no papers
    assert len(load_saved_themes(rec.directory, papers=rec.index.count)) == len(rec.themes())
    assert rec.latest_themes().generation == rec.index.manifest["generation"]


def test_identical_papers_tie_everywhere_and_still_join_at_most_max_also_other_themes():
    from conftest import random_unit_vectors
    from paperlike.themes.compute import MAX_ALSO, compute_themes

    x = np.repeat(random_unit_vectors(3, 8, seed=5), [40, 40, 1], axis=0)
    ids = [f"p{i}" for i in range(len(x))]
    runs = [compute_themes(x, ids, ids, lambda positions: ["same text"] * len(positions), n=6, margin=2.0) for _ in range(2)]
    counts: dict[str, int] = {}
    for t in runs[0]:
        for p in t.papers:
            counts[p.id] = counts.get(p.id, 0) + 1
    assert set(counts) == set(ids) and max(counts.values()) <= MAX_ALSO + 1
    assert [[p.id for p in t.papers] for t in runs[0]] == [[p.id for p in t.papers] for t in runs[1]]


def test_memberships_that_tie_at_the_cut_keep_the_first_themes():
    from paperlike.themes.compute import MAX_ALSO, _members

    scores = np.full((4, 6), 0.5, dtype=np.float32)
    scores[3] = [0.1, 0.9, 0.5, 0.5, 0.5, 0.2]  # best 1; 2, 3, 4 tie within the margin
    member = _members(scores, np.array([0, 1, 5, 1]), margin=0.5, rows_at_once=2)
    assert member.sum(axis=1).tolist() == [MAX_ALSO + 1] * 4
    assert [np.flatnonzero(row).tolist() for row in member] == [[0, 1, 2], [0, 1, 2], [0, 1, 5], [1, 2, 3]]


def test_a_word_that_one_member_repeats_is_not_a_label_word_but_one_all_members_share_is():
    from paperlike.themes.labels import label_terms

    theme = [
        "ChatDiT ChatDiT ChatDiT: a ChatDiT system for graph retrieval.",
        "Graph retrieval with sparse graph encoders.",
        "Graph retrieval benchmarks for question answering.",
    ]
    other = ["Speech recognition in noisy rooms.", "Speech synthesis for many speakers."]
    shared, plain = label_terms([theme, other]), label_terms([theme, other], min_members=1)
    assert "chatdit" in plain[0]  # plain c-TF-IDF over the joined text: the repeated name wins
    assert "chatdit" not in shared[0] and "graph" in shared[0]
    assert shared[1] == ["speech"]
    # A theme of one paper still gets a label, from that paper's own words.
    assert label_terms([["Symbolic regression with SNIP SNIP."], other])[0]


def test_bundled_theme_labels_use_words_of_two_or_more_members(rec):
    from paperlike.themes.labels import _phrases, stop_words

    stop = stop_words()
    texts = {p.id: p.text for p in bundled_corpus().papers}  # what the hash index was built from
    for theme in rec.themes():
        primary = [p.id for p in theme.papers if p.primary]
        if len(primary) < 2:
            continue
        for term in theme.terms:
            users = sum(term in _phrases(texts[pid], stop) for pid in primary)
            assert users >= 2, (theme.label, term)
