"""Zotero collections as targets: ``--theme collection:PATH`` in similar, export and rank."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.readers import read_corpus
from paperlike.service import Recommender, add_papers
from paperlike.service.incoming import rank_batch
from test_zotero import _sample

HINTON = "distilling-the-knowledge-in-a-neural"
GARCIA = "garcia2021"  # its Citation Key


@pytest.fixture()
def library(tmp_path, hash_index_copy):
    path = _sample(tmp_path / "zotero.sqlite").commit()
    add_papers(hash_index_copy, [read_corpus(path)], embedder=HashingEmbedder())
    return hash_index_copy


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_collection_holds_its_papers_and_those_of_its_sub_collections(library):
    rec = Recommender.load(library, embedder=HashingEmbedder())
    assert {m.id for m in rec.theme("collection:Reading").papers} == {HINTON, GARCIA}
    assert {m.id for m in rec.theme("collection:Reading/Distillation").papers} == {HINTON}
    assert {m.id for m in rec.theme("collection: Thesis /").papers} == {HINTON}  # spaces and slashes tolerated
    # Not a prefix of a name: "Read" is no collection.
    with pytest.raises(Exception, match="no paper of this index is in the collection 'Read'"):
        rec.theme("collection:Read")


def test_similar_and_export_stay_within_the_collection(library):
    result = run("similar", GARCIA, "--theme", "collection:Reading", "--json", "--index-dir", library)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)] == [HINTON]
    assert "the collection 'Reading'" in result.stderr
    exported = run("export", "--format", "jsonl", "--theme", "collection:Thesis", "--index-dir", library)
    assert exported.exit_code == 0, exported.output
    assert [json.loads(line)["id"] for line in exported.stdout.splitlines()] == [HINTON]


def test_rank_targets_a_collection(library, tmp_path):
    batch = tmp_path / "today.jsonl"
    batch.write_text(
        json.dumps({"title": "Knowledge distillation of neural networks", "abstract": "Compress an ensemble."}) + "\n"
    )
    rec = Recommender.load(library, embedder=HashingEmbedder())
    ranking = rank_batch(rec, batch, theme="collection:Reading/Distillation")
    assert ranking.target.startswith("theme collection:Reading/Distillation ")
    assert [n.id for r in ranking for n in r.nearest] == [HINTON]


def test_an_unknown_collection_is_one_line_exit_2(library):
    result = run("similar", GARCIA, "--theme", "collection:Nowhere", "--index-dir", library)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: no paper of this index is in the collection 'Nowhere'; collections come from a Zotero library "
        "(paperlike add zotero.sqlite), named by their path, e.g. --theme collection:Reading/Distillation"
    ]
