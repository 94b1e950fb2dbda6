"""``paperlike dupes --merge``: a preprint and its published version made one paper (issue 24).

The richer record is kept with both identifiers; every old id, DOI, arXiv id, URL and title of
the merged record keeps naming it (an alias table written with each generation), through later
merges, adds, removes and builds; a merge is written like ``remove`` writes (writer lock, a new
generation switched in atomically) and refuses bad pairs with one line.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import lock_held_elsewhere, tree_snapshot, write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import AmbiguousQueryError, IndexBusyError, IndexCorruptError, QueryError
from paperlike.identity import author_key, contradict, merge_records, richness
from paperlike.readers import read_corpus
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.service.edits import add_papers, remove_papers
from paperlike.service.merge import merge_papers
from paperlike.storage import files as store
from paperlike.storage import load_index, read_manifest, verify_index
from paperlike.storage.manifest import MANIFEST

LONG = "We study sparse mixtures of experts for small language models, with routing that stays balanced. "
PREPRINT = Paper(
    "smith-preprint",
    "Sparse mixture of experts for tiny language models",
    LONG * 3,
    ("John Smith", "Ann Lee"),
    2023,
    url="https://arxiv.org/abs/2301.01234v1",
    arxiv_id="2301.01234v1",
    doi="10.48550/arXiv.2301.01234",
    source="arxiv.jsonl",
    tags=("moe",),
)
PUBLISHED = Paper(
    "smith2024",
    "Sparse Mixture-of-Experts for Tiny Language Models",
    LONG,
    ("Smith, John", "Lee, Ann", "Kim, Bo"),
    2024,
    doi="10.1145/1234567.1234568",
    source="library.bib",
    venue="Proceedings of ACL",
    entry_type="inproceedings",
    fields=(("pages", "1--10"),),
    tags=("experts",),
    collections=("Thesis",),
)
OTHERS = [
    Paper(f"other-{i}", f"Another paper number {i} about topic {i}", f"Distinct words {i}: graph {i} robots {i} chemistry {i}.")
    for i in range(4)
]


def _build(directory, papers=None):
    build_index(Corpus(list(papers or [PREPRINT, *OTHERS[:2], PUBLISHED, *OTHERS[2:]]), "t.jsonl"), HashingEmbedder(), directory)
    return directory


@pytest.fixture
def library(tmp_path):
    return _build(tmp_path / "index")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


# -- the rule ------------------------------------------------------------------------------------


def test_the_published_version_is_richer_then_fields_then_the_abstract():
    assert richness(PUBLISHED) > richness(PREPRINT)  # a venue and a journal DOI beat a longer abstract
    arxiv_doi, journal_doi = Paper("a", "T", "x", doi="10.48550/arXiv.1"), Paper("b", "T", "x", doi="10.1/x")
    assert richness(arxiv_doi) < richness(journal_doi)  # arXiv's own DOI is a preprint's
    assert richness(Paper("a", "T", "abc", year=2020)) > richness(Paper("b", "T", "abcdef"))
    assert richness(Paper("a", "T", "abcdef")) > richness(Paper("b", "T", "abc"))


def test_merged_record_has_both_identifiers_the_longer_abstract_and_each_author_once():
    merged = merge_records(PUBLISHED, PREPRINT)
    assert (merged.id, merged.title, merged.venue, merged.year) == ("smith2024", PUBLISHED.title, "Proceedings of ACL", 2024)
    assert (merged.doi, merged.arxiv_id, merged.url) == (PUBLISHED.doi, PREPRINT.arxiv_id, PREPRINT.url)
    assert merged.abstract == PREPRINT.abstract
    assert merged.authors == ("Smith, John", "Lee, Ann", "Kim, Bo")  # "John Smith" is "Smith, John"
    assert (merged.tags, merged.collections, merged.fields) == (("experts", "moe"), ("Thesis",), (("pages", "1--10"),))
    assert author_key("J. Smith") == author_key("Smith, John") != author_key("Jane Smyth")


def test_contradicting_records_are_two_papers():
    assert contradict([Paper("a", "T", arxiv_id="2301.00001")], [Paper("b", "T", arxiv_id="2301.00002")])
    assert contradict([Paper("a", "T", doi="10.1/a")], [Paper("b", "T", doi="10.1/b")])
    assert not contradict([PREPRINT], [PUBLISHED])  # arXiv's DOI and the journal's: one paper


# -- merging -------------------------------------------------------------------------------------


def test_merge_keeps_the_richer_record_and_embeds_its_new_text(library):
    before = load_index(library)
    report = merge_papers(library, [("2301.01234", "smith2024")], embedder=HashingEmbedder())
    (merge,) = report.merges
    assert (merge.into, merge.merged, merge.reembedded) == ("smith2024", ["smith-preprint"], True)
    assert merge.kept_because == "published (it has a venue)"
    assert report.embedded == 1 and report.parent == before.manifest["generation"] != report.generation
    index = load_index(library)
    assert index.ids == [i for i in before.ids if i != "smith-preprint"]  # the kept paper keeps its place
    kept = Recommender(index).paper("smith2024")
    assert kept == merge_records(PUBLISHED, PREPRINT)
    expected = HashingEmbedder().embed_batch([kept.text])[0]
    assert np.allclose(index.vector(index.position("smith2024")), expected)  # the vector is of the merged text
    for other in OTHERS:  # the others' vectors are reused as they were
        assert np.array_equal(index.vector(index.position(other.id)), before.vector(before.position(other.id)))
    assert verify_index(library) == []


def test_every_old_name_of_the_merged_record_names_the_kept_paper(library):
    merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    rec = Recommender.load(library)
    for name in (
        "smith-preprint",
        "SMITH-PREPRINT",
        "arXiv:2301.01234v2",
        "https://arxiv.org/abs/2301.01234",
        "10.48550/arXiv.2301.01234",
    ):
        assert rec.index.ids[rec.find(name)] == "smith2024", name
    assert rec.lookup.read("smith-preprint").how == "alias"
    assert rec.lookup.read("10.1145/1234567.1234568").how == "doi"  # the paper's own names read as before
    assert [p.id for p in rec.records(["smith-preprint"])] == ["smith2024"]
    result = run("similar", "smith-preprint", "--json", "--index-dir", library)
    assert result.exit_code == 0, result.output
    assert {r["query_kind"] for r in json.loads(result.stdout)} == {"alias"}
    assert "smith2024" not in [r["id"] for r in json.loads(result.stdout)]
    assert "query read as: an alias (a merged record's name) of paper smith2024" in result.stderr
    exported = run("export", "--format", "jsonl", "--ids", "smith-preprint", "--index-dir", library)
    assert [json.loads(line)["id"] for line in exported.stdout.splitlines()] == ["smith2024"]
    assert remove_papers(library, ["smith-preprint"]) == ["smith2024"]
    index = load_index(library)
    assert "smith2024" not in index.ids and index.aliases == ()  # its aliases went with it
    assert "aliases" not in read_manifest(library)["files"]


def test_dry_run_shows_the_merge_and_writes_nothing(library):
    before = tree_snapshot(library)
    result = run("dupes", "--merge", "--dry-run", "--pair", "smith-preprint", "smith2024", "--index-dir", library)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("would merge smith-preprint into smith2024  (cosine ")
    assert "nothing was written" in result.stdout
    data = json.loads(run("dupes", "--dry-run", "--pair", "smith-preprint", "smith2024", "--json", "--index-dir", library).stdout)
    assert data["dry_run"] is True and data["generation"] is None and data["merges"][0]["reembedded"] is True
    assert tree_snapshot(library) == before


def test_merge_all_listed_pairs_skips_pairs_that_are_two_papers(tmp_path, monkeypatch):
    twin = Paper("twin", OTHERS[0].title, OTHERS[0].abstract)  # identical papers
    a = Paper("v1", "Graph transformers for molecules at scale", "Molecules and graphs.", arxiv_id="2401.00001")
    b = Paper("v2", "Graph transformers for molecules at scale", "Molecules and graphs.", arxiv_id="2401.00002")
    directory = _build(tmp_path / "i", [*OTHERS, twin, a, b])

    def no_model(*args, **kwargs):
        raise AssertionError("no text changed: no model may be loaded")

    monkeypatch.setattr("paperlike.service.merge.get_embedder", no_model)
    result = run("dupes", "--merge", "--json", "--index-dir", directory)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(m["into"], m["merged"], m["kept_because"]) for m in report["merges"]] == [
        ("other-0", ["twin"], "as rich, and first in the index")
    ]
    assert report["embedded"] == 0 and report["merged"] == 1
    assert [(s["a"], s["b"]) for s in report["skipped"]] == [("v1", "v2")]
    assert "different arXiv ids or DOIs" in report["skipped"][0]["why"]
    assert load_index(directory).ids == ["other-0", "other-1", "other-2", "other-3", "v1", "v2"]
    listed = json.loads(run("dupes", "--json", "--index-dir", directory).stdout)
    assert [(p["a"], p["b"]) for p in listed] == [("v1", "v2")]
    # ...which a --pair merges on purpose (the other arXiv id then names the kept paper).
    merge_papers(directory, [["v2", "v1"]])
    assert Recommender.load(directory).paper("2401.00002").id == "v1"


def test_nothing_to_merge_writes_nothing(library):
    before = tree_snapshot(library)
    result = run("dupes", "--merge", "--threshold", "1", "--index-dir", library)
    assert result.exit_code == 0 and result.stdout == "nothing to merge at cosine >= 1.0\n"
    assert tree_snapshot(library) == before


def test_a_chain_of_merges_leads_to_the_last_paper(tmp_path):
    journal = Paper(
        "smith2025-journal",
        "Sparse mixture of experts for tiny language models (extended)",
        LONG * 4,
        ("J. Smith",),
        2025,
        doi="10.1000/jmlr.2025.1",
        venue="JMLR",
        entry_type="article",
        fields=(("volume", "26"), ("number", "1"), ("pages", "1--40"), ("publisher", "JMLR")),
    )
    directory = _build(tmp_path / "i", [PREPRINT, PUBLISHED, journal, *OTHERS])
    merge_papers(directory, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    report = merge_papers(directory, [("smith2024", "smith2025-journal")], embedder=HashingEmbedder())
    assert [(m.into, m.merged) for m in report.merges] == [("smith2025-journal", ["smith2024"])]
    index = load_index(directory)
    # Flat: the preprint's names lead to the journal version in one step.
    assert {a.id: a.into for a in index.aliases} == {"smith-preprint": "smith2025-journal", "smith2024": "smith2025-journal"}
    rec = Recommender(index)
    for name in ("smith-preprint", "2301.01234", "smith2024", "10.1145/1234567.1234568", "10.48550/arXiv.2301.01234"):
        assert rec.index.ids[rec.find(name)] == "smith2025-journal", name
    paper = rec.paper("smith2025-journal")
    assert (paper.doi, paper.arxiv_id, paper.abstract, paper.authors[0]) == (
        journal.doi,
        "2301.01234v1",
        journal.abstract,
        "J. Smith",
    )
    # Merging a name with the paper it already leads to is merging a paper with itself.
    with pytest.raises(QueryError, match="'smith-preprint' and 'smith2025-journal' are both paper smith2025-journal; give two"):
        merge_papers(directory, [("smith-preprint", "smith2025-journal")])


# -- adding the merged record again ----------------------------------------------------------------


def test_adding_the_merged_record_again_adds_nothing(library, tmp_path):
    merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    before = tree_snapshot(library)
    again = add_papers(library, [Corpus([PREPRINT], "arxiv.jsonl", explicit_ids={PREPRINT.id})], embedder=HashingEmbedder())
    assert (again.added, again.generation) == (0, None)
    assert again.merged == [{"record": PREPRINT.title, "into": "smith2024", "by": "alias", "titles_differ": False}]
    # Without its id (a JSON-lines file of titles and abstracts): its arXiv id, or its text, says so.
    anonymous = write_jsonl(tmp_path / "a.jsonl", [{"title": PREPRINT.title, "abstract": PREPRINT.abstract}])
    assert add_papers(library, [read_corpus(anonymous)], embedder=HashingEmbedder()).added == 0
    assert tree_snapshot(library) == before
    # A new paper never gets the id of a merged record.
    new = write_jsonl(tmp_path / "n.jsonl", [{"title": "Smith preprint", "abstract": "A new paper, not the merged one."}])
    report = add_papers(library, [read_corpus(new)], embedder=HashingEmbedder())
    assert report.added_ids == ["smith-preprint-2"]
    assert Recommender.load(library).paper("smith-preprint").id == "smith2024"


def test_a_merged_record_with_a_short_title_is_known_again_by_its_text(library, tmp_path):
    short = Paper("moe-note", "Tiny MoE LMs", "A short note on sparse experts.")  # 3 words: no title key
    add_papers(library, [Corpus([short], "notes.jsonl", explicit_ids={short.id})], embedder=HashingEmbedder())
    merge_papers(library, [("moe-note", "smith2024")], embedder=HashingEmbedder())
    again = write_jsonl(tmp_path / "again.jsonl", [{"title": short.title, "abstract": short.abstract}])
    report = add_papers(library, [read_corpus(again)], embedder=HashingEmbedder())
    assert (report.added, report.generation) == (0, None)
    assert "moe-note" not in load_index(library).ids


def test_aliases_survive_add_remove_and_a_build_of_the_export(library, tmp_path):
    merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    extra = write_jsonl(tmp_path / "x.jsonl", [{"id": "new-one", "title": "A brand new paper on birds", "abstract": "Birds."}])
    add_papers(library, [read_corpus(extra)], embedder=HashingEmbedder())
    remove_papers(library, ["other-0"])
    assert Recommender.load(library).paper("smith-preprint").id == "smith2024"
    exported = tmp_path / "export.jsonl"
    assert run("export", "--format", "jsonl", "-o", exported, "--index-dir", library).exit_code == 0
    assert run("index", "build", "--corpus", exported, "--index-dir", library, "-q").exit_code == 0
    rec = Recommender.load(library)
    assert [rec.paper(name).id for name in ("smith-preprint", "10.48550/arXiv.2301.01234")] == ["smith2024"] * 2
    # Built again from the records as they were, the preprint is a paper of its own again.
    _build(library)
    index = load_index(library)
    assert "smith-preprint" in index.ids and index.aliases == ()
    assert Recommender(index).paper("smith-preprint").id == "smith-preprint"


def test_bm25_and_themes_follow_the_merge(library):
    rec = Recommender.load(library)
    before = rec.themes(n=2)
    assert rec.similar("other-1", k=10, mode="lexical")  # the BM25 arrays of this generation, saved
    old_lexical = [p.name for p in library.glob("lexical-*")]
    assert old_lexical
    merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    rec = Recommender.load(library)
    ids = set(rec.index.ids)
    for mode in ("lexical", "hybrid", "topical", "dense"):
        found = {r.id for r in rec.similar("other-1", k=10, mode=mode)}
        assert found <= ids - {"other-1"} and (mode == "lexical" or found == ids - {"other-1"}), mode
    assert [r.id for r in rec.similar("sparse mixture of experts", k=1, mode="lexical")] != ["smith-preprint"]
    assert all(not (library / name).exists() for name in old_lexical)
    assert (library / f"lexical-{rec.index.manifest['generation']}").is_dir()  # made again, for this generation
    after = rec.themes(n=2)
    assert {p.id for t in after for p in t.papers} == ids
    assert {p.id for t in before for p in t.papers} - ids == {"smith-preprint"}


# -- safety --------------------------------------------------------------------------------------


def test_bad_pairs_are_one_line_errors_and_change_nothing(library):
    before = tree_snapshot(library)
    cases = {
        ("--pair", "smith2024", "nope"): "Error: unknown paper id(s): nope; nothing was merged (give an id, DOI, arXiv id, "
        "URL or title; list ids with: paperlike papers)",
        ("--pair", "smith2024", "SMITH2024"): "Error: 'smith2024' and 'SMITH2024' are both paper smith2024; give two different "
        "papers to merge; nothing was merged",
    }
    for args, message in cases.items():
        assert _error_line(run("dupes", "--merge", *args, "--index-dir", library)) == message
    assert _error_line(run("dupes", "--pair", "a", "b", "--index-dir", library)) == (
        "Error: --pair names papers to merge: add --merge (or --dry-run to see what it would do) (see: paperlike dupes --help)"
    )
    with pytest.raises(AmbiguousQueryError, match="'another paper number' names 4 papers: .*give the id of the one to merge"):
        merge_papers(library, [("another paper number", "smith2024")])
    with pytest.raises(TypeError, match="pairs is a list of pairs"):
        merge_papers(library, ("smith2024", "smith-preprint"))  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="no pair given"):
        merge_papers(library, [])
    assert tree_snapshot(library) == before


def test_a_merge_waits_for_the_writer_lock_and_a_dry_run_does_not(library, monkeypatch):
    monkeypatch.setenv("PAPERLIKE_LOCK_TIMEOUT", "0.3")
    before = tree_snapshot(library)
    with lock_held_elsewhere(library):
        with pytest.raises(IndexBusyError, match="is being changed by another paperlike command"):
            merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
        assert merge_papers(library, [("smith-preprint", "smith2024")], dry_run=True).merged == 1
    assert tree_snapshot(library) == before


def test_a_merge_interrupted_while_writing_leaves_the_index_as_it_was(library, monkeypatch):
    before = tree_snapshot(library)

    def crash(aliases):
        raise KeyboardInterrupt  # after the other data files of the new generation were written

    monkeypatch.setattr("paperlike.storage.writer.aliases_bytes", crash)
    with pytest.raises(KeyboardInterrupt):
        merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    # Only the note of the generation it started (so the next writer cleans up after it) and the
    # checkpoint of the text it embedded are new; the index's files are as they were.
    side = (".paperlike-checkpoints/", ".paperlike-generations.json")
    after = tree_snapshot(library)
    assert {k: v for k, v in after.items() if not k.startswith(side)} == {
        k: v for k, v in before.items() if not k.startswith(side)
    }
    assert load_index(library).count == 6 and verify_index(library) == []
    monkeypatch.undo()
    assert merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder()).merged == 1
    generation = read_manifest(library)["generation"]
    assert sorted(p.name for p in library.iterdir() if "-20" in p.name) == [
        f"{kind}-{generation}.{ext}"
        for kind, ext in (("aliases", "json"), ("papers", "jsonl"), ("titles", "json"), ("vectors", "faiss"))
    ]


def _tamper_aliases(directory, edit) -> None:
    """Edit the aliases file and record its new checksum: a table that is not what paperlike wrote."""
    manifest = json.loads((directory / MANIFEST).read_text())
    entry = manifest["files"]["aliases"]
    path = directory / entry["name"]
    data = edit(json.loads(path.read_text()))
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    path.write_bytes(raw)
    entry.update(bytes=len(raw), sha256=store.sha256_bytes(raw))
    (directory / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "edit, why",
    [
        (lambda t: {**t, "aliases": [{**t["aliases"][0], "into": "no-such-paper"}]}, "which is not a paper of the index"),
        (lambda t: {**t, "aliases": [{**t["aliases"][0], "id": "other-1"}]}, "which is not a paper of the index or is one"),
        (lambda t: {**t, "aliases": t["aliases"] * 2}, "two entries for 'smith-preprint'"),
        (lambda t: {**t, "aliases": [{**t["aliases"][0], "doi": ["10.1/x"]}]}, "an entry has an invalid doi"),
        (lambda t: {**t, "aliases": [{**t["aliases"][0], "text_sha": "../x"}]}, "an entry has an invalid text_sha"),
        (lambda t: {**t, "format_version": 99}, "format version 99"),
        (lambda t: {"format": "something else"}, "not a paperlike aliases table"),
        (lambda t: b"[" * 100_000, "nested too deeply"),
        (lambda t: b"\xff\xfe", "UnicodeDecodeError"),
    ],
    ids=["dangling", "a paper's id", "twice", "doi list", "text_sha", "newer", "foreign", "deep", "not utf-8"],
)
def test_a_hostile_aliases_table_is_a_damaged_index(library, edit, why):
    merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    _tamper_aliases(library, edit)
    with pytest.raises(IndexCorruptError, match="aliases-.*damaged"):
        load_index(library)
    line = _error_line(run("similar", "smith-preprint", "--index-dir", library))
    assert "aliases-" in line and "is damaged" in line and "rebuild it with: paperlike index build" in line
    assert why in line or why == "UnicodeDecodeError"
    # The fix it names works: a build drops the damaged table (with a warning) and the index loads.
    before = {k: v for k, v in tree_snapshot(library).items() if k.startswith("papers-")}
    exported = library.parent / "corpus.jsonl"
    exported.write_bytes(next(iter(before.values())))
    assert run("index", "build", "--corpus", exported, "--index-dir", library, "-q").exit_code == 0
    assert load_index(library).aliases == ()


def test_a_manifest_naming_another_aliases_file_is_refused(library):
    merge_papers(library, [("smith-preprint", "smith2024")], embedder=HashingEmbedder())
    manifest = json.loads((library / MANIFEST).read_text())
    manifest["files"]["aliases"]["name"] = "../../etc/passwd"
    (library / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="missing or invalid fields: files.aliases"):
        load_index(library)


def test_hostile_titles_and_ids_are_stored_exactly_and_printed_escaped(tmp_path):
    evil_id = "evil'; $(rm -rf ~)"
    kept = Paper(evil_id, "A title \x1b[31mred\x1b[0m\nwith a newline \u202e and more", "Same words.", doi="10.1/e", venue="J")
    gone = Paper("plain", "Other \x1b]8;;http://x\x07title\x1b]8;;\x07 of the same text", "Same words.")
    directory = _build(tmp_path / "i", [gone, kept, *OTHERS[:2]])
    result = run("dupes", "--merge", "--pair", "plain", evil_id, "--index-dir", directory)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\\x1b" in result.output and evil_id in result.output
    (alias,) = load_index(directory).aliases
    assert (alias.id, alias.title, alias.into) == ("plain", gone.title, evil_id)
    rec = Recommender.load(directory)
    assert rec.paper(gone.title).id == evil_id  # its whole title names the kept paper
    result = run("similar", "plain", "--index-dir", directory)
    assert result.exit_code == 0 and "\x1b" not in result.output


def test_two_identical_papers_merge_into_an_index_of_one(tmp_path):
    same = [Paper("a", "One paper twice over here", "Text."), Paper("b", "One paper twice over here", "Text.")]
    directory = _build(tmp_path / "i", same)
    report = merge_papers(directory)
    assert [(m.into, m.merged, m.score) for m in report.merges] == [("a", ["b"], pytest.approx(1.0, abs=1e-5))]
    rec = Recommender.load(directory)
    assert rec.index.ids == ["a"] and rec.paper("b").id == "a" and rec.similar("b") == []
