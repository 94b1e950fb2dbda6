"""add / remove / dupes / export, from Python and the CLI."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from conftest import ROOT, tree_snapshot, write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import QueryError
from paperlike.export import export_papers
from paperlike.readers import bundled_corpus, read_corpus
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.service.edits import add_papers, remove_papers
from paperlike.storage import load_index

FIX = ROOT / "tests" / "fixtures"


class Counting(HashingEmbedder):
    def __init__(self, fail_after=None):
        super().__init__()
        self.texts: list[str] = []
        self.fail_after = fail_after

    def embed_batch(self, texts):
        if self.fail_after is not None and len(self.texts) >= self.fail_after:
            raise KeyboardInterrupt
        self.texts.extend(texts)
        return super().embed_batch(texts)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_add_embeds_only_new_papers_and_keeps_ids(hash_index_copy):
    before_ids = load_index(hash_index_copy).ids
    embedder = Counting()
    report = add_papers(
        hash_index_copy, [read_corpus(FIX / "zotero.bib"), read_corpus(FIX / "arxiv_search.xml")], embedder=embedder
    )
    assert (report.added, report.updated, report.unchanged, report.duplicates, report.skipped) == (5, 0, 0, 1, 2)
    assert report.embedded == 5 and len(embedder.texts) == 5
    index = load_index(hash_index_copy)
    assert index.count == 80 and index.ids[:75] == before_ids
    assert report.added_ids == index.ids[75:]
    again = add_papers(hash_index_copy, [read_corpus(FIX / "zotero.bib")], embedder=Counting())
    assert (again.added, again.unchanged, again.embedded) == (0, 3, 0)


def test_add_updates_changed_text_and_merges_duplicates(hash_index_copy, tmp_path):
    add_papers(hash_index_copy, [read_corpus(FIX / "zotero.bib")], embedder=HashingEmbedder())
    changes = write_jsonl(
        tmp_path / "changes.jsonl",
        [
            {"id": "scholar2019", "title": "Continual learning without forgetting", "abstract": "Now it has an abstract."},
            {"title": "A record of the same DOI", "doi": "https://doi.org/10.1145/3219819.3220000", "url": "https://acm.org/x"},
            {
                "title": "AutoDistil: Few-shot Task-agnostic Neural Architecture Search for Distilling Large Language Models",
                "arxiv_id": "2201.99999",
            },
        ],
    )
    embedder = Counting()
    report = add_papers(hash_index_copy, [read_corpus(changes)], embedder=embedder)
    assert (report.added, report.updated, report.duplicates) == (0, 1, 2)
    assert embedder.texts == ["Continual learning without forgetting. Now it has an abstract."]
    papers = {p.id: p for p in load_index(hash_index_copy).papers()}
    assert papers["acm2018"].url == "https://acm.org/x" and papers["autodistil"].arxiv_id == "2201.99999"


def test_a_new_paper_never_takes_an_existing_id(hash_index_copy, tmp_path):
    other = write_jsonl(tmp_path / "o.jsonl", [{"title": "AutoDistil: a different paper entirely", "abstract": "Other."}])
    report = add_papers(hash_index_copy, [read_corpus(other)], embedder=HashingEmbedder())
    assert report.added_ids == ["autodistil-2"]


def test_interrupted_add_leaves_the_index_intact(hash_index_copy):
    before = tree_snapshot(hash_index_copy)
    with pytest.raises(KeyboardInterrupt):
        add_papers(
            hash_index_copy,
            [read_corpus(FIX / "zotero.bib"), read_corpus(FIX / "zotero_csl.json")],
            embedder=Counting(fail_after=1),
            batch_size=1,
        )
    after = tree_snapshot(hash_index_copy)
    assert {k: v for k, v in after.items() if not k.startswith(".paperlike-checkpoints/")} == before
    assert load_index(hash_index_copy).count == 75


def test_themes_keep_their_ids_across_an_add(hash_index_copy, tmp_path):
    before = Recommender.load(hash_index_copy).themes(n=6)
    extra = write_jsonl(
        tmp_path / "x.jsonl",
        [
            {"title": f"Task agnostic continual learning with experts, part {i}", "abstract": bundled_corpus().papers[4].abstract}
            for i in range(3)
        ],
    )
    add_papers(hash_index_copy, [read_corpus(extra)], embedder=HashingEmbedder())
    after = Recommender.load(hash_index_copy).themes(n=6)
    assert len({t.id for t in before} & {t.id for t in after}) >= 5
    assert after.changes["grown"]


def test_remove_embeds_nothing_and_refuses_unknown_ids(hash_index_copy):
    before = tree_snapshot(hash_index_copy)
    with pytest.raises(QueryError, match="unknown paper id.s.: nope; nothing was removed"):
        remove_papers(hash_index_copy, ["tame", "nope"])
    assert tree_snapshot(hash_index_copy) == before
    assert remove_papers(hash_index_copy, ["tame", "ovor"]) == ["tame", "ovor"]
    index = load_index(hash_index_copy)
    assert index.count == 73 and "tame" not in index.ids


def test_dupes_lists_near_duplicates_without_merging(tmp_path):
    base = bundled_corpus().papers
    near = Paper(
        "autodistil-preprint", "AutoDistil: few-shot task-agnostic NAS for distilling large language models", base[0].abstract
    )
    build_index(Corpus(base + [near], "t"), HashingEmbedder(), tmp_path / "i")
    result = run("dupes", "--json", "--index-dir", tmp_path / "i")
    pairs = json.loads(result.stdout)
    assert pairs[0]["a"] == "autodistil" and pairs[0]["b"] == "autodistil-preprint" and pairs[0]["score"] > 0.95
    assert load_index(tmp_path / "i").count == 76


def test_jsonl_export_round_trips(hash_index_copy, tmp_path):
    add_papers(hash_index_copy, [read_corpus(FIX / "zotero.bib")], embedder=HashingEmbedder())
    out = tmp_path / "all.jsonl"
    assert run("export", "--format", "jsonl", "-o", out, "--index-dir", hash_index_copy).exit_code == 0
    original = load_index(hash_index_copy).papers()
    rebuilt = tmp_path / "rebuilt"
    assert run("index", "build", "--corpus", out, "--index-dir", rebuilt, "--model", "hashing", "-q").exit_code == 0
    again = load_index(rebuilt).papers()
    assert [p.id for p in again] == [p.id for p in original]
    strip = lambda p: {**p.to_dict(), "source": None}  # noqa: E731 - the source is the export file now
    assert [strip(p) for p in again] == [strip(p) for p in original]


def test_bibtex_export_reads_back(hash_index_copy):
    add_papers(hash_index_copy, [read_corpus(FIX / "zotero.bib")], embedder=HashingEmbedder())
    papers = [p for p in load_index(hash_index_copy).papers() if p.id in ("mueller2020kd", "acm2018", "tame")]
    text = export_papers(papers, "bibtex")
    assert 'title = {Knowledge Distillation f\\"ur kleine Modelle}' in text  # LaTeX-encoded for any manager
    assert "50\\% fewer" in text and "doi = {10.1000/kd.2020}" in text and "url = {https://example.org/kd}" in text
    import bibtexparser
    from bibtexparser import middlewares as mw

    lib = bibtexparser.parse_string(text, append_middleware=[mw.LatexDecodingMiddleware()])
    assert not lib.failed_blocks
    assert [e.key for e in lib.entries] == [p.id for p in papers]
    titles = {e.key: e.fields_dict["title"].value for e in lib.entries}
    assert titles["mueller2020kd"] == "Knowledge Distillation für kleine Modelle"
    assert titles["acm2018"] == "Rehearsal Strategies for Task-Agnostic Training"


def test_csv_export(hash_index_dir):
    result = run("export", "--format", "csv", "--ids", "autodistil,tame", "--index-dir", hash_index_dir)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["autodistil", "tame"] and rows[0]["title"].startswith("AutoDistil")


def test_export_a_theme_and_similar_as_bibtex(hash_index_copy):
    # Issue #13: the theme set is named by the options (here --seed distillation), not "the last computed".
    members = {p.id for p in Recommender.load(hash_index_copy).theme("distillation", seeds="distillation").papers}
    result = run(
        "export", "--format", "jsonl", "--theme", "distillation", "--seed", "distillation", "--index-dir", hash_index_copy
    )
    assert {json.loads(line)["id"] for line in result.stdout.splitlines()} == members
    bib = run("similar", "autodistil", "-k", "3", "--format", "bibtex", "--index-dir", hash_index_copy)
    assert bib.exit_code == 0 and bib.stdout.count("@") == 3


def test_add_cli_prints_counts(hash_index_copy):
    result = run("add", FIX / "zotero.bib", FIX / "zotero.csv", "--index-dir", hash_index_copy)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 5, updated 0, unchanged 0, duplicates skipped 1, malformed skipped 3")
    assert "malformed BibTeX entry" in result.stderr
    data = json.loads(run("add", FIX / "zotero.bib", "--json", "--index-dir", hash_index_copy).stdout)
    assert (data["added"], data["unchanged"], data["embedded"]) == (0, 3, 0)
    gone = run("remove", "scholar2019", "--index-dir", hash_index_copy)
    assert gone.stdout.strip() == "removed 1: scholar2019"


def test_generated_ids_never_take_an_id_named_later_in_the_same_add(tmp_path):
    build_index(Corpus([Paper("foo", "Foo", "base paper")], "t"), HashingEmbedder(), tmp_path / "i")
    new = write_jsonl(
        tmp_path / "new.jsonl",
        [
            {"title": "Foo", "abstract": "a second paper called Foo"},
            {"id": "foo-2", "title": "Completely different paper", "abstract": "other"},
        ],
    )
    report = add_papers(tmp_path / "i", [read_corpus(new)], embedder=HashingEmbedder())
    assert (report.added, report.updated) == (2, 0)
    assert sorted(load_index(tmp_path / "i").ids) == ["foo", "foo-2", "foo-3"]


def test_same_title_with_different_dois_or_ids_stays_two_papers(tmp_path):
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [
            {"title": "Introduction to the Special Issue", "doi": "10.1000/aaa"},
            {"title": "Introduction to the Special Issue", "doi": "10.1000/bbb"},
            {"id": "p1", "title": "Foo bar baz qux one"},
            {"id": "p2", "title": "Foo bar baz qux one"},
        ],
    )
    corpus = read_corpus(path)
    assert len(corpus) == 4 and corpus.merged == 0


def test_round_trip_after_replacing_by_id(hash_index_copy, tmp_path):
    other = write_jsonl(tmp_path / "o.jsonl", [{"id": "other", "title": bundled_corpus().papers[1].title, "abstract": "x"}])
    add_papers(hash_index_copy, [read_corpus(other)], embedder=HashingEmbedder())
    out = tmp_path / "rt.jsonl"
    assert run("export", "--format", "jsonl", "-o", out, "--index-dir", hash_index_copy).exit_code == 0
    assert [p.id for p in read_corpus(out).papers] == load_index(hash_index_copy).ids


def test_a_later_file_updating_a_paper_added_now_counts_once(hash_index_copy, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": "fresh", "title": "A fresh paper", "abstract": "v1"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "fresh", "title": "A fresh paper", "abstract": "v2"}])
    report = add_papers(hash_index_copy, [read_corpus(a), read_corpus(b)], embedder=HashingEmbedder())
    assert (report.added, report.updated) == (1, 0)
    assert load_index(hash_index_copy).papers()[-1].abstract == "v2"


def test_a_cache_folder_of_the_users_survives_builds(tmp_path):
    directory = tmp_path / "proj"
    (directory / "cache" / "important").mkdir(parents=True)
    (directory / "cache" / "important" / "notes.txt").write_text("mine")
    build_index(bundled_corpus(), HashingEmbedder(), directory, force=True)  # not an index folder: only with force
    assert (directory / "cache" / "important" / "notes.txt").read_text() == "mine"
