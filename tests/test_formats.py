"""Every input format, on small real-looking files (tests/fixtures) with the awkward cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, write_jsonl
from paperlike.errors import CorpusError
from paperlike.identity import identity_keys, normalize_arxiv_id, normalize_doi, normalize_title
from paperlike.readers import detect_format, read_corpus
from paperlike.records import Paper

FIX = ROOT / "tests" / "fixtures"


def _by_id(corpus):
    return {p.id: p for p in corpus.papers}


def test_bibtex_strings_accents_missing_abstracts_broken_entries_and_duplicates():
    corpus = read_corpus(FIX / "zotero.bib")
    papers = _by_id(corpus)
    assert list(papers) == ["mueller2020kd", "scholar2019", "acm2018"]
    kd = papers["mueller2020kd"]
    assert kd.title == "Knowledge Distillation für kleine Modelle"
    assert kd.authors == ("Jörg Müller", "Anna Smith") and kd.year == 2020
    assert kd.abstract == "We distil large teacher models into small students; 50% fewer parameters."
    assert kd.arxiv_id == "2001.01234v2"
    assert kd.url == "https://example.org/kd"  # merged in from the duplicate entry (same DOI)
    assert papers["scholar2019"].abstract == "" and papers["acm2018"].authors == ("Ana García",)
    assert papers["acm2018"].abstract == "Rehearsal keeps 10% of old data & mixes it in."
    assert (corpus.skipped, corpus.merged) == (1, 1)
    assert "zotero.bib:22: malformed BibTeX entry '@inproceedings{broken2021,'" in corpus.notes[0]
    with pytest.raises(CorpusError, match=r"zotero.bib:22: malformed BibTeX entry.*--strict"):
        read_corpus(FIX / "zotero.bib", strict=True)


def test_csv_zotero_export_quotes_bom_and_bad_rows():
    corpus = read_corpus(FIX / "zotero.csv")
    first, second = corpus.papers
    assert first.title == "Distilling, compressing and pruning"
    assert first.abstract == "A long abstract, with commas, and a line break inside the quotes."
    assert first.authors == ("Doe, Jane", "Roe, Rick") and first.year == 2022 and first.doi == "10.5555/dcp"
    assert second.id == "rehearsal-for-continual-learning"
    assert corpus.skipped == 2
    assert "zotero.csv:5: 10 cells for 8 columns" in corpus.notes[0]


def test_csv_columns_can_be_chosen(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text("Heading,Summary,Other\nChosen title,Chosen abstract,x\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no title column among: Heading, Summary, Other; name it with --title-col"):
        read_corpus(path)
    paper = read_corpus(path, title_col="heading", abstract_col="Summary").papers[0]
    assert (paper.title, paper.abstract) == ("Chosen title", "Chosen abstract")


def test_tsv():
    corpus = read_corpus(FIX / "sheet.tsv")
    assert [(p.title, p.abstract, p.year) for p in corpus.papers] == [
        ("Tab separated paper", "Its abstract, with a comma.", 2023),
        ("Second TSV paper", "Another abstract.", 2024),
    ]


def test_arxiv_atom():
    corpus = read_corpus(FIX / "arxiv_search.xml")
    new, old = corpus.papers
    assert new.title == "AutoDistil-like Search for Distilled Students"
    assert new.abstract == "We search student architectures for knowledge distillation."
    assert new.authors == ("Ada Lovelace", "Alan Turing") and new.year == 2022 and new.doi == "10.9999/ads.2022"
    assert new.arxiv_id == "2201.00001v3" and new.url == "http://arxiv.org/abs/2201.00001v3"
    assert old.arxiv_id == "hep-th/9901001v1" and old.abstract == "String theory & more."
    assert corpus.skipped == 1 and "(entry 3, http://arxiv.org/abs/2201.00002v1): paper has no title" in corpus.notes[0]


def test_arxiv_metadata_snapshot():
    corpus = read_corpus(FIX / "arxiv_metadata.jsonl")
    first, second = corpus.papers
    assert first.arxiv_id == "0704.0001" and first.year == 2007 and first.doi == "10.1103/PhysRevD.76.013009"
    assert first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert len(first.authors) == 4 and first.url == "https://arxiv.org/abs/0704.0001"
    assert second.year == 2022 and corpus.skipped == 1


def test_csl_json():
    corpus = read_corpus(FIX / "zotero_csl.json")
    first, second = corpus.papers
    assert first.id == "task-vectors-for-model-merging"  # a URL id is not a command-line id
    assert first.authors == ("Gabriel Ilharco", "The Team") and first.year == 2023 and first.doi == "10.1234/TV.2023"
    assert second.id == "merge2024" and second.year == 2024
    assert corpus.skipped == 2


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("a.bib", "@article{x, title={T}}", "bibtex"),
        ("a.csv", "title,abstract\nT,A\n", "csv"),
        ("a.tsv", "title\tabstract\nT\tA\n", "tsv"),
        ("a.xml", "<feed/>", "arxiv-atom"),
        ("a.jsonl", '{"title": "T"}\n', "jsonl"),
        ("a.jsonl", '{"id": "0704.0001", "title": "T", "abstract": "A", "versions": []}\n', "arxiv-json"),
        ("a.jsonl", '{"id": "mine1", "title": "T", "abstract": "A", "categories": ["graphs"], "versions": []}\n', "jsonl"),
        ("page.txt", "[Re] Reproducibility of something\n\nAbstract.\n", "daily"),
        ("a.json", '[{"id": "x", "type": "article", "title": "T"}]', "csl-json"),
        ("a.txt", "Daily Papers\n\nT\n\nA\n", "daily"),
        ("noext", "@inproceedings{x,\n title={T}}", "bibtex"),
        ("noext", "title,abstract\nT,A\n", "csv"),
        ("noext", '{"title": "T"}', "jsonl"),
        ("noext", "<?xml version='1.0'?><feed/>", "arxiv-atom"),
        ("noext", "Title\n\nAbstract paragraph.\n", "daily"),
    ],
)
def test_format_detection(name, content, expected):
    assert detect_format(Path(name), content) == expected


@pytest.mark.parametrize("content", ["one line of nothing", "\x7fELF\x02\x01\x01\n\n\x00\x00"])
def test_unknown_format_names_the_known_ones(content):
    with pytest.raises(CorpusError, match="unknown corpus format; known formats: daily, jsonl, bibtex, csv, tsv"):
        detect_format(Path("mystery.dat"), content)


@pytest.mark.parametrize(
    "raw, norm",
    [
        ("2401.01234v2", "2401.01234"),
        ("arXiv:2401.01234", "2401.01234"),
        ("https://arxiv.org/abs/2401.01234v3", "2401.01234"),
        ("hep-th/9901001v1", "hep-th/9901001"),
        ("", None),
        ("not an id", None),
    ],
)
def test_arxiv_ids(raw, norm):
    assert normalize_arxiv_id(raw) == norm


@pytest.mark.parametrize(
    "raw, norm",
    [
        ("10.1000/ABC", "10.1000/abc"),
        ("https://doi.org/10.1000/abc", "10.1000/abc"),
        ("doi:10.1000/Abc", "10.1000/abc"),
        ("http://dx.doi.org/10.1000/abc", "10.1000/abc"),
        ("nonsense", None),
    ],
)
def test_dois(raw, norm):
    assert normalize_doi(raw) == norm


def test_titles_normalise_but_short_titles_never_collide():
    assert normalize_title("Knowledge  Distillation: für Kleine-Modelle!") == "knowledge distillation fur kleine modelle"
    assert normalize_title("Introduction") is None


def test_the_same_paper_twice_is_one_paper(tmp_path):
    path = write_jsonl(
        tmp_path / "dupes.jsonl",
        [
            {"id": "first", "title": "Paper A about things", "abstract": "", "arxiv_id": "2401.01234v1"},
            {
                "title": "Paper A about things (v2)",
                "abstract": "Now with abstract.",
                "arxiv_id": "arXiv:2401.01234v2",
                "year": 2024,
            },
            {"title": "Paper B", "doi": "https://doi.org/10.1/XYZ"},
            {"id": "b-again", "title": "Paper B, journal version", "doi": "10.1/xyz", "url": "https://e.org/b"},
            {"title": "A Study Of Everything Important", "abstract": "x"},
            {"title": "a study of everything, important!", "abstract": "y", "authors": ["Z"]},
            {"title": "Paper C unrelated", "abstract": "z"},
        ],
    )
    corpus = read_corpus(path)
    # An explicit id wins over a generated one (record 4 names the paper that record 3 left unnamed).
    assert [p.id for p in corpus.papers] == ["first", "b-again", "a-study-of-everything-important", "paper-c-unrelated"]
    first, b, study, _ = corpus.papers
    assert first.abstract == "Now with abstract." and first.year == 2024 and first.title == "Paper A about things"
    assert b.url == "https://e.org/b" and study.authors == ("Z",) and study.abstract == "x"
    assert corpus.merged == 3 and any("merged 3 duplicate" in n for n in corpus.notes)


def test_latex_is_plain_text_for_embedding_but_kept_for_display():
    paper = Paper("x", r"Caf{\'e} models", r"We use {\em big} data, 50\% more, and $\alpha$-mixing.")
    assert paper.title == r"Caf{\'e} models"
    assert paper.text == "Café models. We use big data, 50% more, and $\\alpha$-mixing."
    seed = Paper("t", "TÜLU 3", r"T\"ULU 3 is open.")
    assert seed.text == "TÜLU 3. TÜLU 3 is open."


def test_identity_keys():
    paper = Paper("x", "Four word long title", doi="HTTPS://DOI.ORG/10.5/A", url="https://arxiv.org/abs/2101.00001v2")
    assert identity_keys(paper) == ["arxiv:2101.00001", "doi:10.5/a", "title:four word long title"]


def test_bibtex_identifiers_stay_raw_and_odd_years_are_dropped(tmp_path):
    path = tmp_path / "x.bib"
    path.write_text(
        "@article{a, title={Paper {\\'e} one}, year={in press}, doi={10.1000/abc_def},\n"
        "  url={https://www.cs.example.edu/~smith/paper_v2.pdf?a=1&b=50%25}}\n",
        encoding="utf-8",
    )
    paper = read_corpus(path).papers[0]
    assert paper.title == "Paper é one" and paper.year is None and paper.doi == "10.1000/abc_def"
    assert paper.url == "https://www.cs.example.edu/~smith/paper_v2.pdf?a=1&b=50%25"


@pytest.mark.parametrize(
    "authors, expected",
    [("Smith, John and Doe, Jane", ("Smith, John", "Doe, Jane")), ("A; B", ("A", "B")), ("A, B", ("A", "B"))],
)
def test_author_strings(tmp_path, authors, expected):
    path = write_jsonl(tmp_path / "a.jsonl", [{"title": "T", "authors": authors}])
    assert read_corpus(path).papers[0].authors == expected


def test_a_single_csv_author_with_a_comma_is_one_author(tmp_path):
    path = tmp_path / "z.csv"
    path.write_text('Title,Author\nA paper,"Doe, Jane"\n', encoding="utf-8")
    assert read_corpus(path).papers[0].authors == ("Doe, Jane",)


def test_latex_text_keeps_bare_ampersands_and_percents():
    assert Paper("x", "T", r"{\em Big} & small: 50% of 10\% work").text == "T. Big & small: 50% of 10% work"


FULL_RECORD = {
    "id": "p1",
    "title": "A paper with every field",
    "abstract": "Its abstract.",
    "authors": ["Ada Lovelace"],
    "year": 2024,
    "url": "https://e.org/p1",
    "arxiv_id": "2401.00001",
    "doi": "10.1/p1",
    "source": "lib.bib",
    "venue": "Proceedings of Things",
    "entry_type": "inproceedings",
    "fields": {"pages": "1--9", "publisher": "ACM"},
    "tags": ["to read"],
    "collections": ["Thesis/Chapter 2"],
}


def test_paper_records_round_trip_and_old_records_still_load():
    paper = Paper.from_dict(FULL_RECORD)
    assert paper.fields == (("pages", "1--9"), ("publisher", "ACM")) and paper.field("pages") == "1--9"
    assert paper.to_dict() == FULL_RECORD
    # A record written before these fields existed loads with their defaults, and writes back unchanged.
    old = {"id": "x", "title": "T", "abstract": "", "authors": ["A"], "year": 2020, "doi": "10.1/x"}
    assert Paper.from_dict(old).to_dict() == old
    assert (Paper.from_dict(old).venue, Paper.from_dict(old).fields, Paper.from_dict(old).tags) == (None, (), ())


@pytest.mark.parametrize(
    "bad",
    [
        {"fields": ["pages", "1"]},
        {"fields": {"pages": 3}},
        {"fields": {"Bad Name}": "x"}},
        {"tags": "a; b"},
        {"collections": [1]},
        {"entry_type": "article}, title = {x"},
        {"venue": ["x"]},
    ],
)
def test_paper_records_with_wrong_shapes_are_refused(bad):
    with pytest.raises(ValueError):
        Paper.from_dict({"id": "x", "title": "T", **bad})


def test_jsonl_reads_every_field_export_writes(tmp_path):
    path = write_jsonl(tmp_path / "full.jsonl", [FULL_RECORD])
    paper = read_corpus(path).papers[0]
    assert {**paper.to_dict(), "source": "lib.bib"} == FULL_RECORD
    messy = write_jsonl(
        tmp_path / "messy.jsonl",
        [{"title": "T", "fields": [["Volume", 3], ["bad name", "x"], ["pages", ""]], "tags": "a; b;;a", "entry_type": "Misc"}],
    )
    paper = read_corpus(messy).papers[0]
    assert (paper.fields, paper.tags, paper.entry_type) == ((("volume", "3"),), ("a", "b"), "misc")
