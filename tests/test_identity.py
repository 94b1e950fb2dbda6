"""Identity (issue #17 §6): which records are the same paper, and what a merge keeps."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import count_example, write_jsonl
from paperlike.identity import merge_duplicates, merge_into, normalize_title
from paperlike.readers import read_corpus, read_jsonl
from paperlike.records import Paper

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


# ---- titles that differ only in non-ASCII letters are different papers -------------------------

APART = [
    ("α-Helix prediction with deep networks", "β-Helix prediction with deep networks"),
    ("Δ-learning for molecular energies at scale", "Σ-learning for molecular energies at scale"),
    ("Η μάθηση των νευρωνικών δικτύων σήμερα", "Η γνώση των νευρωνικών δικτύων σήμερα"),
    ("深度 学习 的 方法 研究", "浅层 学习 的 方法 研究"),
    ("知识 蒸馏 在 语言 模型 中 的 应用", "知识 蒸馏 在 视觉 模型 中 的 应用"),
    ("Обучение нейронных сетей без учителя", "Обучение нейронных сетей с учителем"),
    ("Łódź dataset for street scene parsing", "Lodz dataset for street scene parsing"),
    ("Ørsted wind farms under deep learning", "Orsted wind farms under deep learning"),
    ("日本語 の 文書 分類 に ついて", "中国語 の 文書 分類 に ついて"),
]


@pytest.mark.parametrize("first, second", APART)
def test_titles_differing_only_in_non_ascii_letters_are_two_papers(tmp_path, first, second):
    assert normalize_title(first) != normalize_title(second)
    path = write_jsonl(tmp_path / "t.jsonl", [{"title": first, "abstract": "a"}, {"title": second, "abstract": "b"}])
    corpus = read_corpus(path)
    assert [p.title for p in corpus.papers] == [first, second] and corpus.merged == 0
    assert len({p.id for p in corpus.papers}) == 2


@pytest.mark.parametrize("first, second", APART[:3])
def test_adding_the_other_title_to_an_index_adds_a_paper(tmp_path, hash_index_copy, first, second):
    from paperlike.embedding import HashingEmbedder
    from paperlike.service.edits import add_papers

    embedder = HashingEmbedder()
    add_papers(hash_index_copy, [read_corpus(write_jsonl(tmp_path / "a.jsonl", [{"title": first}]))], embedder=embedder)
    report = add_papers(hash_index_copy, [read_corpus(write_jsonl(tmp_path / "b.jsonl", [{"title": second}]))], embedder=embedder)
    assert report.added == 1


@pytest.mark.parametrize(
    "first, second",
    [
        ("Knowledge Distillation für kleine Modelle", "Knowledge distillation fur kleine modelle"),
        ("Modèles de langue pour le résumé", "Modeles de langue pour le resume"),
        ("ΑΛΦΑ networks for deep learning", "άλφα networks for deep learning"),  # case and accent
        ("Ｆｕｌｌ width title words here", "Full width title words here"),
    ],
)
def test_the_same_title_with_or_without_accents_or_case_is_one_paper(first, second):
    assert normalize_title(first) == normalize_title(second) is not None


# ---- sameness is transitive: union-find over keys --------------------------------------------

CHAIN = [
    {"title": "Paper known by its DOI only", "doi": "10.1/shared"},
    {"title": "A record carrying both identifiers", "doi": "https://doi.org/10.1/SHARED", "arxiv_id": "2101.00001v2"},
    {"title": "Paper known by its arXiv id only", "arxiv_id": "arXiv:2101.00001", "url": "https://e.org/c"},
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_three_record_chain_is_one_paper_in_any_order(tmp_path, order):
    records = [CHAIN[i] for i in order]
    corpus = read_corpus(write_jsonl(tmp_path / "chain.jsonl", records))
    assert len(corpus.papers) == 1 and corpus.merged == 2
    (paper,) = corpus.papers
    assert paper.title == records[0]["title"]  # the first record's text wins
    assert paper.url == "https://e.org/c" and paper.arxiv_id and paper.doi  # every field is kept


def _components(records: list[dict]) -> int:
    """Connected components of the record-key graph, counted by hand (no union-find)."""
    keys = [{(k, r[k]) for k in ("doi", "arxiv_id") if r.get(k)} for r in records]
    seen: set[int] = set()
    count = 0
    for start in range(len(records)):
        if start in seen:
            continue
        count += 1
        todo = [start]
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            todo += [j for j in range(len(records)) if j not in seen and keys[i] & keys[j]]
    return count


@SETTINGS
@given(
    links=st.lists(
        st.tuples(
            st.none() | st.sampled_from(["10.1/a", "10.1/b", "10.1/c"]),
            st.none() | st.sampled_from(["2101.00001", "2101.00002", "2101.00003"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_records_linked_by_any_chain_of_ids_are_one_paper(links):
    count_example("identity-chains")
    records = [
        {"title": f"Distinct title number {i} of this test", **({"doi": d} if d else {}), **({"arxiv_id": a} if a else {})}
        for i, (d, a) in enumerate(links)
    ]
    corpus = read_jsonl("chain.jsonl", text="\n".join(json.dumps(r) for r in records))
    assert len(corpus.papers) == _components(records)
    assert len(corpus.papers) + corpus.merged == len(records)


def test_a_title_does_not_join_records_that_contradict_each_other():
    a = Paper("", "Introduction to the special issue", doi="10.1/one")
    b = Paper("", "Introduction to the Special Issue", doi="10.1/two")
    c = Paper("", "Introduction to the special issue!", url="https://e.org/c")
    papers, _, merged = merge_duplicates([a, b, c], ["1", "2", "3"])
    assert [p.doi for p in papers] == ["10.1/one", "10.1/two"] and merged == 1
    assert papers[0].url == "https://e.org/c"


# ---- a merged duplicate keeps every field of both records --------------------------------------

FULL = Paper(
    id="later-id",
    title="Later title",
    abstract="Later abstract.",
    authors=("Later Author",),
    year=2021,
    url="https://later.example/x",
    arxiv_id="2101.00009",
    doi="10.1/later",
    source="later.bib",
    venue="Later Venue",
    entry_type="inproceedings",
    fields=(("pages", "1--2"), ("publisher", "P")),
    tags=("t1", "t2"),
    collections=("C",),
)


def test_merge_fills_every_empty_field_from_the_other_record():
    merged = merge_into(Paper("", "First title"), FULL)
    for field in dataclasses.fields(Paper):  # every field, also the ones added after this test
        if field.name != "title":
            assert getattr(merged, field.name) == getattr(FULL, field.name), field.name
    assert merged.title == "First title"


def test_merge_keeps_the_first_records_values_and_unions_lists():
    first = Paper("first", "T", url="https://first", fields=(("pages", "9"),), tags=("t2", "t0"), collections=("B",))
    merged = merge_into(first, FULL)
    assert (merged.id, merged.url) == ("first", "https://first")
    assert merged.fields == (("pages", "9"), ("publisher", "P"))
    assert merged.tags == ("t2", "t0", "t1") and merged.collections == ("B", "C")


def test_a_duplicate_read_from_one_file_fills_the_url(tmp_path):
    path = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {"title": "A paper without a link", "doi": "10.1/x"},
            {"title": "The same paper, journal version", "doi": "10.1/X", "url": "https://e.org/x", "venue": "J", "tags": ["a"]},
        ],
    )
    (paper,) = read_corpus(path).papers
    assert (paper.url, paper.venue, paper.tags) == ("https://e.org/x", "J", ("a",))
