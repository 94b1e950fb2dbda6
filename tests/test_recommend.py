from __future__ import annotations

import pytest

from paperlike.embedding import HashingEmbedder
from paperlike.errors import AmbiguousQueryError, IndexMissingError, QueryError, UnknownPaperError
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.storage.manifest import read_manifest


@pytest.fixture
def rec(hash_index_dir):
    return Recommender.load(hash_index_dir)


@pytest.mark.parametrize(
    "query",
    [
        "autodistil",
        "AutoDistil",
        "  AUTODISTIL ",
        "AutoDistil: Few-shot Task-agnostic Neural Architecture Search for Distilling Large Language Models",
        "autodistil: few-shot task-agnostic neural architecture search for distilling large language models",
        "AutoDistil: Few-shot",  # unique prefix
        "autodistl",  # typo in the id
        "AutoDistil: Few-shot Task-agnostic Neural Architecture Serch for Distilling Large Language Models",
    ],
)
def test_find_by_id_title_prefix_and_near_miss(rec, query):
    assert rec.index.ids[rec.find(query)] == "autodistil"


def test_similar_never_returns_the_query_and_is_sorted(rec):
    results = rec.similar("autodistil", k=10)
    assert len(results) == 10
    assert "autodistil" not in [r.id for r in results]
    assert [r.rank for r in results] == list(range(1, 11))
    assert all(a.score >= b.score for a, b in zip(results, results[1:]))


def test_k_larger_than_corpus_returns_every_other_paper(rec):
    results = rec.similar("autodistil", k=1000)
    assert len(results) == 74 and len({r.id for r in results}) == 74


@pytest.mark.parametrize("k", [0, -3, 2.5, True])
def test_bad_k_is_refused(rec, k):
    with pytest.raises(QueryError, match="k must be a whole number of at least 1"):
        rec.similar("autodistil", k=k)


def test_ambiguous_prefix_lists_candidates(rec):
    with pytest.raises(AmbiguousQueryError) as err:
        rec.find("Language Models")
    ids = [c[0] for c in err.value.candidates]
    assert ids == ["language-models-are-few-shot-learners", "language-models-can-solve-computer-tasks"]
    assert "--text" in str(err.value)


def test_unknown_paper_suggests_closest_titles(rec):
    with pytest.raises(UnknownPaperError) as err:
        rec.similar("autodistillation-net")
    assert err.value.suggestions[0].startswith("AutoDistil")
    assert "paperlike papers" in str(err.value)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_refused(rec, query):
    with pytest.raises(QueryError, match="empty"):
        rec.recommend(query)
    with pytest.raises(QueryError, match="empty"):
        rec.similar_to_text(query)


def test_paper_own_text_finds_it_first(rec):
    paper = rec.paper("tame")
    assert rec.similar_to_text(paper.text, k=3)[0].id == "tame"


def test_recommend_modes(rec):
    answer = rec.recommend("autodistil", k=3)
    assert (answer.kind, answer.paper_id, answer.note) == ("paper", "autodistil", None)
    text = rec.recommend("distilling a big model into a small student", k=3)
    assert text.kind == "text" and "free text" in text.note and len(text.results) == 3
    forced = rec.recommend("autodistil", k=3, kind="text")
    assert forced.kind == "text" and forced.note is None
    with pytest.raises(UnknownPaperError):
        rec.recommend("distilling a big model into a small student", kind="paper")
    word = rec.recommend("grokking", k=3)  # one word naming no paper: free text, with the note
    assert word.kind == "text" and "searched as free text" in word.note and len(word.results) == 3
    with pytest.raises(UnknownPaperError, match="no paper with arXiv id 1503.02531 in this index"):
        rec.recommend("1503.02531")  # an identifier not in the index is never searched as text
    assert {"rank", "id", "title", "score", "cosine", "why"} <= answer.to_dict()["results"][0].keys()
    assert answer.to_dict()["mode"] == "hybrid"


def test_results_are_identical_across_loads(hash_index_dir):
    first = Recommender.load(hash_index_dir).similar("tame", k=20)
    second = Recommender.load(hash_index_dir).similar("tame", k=20)
    assert first == second


def test_default_index_is_built_on_first_use_and_reused(monkeypatch, tmp_path):
    import paperlike.service.recommender as recommend

    directory = tmp_path / "data" / "index"
    monkeypatch.setattr(recommend, "default_index_dir", lambda: (directory, "user data dir"))
    rec = Recommender.load()
    assert len(rec) == 75 and rec.index_dir_reason == "user data dir"
    generation = read_manifest(directory)["generation"]
    Recommender.load()
    assert read_manifest(directory)["generation"] == generation


def test_lookups_on_the_default_index_do_not_parse_the_bundled_papers(monkeypatch, tmp_path):
    import paperlike.service.recommender as recommend

    directory = tmp_path / "index"
    monkeypatch.setattr(recommend, "default_index_dir", lambda: (directory, "user data dir"))
    Recommender.load()
    assert read_manifest(directory)["corpus"]["file_sha256"]

    def no_parsing():
        raise AssertionError("the bundled corpus was parsed on a lookup")

    import paperlike.service.build as build

    monkeypatch.setattr(build, "bundled_corpus", no_parsing)
    assert Recommender.load().similar("autodistil", k=1)


def test_users_own_index_in_the_default_dir_is_left_alone(monkeypatch, tmp_path):
    import paperlike.service.recommender as recommend

    directory = tmp_path / "index"
    build_index(Corpus([Paper("a", "Alpha", "x"), Paper("b", "Beta", "y")], "mine.jsonl"), HashingEmbedder(), directory)
    monkeypatch.setattr(recommend, "default_index_dir", lambda: (directory, "source checkout"))
    assert len(Recommender.load()) == 2


def test_env_var_index_dir_is_never_built_implicitly(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERLIKE_INDEX_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(IndexMissingError, match="paperlike index build --index-dir"):
        Recommender.load()
    assert not (tmp_path / "elsewhere").exists()


def test_one_options_record_answers_as_the_keywords_do(hash_index_copy):
    from paperlike import Recommender, SearchOptions

    rec = Recommender.load(hash_index_copy)  # a copy: themes are saved beside it
    theme = rec.themes().themes[0].id
    opts = SearchOptions(k=4, theme=theme, why=True)
    by_record = rec.answer(["autodistil"], opts)
    by_keywords = rec.ask(["autodistil"], 4, theme=theme, why=True)
    assert by_record.to_dict() == by_keywords.to_dict() and len(by_record.results) <= 4
    members = {p.id for p in rec.theme(theme).papers}
    assert {r.id for r in by_record.results} <= members
    assert opts.within is None  # the caller's record is not changed; the resolved one is a copy
    with pytest.raises(TypeError, match="SearchOptions record"):
        rec.answer(["autodistil"], {"k": 4})
    with pytest.raises(TypeError, match="frozenset of index positions"):
        SearchOptions(within={1, 2})
