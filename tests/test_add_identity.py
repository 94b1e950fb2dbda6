"""Adding the same file twice changes nothing, whatever its format (issue 17, 6).

Papers without ids and with short titles (no title key) used to get a new ``-2``, ``-3`` copy
at every add; a kill landing after an add's switch then made the next add duplicate them, which
made ``test_sigkill_during_add_never_breaks_the_index`` flaky. A record without an id whose text an
indexed paper has is that paper given again; re-adding counts it as unchanged, for every format.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import ROOT, tree_snapshot, write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.readers import read_corpus
from paperlike.records import Corpus, Paper
from paperlike.service.build import build_index
from paperlike.service.edits import add_papers
from paperlike.storage import load_index, read_manifest

FIX = ROOT / "tests" / "fixtures"


def _files(tmp_path):
    short = write_jsonl(
        tmp_path / "short.jsonl",
        [{"title": f"Added paper {i}", "abstract": f"new words {i} about added topic {i % 3}"} for i in range(6)]
        + [{"title": "Transformers"}, {"title": "Transformers", "abstract": "A different paper with the same one-word title."}],
    )
    csv = tmp_path / "short.csv"
    csv.write_text("title,abstract\nGANs,Short title one.\nRL,Short title two.\nRL,Short title two.\n")
    daily = tmp_path / "daily.txt"
    daily.write_text("Daily Papers\n\nDiffusion\n\nA one-word title.\n\nMoE\n\nAnother one.\n")
    return {
        "jsonl without ids": short,
        "csv without ids": csv,
        "daily page": daily,
        "bibtex": FIX / "zotero.bib",
        "zotero csv": FIX / "zotero.csv",
        "csl-json": FIX / "zotero_csl.json",
        "arxiv atom": FIX / "arxiv_search.xml",
        "arxiv jsonl": FIX / "arxiv_metadata.jsonl",
    }


@pytest.fixture
def small_index(tmp_path):
    directory = tmp_path / "index"
    build_index(Corpus([Paper("seed", "A seed paper for adding", "seed words")], "seed.jsonl"), HashingEmbedder(), directory)
    return directory


@pytest.mark.parametrize(
    "kind",
    ["jsonl without ids", "csv without ids", "daily page", "bibtex", "zotero csv", "csl-json", "arxiv atom", "arxiv jsonl"],
)
def test_adding_the_same_file_twice_changes_nothing(small_index, tmp_path, kind):
    path = _files(tmp_path)[kind]
    first = add_papers(small_index, [read_corpus(path)], embedder=HashingEmbedder())
    assert first.added >= 1
    ids = load_index(small_index).ids
    before = tree_snapshot(small_index)
    again = add_papers(small_index, [read_corpus(path)], embedder=HashingEmbedder())
    # The same kind of count for every format: each paper read again is "unchanged".
    assert (again.added, again.updated, again.duplicates - read_corpus(path).merged, again.embedded) == (0, 0, 0, 0)
    assert again.unchanged == first.added + first.updated + first.unchanged
    assert again.generation is None  # nothing was written
    assert load_index(small_index).ids == ids
    assert tree_snapshot(small_index) == before
    third = add_papers(small_index, [read_corpus(path), read_corpus(path)], embedder=HashingEmbedder())
    assert third.added == 0 and load_index(small_index).ids == ids


def test_the_cli_says_the_same_for_a_csv_and_a_bibtex_file_added_again(small_index):
    for path in (FIX / "zotero.bib", FIX / "zotero.csv"):
        CliRunner().invoke(cli, ["add", str(path), "--index-dir", str(small_index), "-q"])
    lines = [
        CliRunner().invoke(cli, ["add", str(path), "--index-dir", str(small_index), "--json"]).stdout
        for path in (FIX / "zotero.bib", FIX / "zotero.csv")
    ]
    counts = [json.loads(line) for line in lines]
    for data in counts:
        assert data["added"] == data["updated"] == data["embedded"] == 0 and data["unchanged"] >= 1
    assert load_index(small_index).count == 1 + 5


def test_a_kill_after_the_switch_then_the_same_add_again(hash_index_copy, tmp_path):
    """What made the SIGKILL test flaky, without the kill: the second add of the same file."""
    extra = write_jsonl(
        tmp_path / "extra.jsonl",
        [{"title": f"Added paper {i}", "abstract": f"new words {i} about added topic {i % 3}"} for i in range(40)],
    )
    assert add_papers(hash_index_copy, [read_corpus(extra)], embedder=HashingEmbedder()).added == 40
    again = add_papers(hash_index_copy, [read_corpus(extra)], embedder=HashingEmbedder())
    assert (again.added, again.unchanged) == (0, 40)
    assert load_index(hash_index_copy).count == 115


def test_identical_records_without_ids_stay_as_many_papers_as_a_build_makes(small_index, tmp_path):
    path = write_jsonl(tmp_path / "same.jsonl", [{"title": "Same", "abstract": "same text"}] * 3)
    built = tmp_path / "built"
    build_index(read_corpus(path), HashingEmbedder(), built)
    first = add_papers(small_index, [read_corpus(path)], embedder=HashingEmbedder())
    assert first.added == load_index(built).count == 3
    again = add_papers(small_index, [read_corpus(path)], embedder=HashingEmbedder())
    assert (again.added, again.unchanged) == (0, 3) and load_index(small_index).count == 4


def test_same_text_but_contradicting_dois_are_two_papers(small_index, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"title": "Editorial", "abstract": "Welcome.", "doi": "10.1000/one"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"title": "Editorial", "abstract": "Welcome.", "doi": "10.1000/two"}])
    add_papers(small_index, [read_corpus(a)], embedder=HashingEmbedder())
    report = add_papers(small_index, [read_corpus(b)], embedder=HashingEmbedder())
    assert report.added_ids == ["editorial-2"]
    assert load_index(small_index).count == 3


def test_a_record_bringing_a_new_field_is_merged_and_counted_as_a_duplicate(small_index, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"title": "Rehearsal", "abstract": "Replay old samples."}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"title": "Rehearsal", "abstract": "Replay old samples.", "url": "https://x.org/r"}])
    add_papers(small_index, [read_corpus(a)], embedder=HashingEmbedder())
    generation = read_manifest(small_index)["generation"]
    report = add_papers(small_index, [read_corpus(b)], embedder=HashingEmbedder())
    assert (report.added, report.duplicates, report.unchanged, report.embedded) == (0, 1, 0, 0)
    assert read_manifest(small_index)["generation"] != generation  # the url had to be written
    assert load_index(small_index).papers()[-1].url == "https://x.org/r"


def test_new_ids_skip_taken_ones(small_index, tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"title": "Seed", "abstract": "one text"}, {"title": "Seed", "abstract": "other text"}]
    )
    report = add_papers(small_index, [read_corpus(path)], embedder=HashingEmbedder())
    # A one-word title is no identity key: two new papers, under free slugs ("seed" is taken).
    assert report.added_ids == ["seed-2", "seed-3"]
    assert add_papers(small_index, [read_corpus(path)], embedder=HashingEmbedder()).added_ids == []


def _doi_library(tmp_path):
    src = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {
                "id": "p1",
                "title": "Graph neural networks for molecules and proteins",
                "abstract": "Graphs.",
                "doi": "10.1234/abc.1",
            },
            {
                "id": "p2",
                "title": "Speech recognition with transformers at scale",
                "abstract": "Speech.",
                "arxiv_id": "2101.00001",
            },
        ],
    )
    build_index(read_corpus(src), HashingEmbedder(), tmp_path / "index")
    return tmp_path / "index"


def test_add_names_each_duplicate_and_flags_a_doi_shared_by_two_different_titles(tmp_path):
    directory = _doi_library(tmp_path)
    new = write_jsonl(
        tmp_path / "b.jsonl",
        [
            # The DOI of p1 (as a URL, upper case) on an entirely different paper: merged, said out loud.
            {
                "title": "Baking sourdough bread in cold kitchens today",
                "abstract": "Bread.",
                "doi": "https://doi.org/10.1234/ABC.1",
            },
            # A later arXiv version of p2, with a year: merged, named.
            {
                "title": "Speech Recognition with Transformers at Scale",
                "abstract": "Speech.",
                "arxiv_id": "2101.00001v2",
                "year": 2021,
            },
        ],
    )
    report = add_papers(directory, [read_corpus(new)], progress=False)
    assert (report.added, report.duplicates) == (0, 2)
    assert report.merged == [
        {"record": "Baking sourdough bread in cold kitchens today", "into": "p1", "by": "doi", "titles_differ": True},
        {"record": "Speech Recognition with Transformers at Scale", "into": "p2", "by": "arxiv", "titles_differ": False},
    ]
    assert any("titles differ" in n and "p1" in n for n in report.notes)
    # The CLI says the same on stderr, and --json carries the list.
    r = CliRunner().invoke(cli, ["add", str(new), "--index-dir", str(directory)])
    assert r.exit_code == 0, r.output
    assert "'Baking sourdough bread in cold kitchens today' merged into p1 (same doi); the titles differ" in r.stderr
    r = CliRunner().invoke(cli, ["add", str(new), "--index-dir", str(directory), "--json"])
    assert [m["into"] for m in json.loads(r.stdout)["merged"]] == ["p1"]  # p2 now has its year: unchanged


def test_a_record_given_again_unchanged_is_not_listed_as_merged(tmp_path):
    directory = _doi_library(tmp_path)
    again = write_jsonl(
        tmp_path / "c.jsonl", [{"title": "Graph neural networks for molecules and proteins", "abstract": "Graphs."}]
    )
    report = add_papers(directory, [read_corpus(again)], progress=False)
    assert (report.unchanged, report.merged) == (1, [])
