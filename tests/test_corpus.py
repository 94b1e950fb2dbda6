from __future__ import annotations

import json
import re

import pytest

from conftest import SHARED_SEED, write_jsonl
from paperlike.errors import CorpusError
from paperlike.readers import assign_ids, bundled_corpus, read_corpus, read_daily_papers, read_jsonl
from paperlike.records import Paper
from paperlike.text import slugify

SEED_TITLES_SAMPLE = {
    0: "AutoDistil: Few-shot Task-agnostic Neural Architecture Search for Distilling Large Language Models",
    1: "Multistain Pretraining for Slide Representation Learning in Pathology",
    26: "Language Models are Few-Shot Learners",
    51: "Knowledge Infused Decoding",
    74: "Twin-Merging: Dynamic Integration of Modular Expertise in Model Merging",
}


def test_bundled_corpus_has_all_75_seed_papers():
    corpus = bundled_corpus()
    assert len(corpus) == 75
    for position, title in SEED_TITLES_SAMPLE.items():
        assert corpus.papers[position].title == title
    # None merged or split: titles are short, abstracts are paragraphs.
    assert max(len(p.title) for p in corpus.papers) < 200
    assert min(len(p.abstract) for p in corpus.papers) > 300
    assert corpus.notes == []


def test_bundled_titles_match_an_independent_reading_of_the_page():
    text = bundled_corpus_text()
    nonblank = [line.strip() for line in text.splitlines() if line.strip()]
    # 6 header lines, then title / abstract alternate.
    assert nonblank[:6] == [
        "new",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
        "Jul 29",
    ]
    expected = list(zip(nonblank[6::2], nonblank[7::2]))
    got = [(p.title, p.abstract) for p in bundled_corpus().papers]
    assert got == expected


def bundled_corpus_text() -> str:
    from importlib import resources

    return resources.files("paperlike").joinpath("data/daily_papers_seed.txt").read_text(encoding="utf-8")


@pytest.mark.skipif(not SHARED_SEED.exists(), reason="../shared/seed is not beside this checkout")
def test_bundled_copy_is_the_shared_seed():
    assert bundled_corpus_text() == SHARED_SEED.read_text(encoding="utf-8")
    assert [p.title for p in read_corpus(SHARED_SEED).papers] == [p.title for p in bundled_corpus().papers]


def test_ids_are_unique_short_shell_friendly_and_stable():
    first = [p.id for p in bundled_corpus().papers]
    assert len(set(first)) == 75
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) and len(i) <= 40 for i in first)
    assert first == [p.id for p in bundled_corpus().papers]
    assert first[0] == "autodistil"


@pytest.mark.parametrize(
    "title, slug",
    [
        ("AutoDistil: Few-shot Task-agnostic NAS", "autodistil"),
        ("ERNIE 3.0: Large-scale Knowledge", "ernie-3-0"),
        ("Knowledge Infused Decoding", "knowledge-infused-decoding"),
        ("Don't Stop Pretraining? Make Prompt-based Fine-tuning Powerful", "dont-stop-pretraining-make-prompt-based"),
        ("TÜLU 3: Pushing Frontiers", "tulu-3"),
        ("Learning to Route Among Specialized Experts for Zero-Shot", "learning-to-route-among-specialized"),
        ("深度学习", ""),
    ],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_generated_ids_never_clash():
    papers = [
        Paper("", "Same Title", "a"),
        Paper("same-title-2", "Other", "b"),
        Paper("", "Same Title", "c"),
        Paper("", "深度学习", "d"),
    ]
    ids = [p.id for p in assign_ids(papers, ["l1", "l2", "l3", "l4"])]
    assert ids[:3] == ["same-title", "same-title-2", "same-title-3"]
    assert ids[3].startswith("paper-") and len(set(ids)) == 4


def test_jsonl_reader_fields(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {
                "id": "x1",
                "title": "  A   title ",
                "abstract": "Some\nabstract.",
                "authors": "Ann Lee, Bo Chen",
                "year": "2021",
                "url": "https://e.org/1",
                "arxiv_id": "2101.00001",
                "doi": "10.1/x",
                "extra": 1,
            },
            "",
            {"title": "Second paper", "abstract": "Text two.", "authors": ["C D"], "year": 2020},
        ],
    )
    corpus = read_jsonl(path)
    a, b = corpus.papers
    assert (a.id, a.title, a.abstract, a.authors, a.year) == ("x1", "A title", "Some abstract.", ("Ann Lee", "Bo Chen"), 2021)
    assert (a.url, a.arxiv_id, a.doi, a.source) == ("https://e.org/1", "2101.00001", "10.1/x", str(path))
    assert (b.id, b.authors, b.year) == ("second-paper", ("C D",), 2020)
    assert a.text == "A title. Some abstract."
    assert Paper.from_dict(a.to_dict()) == a


def test_empty_abstract_is_indexed_on_title_with_one_note(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"title": "Only a title", "abstract": "  "}, {"title": "T2"}])
    corpus = read_corpus(path)
    assert [p.text for p in corpus.papers] == ["Only a title", "T2"]
    assert len(corpus.notes) == 1 and "2 paper(s) have an empty abstract" in corpus.notes[0]
    assert f"{path}:1" in corpus.notes[0]


def test_format_detection(tmp_path):
    daily = tmp_path / "page.data"
    daily.write_text("Daily Papers\n\nA Title\n\nIts abstract.\n", encoding="utf-8")
    assert read_corpus(daily).papers[0].title == "A Title"
    js = tmp_path / "dump.data"
    write_jsonl(js, [{"title": "T", "abstract": "A"}])
    assert read_corpus(js).papers[0].title == "T"
    assert read_corpus(js, "jsonl").papers[0].title == "T"


@pytest.mark.parametrize(
    "name, content, fmt, expected",
    [
        ("missing.jsonl", None, None, "corpus file not found"),
        ("empty.jsonl", "", None, "the file is empty"),
        ("blank.txt", "\n \n", None, "the file is empty"),
        ("bad.jsonl", '{"title": "ok", "abstract": "x"}\n{"title": broken\n', None, "bad.jsonl:2: not valid JSON"),
        ("list.jsonl", "[1, 2]\n", None, "list.jsonl:1: expected a JSON object"),
        ("notitle.jsonl", '{"abstract": "x"}\n', None, "notitle.jsonl:1: paper has no title"),
        ("dupe.jsonl", '{"id": "a", "title": "T1"}\n{"id": "a", "title": "T2"}\n', None, "duplicate ids in corpus: 'a'"),
        ("year.jsonl", '{"title": "T", "year": "soon"}\n', None, "'year' must be a year such as 2024, got 'soon'"),
        (
            "odd.txt",
            "Daily Papers\n\nTitle one\n\nAbstract one.\n\nDangling title\n",
            None,
            "odd.txt:7: title without an abstract",
        ),
        ("header.txt", "New\n\nSubscribe\n\nDaily Papers\n", None, "no papers found"),
        ("long.txt", "T\n\n" + "x" * 500 + "\n\n" + "y" * 500 + "\n\nz\n", None, "long.txt:5: expected a title but found"),
        ("x.jsonl", '{"title": "T"}\n', "word", "unknown corpus format 'word'"),
        ("latin1.jsonl", b'{"title": "ok"}\n{"title": "caf\xe9"}\n', None, "latin1.jsonl:2: not valid UTF-8"),
    ],
)
def test_corpus_errors_name_file_line_and_fix(tmp_path, name, content, fmt, expected):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        read_corpus(path, fmt, strict=True)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_malformed_lines_are_skipped_with_a_note_unless_strict(tmp_path):
    lines = [json.dumps({"title": f"Paper number {i}", "abstract": "text"}) for i in range(10_000)]
    lines[4321] = '{"title": "broken'
    lines[777] = json.dumps({"abstract": "no title"})
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = read_corpus(path)
    assert len(corpus) == 9_998 and corpus.skipped == 2
    assert (
        corpus.notes[0]
        == f"skipped 2 malformed entries: {path}:778: paper has no title; add a non-empty 'title' field (and 1 more)"
    )
    with pytest.raises(CorpusError, match=r"big.jsonl:778: paper has no title.*--strict: nothing was written"):
        read_corpus(path, strict=True)


def test_a_file_of_only_bad_lines_is_an_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n{also not\n")
    with pytest.raises(
        CorpusError, match=r"no paper could be read from .*bad.jsonl; first problem: .*bad.jsonl:1: not valid JSON"
    ):
        read_corpus(path)


@pytest.mark.parametrize(
    "raw, year",
    [(" 2024", 2024), ("2024-05-01", 2024), ("May 1999", 1999), (2021, 2021), (2021.0, 2021), (None, None), ("", None)],
)
def test_years_are_read_whole(tmp_path, raw, year):
    path = write_jsonl(tmp_path / "y.jsonl", [{"title": "T", "year": raw}])
    assert read_corpus(path).papers[0].year == year


@pytest.mark.parametrize("raw", [12345, "soon", True, "12345"])
def test_impossible_years_are_refused(tmp_path, raw):
    path = write_jsonl(tmp_path / "y.jsonl", [{"title": "T", "year": raw}])
    with pytest.raises(CorpusError, match="'year' must be a year such as 2024"):
        read_corpus(path, strict=True)


def test_line_separators_inside_json_strings_are_text(tmp_path):
    path = tmp_path / "ls.jsonl"
    path.write_text(json.dumps({"title": "A\u2028B", "abstract": "x\u2029y"}, ensure_ascii=False) + "\n", encoding="utf-8")
    paper = read_corpus(path, strict=True).papers[0]
    assert (paper.title, paper.abstract) == ("A B", "x y")


def test_huge_integers_are_a_skipped_line_not_a_crash(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text('{"title": "ok"}\n{"title": "x", "year": ' + "9" * 5000 + "}\n", encoding="utf-8")
    corpus = read_corpus(path)
    assert len(corpus) == 1 and corpus.skipped == 1 and "not usable JSON" in corpus.notes[0]


def test_directory_is_not_a_corpus(tmp_path):
    with pytest.raises(CorpusError, match="is a directory"):
        read_corpus(tmp_path)


def test_daily_reader_accepts_windows_line_endings(tmp_path):
    path = tmp_path / "page.txt"
    path.write_bytes(b"Daily Papers\r\n\r\nJul 29\r\n\r\nA Title\r\n\r\nAbstract text.\r\n")
    corpus = read_daily_papers(path)
    assert [(p.title, p.abstract) for p in corpus.papers] == [("A Title", "Abstract text.")]
