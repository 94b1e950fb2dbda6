"""Links everywhere (issue 24): the ``rank`` and ``similar`` tables show each result's link whole
(never cut by a narrow terminal), and both ``to_frame()`` have a ``url`` column: the record's URL,
else https://doi.org/DOI, else https://arxiv.org/abs/ID."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.records import Corpus, Paper
from paperlike.service.build import build_index
from paperlike.service.incoming import rank_batch
from paperlike.service.recommender import Recommender

LONG_DOI = "10.1145/3219819.3220000-with-a-rather-long-suffix"
AUTHORS = ("Anna Long-Surname-Smith", "Bartholomew Other-Author", "Carla Third")
ABSTRACT = "We distil a large teacher model into a small student network with few labelled examples."

LIBRARY = [
    Paper("by-arxiv", "Distilling students from teachers", ABSTRACT, AUTHORS, 2021, arxiv_id="2201.00001"),
    Paper("by-doi", "Small students from large teachers", ABSTRACT + " Again.", AUTHORS, 2020, doi=LONG_DOI),
    Paper("by-url", "Teachers and students in distillation", ABSTRACT + " Once more.", url="https://example.org/paper/7"),
    Paper("no-link", "Knowledge distillation without links", ABSTRACT + " No link."),
]
EXPECTED = {
    "by-arxiv": "https://arxiv.org/abs/2201.00001",
    "by-doi": f"https://doi.org/{LONG_DOI}",
    "by-url": "https://example.org/paper/7",
    "no-link": None,
}

# New papers: other identifiers (the same ones would make them "already in the library").
BATCH = [
    Paper("new-arxiv", "New: distilling students", ABSTRACT, arxiv_id="2301.00002"),
    Paper("new-doi", "New: small students", ABSTRACT, doi=LONG_DOI + "-2"),
    Paper("new-url", "New: teachers and students", ABSTRACT, url="https://example.org/paper/8"),
    Paper("new-none", "New: distillation, no link", ABSTRACT),
]
BATCH_LINKS = {
    "new-arxiv": "https://arxiv.org/abs/2301.00002",
    "new-doi": f"https://doi.org/{LONG_DOI}-2",
    "new-url": "https://example.org/paper/8",
    "new-none": None,
}


def _urls(frame) -> dict:
    return {i: u if isinstance(u, str) else None for i, u in zip(frame["id"], frame["url"])}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    directory = tmp_path_factory.mktemp("links") / "idx"
    build_index(Corpus(LIBRARY, "links"), HashingEmbedder(), directory)
    return directory


def _invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("columns", ["60", "200"])
def test_similar_table_shows_each_link_whole(library, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    out = _invoke("similar", "knowledge distillation students", "--text", "--mode", "dense", "-k", 4, "--index-dir", library)
    for link in filter(None, EXPECTED.values()):
        assert link in out
    assert "Anna Long-Surname-Smith" in out  # the byline is kept (on its own line when narrow)


@pytest.mark.parametrize("columns", ["60", "200"])
def test_rank_table_has_a_link_line_per_result_with_one(library, tmp_path, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    batch = write_jsonl(tmp_path / "today.jsonl", [p.to_dict() for p in BATCH])
    out = _invoke("rank", batch, "--index-dir", library)
    links = [line.strip()[len("link: ") :] for line in out.splitlines() if line.strip().startswith("link: ")]
    assert sorted(links) == sorted(filter(None, BATCH_LINKS.values()))
    rows = json.loads(_invoke("rank", batch, "--index-dir", library, "--json"))
    assert {r["id"]: r["link"] for r in rows} == BATCH_LINKS


def test_to_frames_have_a_url_column(library):
    pytest.importorskip("pandas")
    rec = Recommender.load(library, embedder=HashingEmbedder())
    frame = rec.similar_to_text("knowledge distillation students", k=4, mode="dense").to_frame()
    assert _urls(frame) == EXPECTED
    assert _urls(rank_batch(rec, BATCH, why=False).to_frame()) == BATCH_LINKS
