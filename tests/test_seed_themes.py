"""Seeded themes scored like short queries (paperlike.themes.seeds), with the hashing embedder."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from paperlike.embedding import HashingEmbedder
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.themes.seeds import seed_members

PAPERS = [
    ("distil-a", "Distilling large language models into small ones", "We distil a teacher into a student network."),
    ("distil-b", "DistilBERT and friends", "Knowledge distillation compresses transformers for faster inference."),
    ("robots", "Robot grasping from pixels", "A robot arm learns to grasp objects from camera images."),
    ("robots-2", "Robotic manipulation with tactile sensing", "Robots use touch to manipulate deformable objects."),
    ("graphs", "Graph neural networks for molecules", "Message passing over molecular graphs predicts properties."),
    ("speech", "Speech recognition in noisy rooms", "Acoustic models for far-field speech recognition."),
    ("vision", "Image classification with convolutions", "Convolutional networks classify natural images."),
    ("rl", "Policy gradients revisited", "Reinforcement learning agents optimise returns with policy gradients."),
    ("tables", "Learning on tabular data", "Gradient boosted trees remain strong on tables."),
    ("time", "Forecasting time series", "Temporal models forecast demand and weather."),
]


@pytest.fixture
def rec(tmp_path):
    corpus = Corpus([Paper(pid, title, abstract) for pid, title, abstract in PAPERS], "seed-test.jsonl")
    build_index(corpus, HashingEmbedder(), tmp_path / "idx")
    return Recommender.load(tmp_path / "idx")


def test_a_stemmed_seed_word_in_a_title_makes_a_member(rec):
    # "distillation" is never written in the titles as such: "Distilling" and "DistilBERT" share
    # its stem (BM25's Snowball stems); the hashing embedder alone sees different words.
    theme = rec.theme("distillation", seeds=["distillation"])
    members = {p.id for p in theme.papers}
    assert "distil-a" in members and "distil-b" in members
    assert not members & {"graphs", "speech", "tables"}


def test_membership_follows_the_seed_text(rec):
    themes = rec.themes(seeds=["robots=robot manipulation grasping", "speech=speech recognition acoustic"])
    seeded = {t.seed: {p.id for p in t.papers} for t in themes if t.seed}
    assert {"robots", "robots-2"} <= seeded["robots"] and "speech" not in seeded["robots"]
    assert "speech" in seeded["speech"] and not seeded["speech"] & {"robots", "robots-2"}


def test_a_topic_absent_from_the_corpus_gives_an_empty_theme_and_a_note(rec, caplog):
    with caplog.at_level(logging.WARNING, logger="paperlike"):
        themes = rec.themes(seeds=["volcanoes=volcano eruptions and lava"])
    volcano = next(t for t in themes if t.seed == "volcanoes")
    assert volcano.papers == [] or volcano.size == 0
    assert any("seed 'volcanoes'" in r.getMessage() and "empty" in r.getMessage() for r in caplog.records)
    # Every paper still has a theme: the discovered ones take them all.
    assert {p.id for t in themes for p in t.papers} == {pid for pid, _, _ in PAPERS}


def test_the_cli_prints_the_note_and_still_answers(rec, tmp_path):
    from click.testing import CliRunner

    from paperlike.cli import cli

    result = CliRunner().invoke(cli, ["themes", "--index-dir", str(rec.directory), "--seed", "volcano eruptions"])
    assert result.exit_code == 0, result.output
    assert "volcano eruptions" in result.output and "empty" in result.output


@pytest.mark.parametrize(
    ("dense", "share", "members"),
    [
        # Stands out and names the seed: member; stands out but neither names it nor is close: not.
        ([0.2, 0.2, 0.2, 0.2, 0.9], [0, 0, 0, 0, 1.0], [4]),
        ([0.1, 0.1, 0.1, 0.1, 0.25], [0, 0, 0, 0, 0.0], []),
        # Close enough to count without naming it (cosine >= the floor).
        ([0.1, 0.1, 0.1, 0.1, 0.6], [0, 0, 0, 0, 0.0], [4]),
        # Names only the common half of the seed (share below the cover): no evidence.
        ([0.1, 0.1, 0.1, 0.1, 0.25], [0, 0, 0, 0, 0.3], []),
        # Every paper names the seed and all are alike: no background to stand out from, all belong.
        ([0.5] * 5, [1.0] * 5, [0, 1, 2, 3, 4]),
        # Alike and none names it nor is close: nobody.
        ([0.2] * 5, [0.0] * 5, []),
    ],
)
def test_seed_members_rule(dense, share, members):
    dense = np.array(dense)
    share = np.array(share, dtype=float)
    got, fused = seed_members(dense, (share * 3.0, share), z=1.5, floor=0.3, cover=0.5)
    assert got.tolist() == members
    assert fused.shape == dense.shape


def test_one_paper_and_identical_papers(tmp_path):
    for n in (2, 5):
        corpus = Corpus([Paper(f"p{i}", "Distilling models", "We distil models.") for i in range(n)], "same.jsonl")
        build_index(corpus, HashingEmbedder(), tmp_path / f"same{n}")
        themes = Recommender.load(tmp_path / f"same{n}").themes(seeds=["distillation"])
        assert {p.id for t in themes for p in t.papers} == {f"p{i}" for i in range(n)}


def test_a_saved_set_with_an_empty_seeded_theme_loads_and_feeds_every_command(rec, tmp_path):
    from click.testing import CliRunner

    from paperlike.cli import cli

    idx = ["--index-dir", str(rec.directory)]
    runner = CliRunner()
    saved = runner.invoke(cli, ["themes", "--seed", "volcano eruptions", "--save-as", "v", *idx])
    assert saved.exit_code == 0, saved.output
    # Read back from the saved file: an empty seeded theme is not damage.
    for args in (
        ["theme", "volcano-eruptions", "--theme-set", "v"],
        ["similar", "distil-a", "--theme", "volcano-eruptions", "--theme-set", "v"],
        ["map", "--theme-set", "v", "--out", str(tmp_path / "m.html")],
    ):
        result = runner.invoke(cli, [*args, *idx])
        assert result.exit_code in (0, 2) and "damaged" not in result.output and "Traceback" not in result.output, (
            args,
            result.output,
        )
