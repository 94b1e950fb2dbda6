"""Daily triage that remembers: ``rank --unseen``, ``--since/--until``, and ``mark`` (liked / not
liked) steering later ``rank`` and ``similar``; the triage files are the user's data, checked on
reading and never overwritten while damaged."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import IndexCorruptError, QueryError, UnknownPaperError
from paperlike.records import Paper
from paperlike.search.marks import DISLIKE_WEIGHT, LIKE_WEIGHT, nearest_cosine, steer
from paperlike.service.incoming import rank_batch
from paperlike.service.recommender import Recommender
from paperlike.service.triage import in_dates, mark_papers, marked_set, marks, split_unseen
from paperlike.storage.triage import MARKS_FILE, SEEN_FILE

NEW = [
    {
        "id": "2501.00001",
        "title": "Distilling language models into small students",
        "abstract": "We distil a large teacher into a small student model.",
        "arxiv_id": "2501.00001",
        "year": 2025,
    },
    {
        "id": "2501.00002",
        "title": "Dexterous robot hands from human videos",
        "abstract": "A robot learns manipulation from videos of human hands.",
        "arxiv_id": "2501.00002",
        "year": 2025,
    },
    {
        "id": "2301.00003",
        "title": "Migration routes of sea birds over oceans",
        "abstract": "We track albatross flights over the southern ocean.",
        "arxiv_id": "2301.00003",
        "year": 2023,
    },
    {
        "id": "undated-one",
        "title": "A survey of continual learning without dates",
        "abstract": "Continual learning methods surveyed, forgetting measured.",
    },
]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def batch(tmp_path):
    return write_jsonl(tmp_path / "today.jsonl", NEW)


def _rec(directory, **kw):
    return Recommender.load(directory, embedder=HashingEmbedder(), **kw)


def test_rank_records_what_it_showed_and_unseen_hides_it(hash_index_copy, batch):
    first = run("rank", batch, "--index-dir", hash_index_copy, "-k", "2", "--json")
    assert first.exit_code == 0, first.output
    shown = [r["id"] for r in json.loads(first.stdout)]
    again = run("rank", batch, "--index-dir", hash_index_copy, "--unseen", "--json")
    assert again.exit_code == 0, again.output
    rest = [r["id"] for r in json.loads(again.stdout)]
    assert sorted(rest + shown) == sorted(p["id"] for p in NEW) and not set(rest) & set(shown)
    assert "2 paper(s) left out: shown by an earlier rank" in again.stderr
    # Everything is now shown once; forgetting brings every paper back.
    assert json.loads(run("rank", batch, "--index-dir", hash_index_copy, "--unseen", "--json").stdout) == []
    forgot = run("marks", "--forget-seen", "--index-dir", hash_index_copy)
    assert forgot.exit_code == 0 and "forgot" in forgot.stderr
    back = run("rank", batch, "--index-dir", hash_index_copy, "--unseen", "--json", "--no-remember")
    assert len(json.loads(back.stdout)) == len(NEW)


def test_seen_is_by_identity_not_by_file_or_id(hash_index_copy):
    rec = _rec(hash_index_copy)
    shown = Paper("local-7", "Distilling language models into small students", "Other abstract text here.", arxiv_id="2501.00001")
    rank_batch(rec, [shown], why=False, remember=True)
    same_arxiv = Paper("x", "A retitled version", "Changed.", arxiv_id="arXiv:2501.00001v3")
    same_text = Paper("y", shown.title, shown.abstract)
    other = Paper("z", "Completely unrelated matters", "Nothing alike.")
    fresh, old = split_unseen(rec, [same_arxiv, same_text, other])
    assert [p.id for p in fresh] == ["z"] and [p.id for p in old] == ["x", "y"]


def test_no_remember_by_default_in_python(hash_index_copy):
    rank_batch(_rec(hash_index_copy), [Paper("a", "Some paper title here", "Abstract.")], why=False)
    assert not (hash_index_copy / SEEN_FILE).exists()


def test_dates_filter_and_its_errors(hash_index_copy, batch):
    got = run("rank", batch, "--index-dir", hash_index_copy, "--since", "2024", "--json", "--no-remember")
    assert got.exit_code == 0, got.output
    assert sorted(r["id"] for r in json.loads(got.stdout)) == ["2501.00001", "2501.00002"]
    assert "2 paper(s) left out: dated outside" in got.stderr
    upto = run("rank", batch, "--index-dir", hash_index_copy, "--until", "2023-12", "--json", "--no-remember")
    assert [r["id"] for r in json.loads(upto.stdout)] == ["2301.00003"]
    bad = run("rank", batch, "--index-dir", hash_index_copy, "--since", "last week")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert bad.stderr.count("\n") == 1 and "--since must be a year or a date" in bad.stderr


def test_date_precision_is_the_coarser_one():
    papers = [Paper("a", "t", year=2024), Paper("b", "t", fields=(("date", "2024-03-05"),)), Paper("c", "t")]
    assert in_dates(papers, since="2024-06") == [True, False, False]
    assert in_dates(papers, until="2024-03") == [True, True, False]
    assert in_dates(papers) == [True, True, True]
    with pytest.raises(QueryError):
        in_dates(papers, since="2024-6-1")


def test_marks_steer_rank_by_the_documented_formula(hash_index_copy):
    rec = _rec(hash_index_copy)
    papers = [Paper.from_dict(p) for p in NEW]
    plain = rank_batch(rec, papers, why=False, remember=True)
    assert plain.marks == (0, 0) and all(r.mark is None for r in plain)
    last = plain[-1].paper
    mark_papers(rec, [last.id], True)  # a batch paper, found among those rank showed
    mark_papers(rec, ["autodistil"], False)  # a library paper
    steered = rank_batch(rec, papers, why=False)
    assert steered.marks == (1, 1)
    assert steered[0].id == last.id and steered[0].mark is True
    emb = HashingEmbedder()
    vectors = emb.embed_batch([p.text for p in papers])
    liked = emb.embed_batch([last.text])
    disliked = rec.index.vectors_at([rec.find("autodistil")])
    base = {r.id: r.score for r in plain}
    moved = LIKE_WEIGHT * nearest_cosine(vectors, liked) - DISLIKE_WEIGHT * nearest_cosine(vectors, disliked)
    expected = {p.id: base[p.id] + m for p, m in zip(papers, moved)}
    for r in steered:
        assert r.score == pytest.approx(expected[r.id], abs=1e-5)
    unsteered = rank_batch(rec, papers, why=False, use_marks=False)
    assert [(r.id, r.score) for r in unsteered] == [(r.id, r.score) for r in plain]


def test_steer_without_marks_changes_nothing():
    scores = np.array([0.3, 0.1])
    vectors = np.eye(2, dtype=np.float32)
    empty = np.zeros((0, 2), np.float32)
    assert steer(scores, vectors, empty, empty).tolist() == scores.tolist()


def test_similar_leaves_out_papers_marked_not_liked(hash_index_copy):
    rec = _rec(hash_index_copy)
    before = [r.id for r in rec.similar("autodistil", k=5)]
    mark_papers(rec, [before[0]], False)
    after = [r.id for r in rec.similar("autodistil", k=5)]
    assert before[0] not in after and after[:4] == before[1:]
    rec.use_marks = False
    assert [r.id for r in rec.similar("autodistil", k=5)] == before
    cli_ids = [
        r["id"] for r in json.loads(run("similar", "autodistil", "--index-dir", hash_index_copy, "-k", "5", "--json").stdout)
    ]
    assert before[0] not in cli_ids


def test_mark_cli_like_dislike_clear_and_list(hash_index_copy):
    assert run("mark", "autodistil", "--index-dir", hash_index_copy).exit_code == 0
    listed = run("marks", "--index-dir", hash_index_copy, "--json")
    assert [(m["mark"], m["paper"]["id"]) for m in json.loads(listed.stdout)] == [("like", "autodistil")]
    # A new mark replaces the old one; clearing removes it.
    run("mark", "autodistil", "--dislike", "--index-dir", hash_index_copy)
    assert [m["mark"] for m in json.loads(run("marks", "--index-dir", hash_index_copy, "--json").stdout)] == ["dislike"]
    cleared = run("mark", "autodistil", "--clear", "--index-dir", hash_index_copy)
    assert "mark cleared" in cleared.output
    assert json.loads(run("marks", "--index-dir", hash_index_copy, "--json").stdout) == []


def test_an_unknown_paper_marks_nothing(hash_index_copy):
    run("mark", "autodistil", "--index-dir", hash_index_copy)
    before = (hash_index_copy / MARKS_FILE).read_bytes()
    got = run("mark", "tame", "no-such-paper-anywhere", "--index-dir", hash_index_copy)
    assert got.exit_code == 2 and "Traceback" not in got.output and "no-such-paper-anywhere" in got.stderr
    assert (hash_index_copy / MARKS_FILE).read_bytes() == before
    with pytest.raises(UnknownPaperError):
        mark_papers(_rec(hash_index_copy), ["2501.99999"], True)
    with pytest.raises(QueryError):
        mark_papers(_rec(hash_index_copy), "autodistil", True)  # a string, not a list of papers


def test_a_damaged_marks_file_is_never_overwritten(hash_index_copy, batch):
    path = hash_index_copy / MARKS_FILE
    path.write_text('{"format": "paperlike-marks", "marks": [{"mark": "like", "at": "x", "paper": {"id": 3}}]}')
    before = path.read_bytes()
    got = run("mark", "autodistil", "--index-dir", hash_index_copy)
    assert got.exit_code == 2 and "move it away" in got.stderr and path.read_bytes() == before
    with pytest.raises(IndexCorruptError):
        marks(_rec(hash_index_copy))
    # Ranking and similar go on without marks, saying why.
    ranked = run("rank", batch, "--index-dir", hash_index_copy, "--json", "--no-remember")
    assert ranked.exit_code == 0 and "marks file" in ranked.stderr
    assert run("similar", "autodistil", "--index-dir", hash_index_copy).exit_code == 0
    assert path.read_bytes() == before


def test_a_planted_link_is_refused_and_its_target_untouched(hash_index_copy, tmp_path):
    victim = tmp_path / "victim.json"
    victim.write_text("precious")
    (hash_index_copy / MARKS_FILE).symlink_to(victim)
    got = run("mark", "autodistil", "--index-dir", hash_index_copy)
    assert got.exit_code == 2 and "Traceback" not in got.output
    assert victim.read_text() == "precious"


def test_a_damaged_seen_log_starts_afresh(hash_index_copy, batch):
    (hash_index_copy / SEEN_FILE).write_text("\x00not json")
    got = run("rank", batch, "--index-dir", hash_index_copy, "--unseen", "--json")
    assert got.exit_code == 0 and len(json.loads(got.stdout)) == len(NEW)
    assert json.loads((hash_index_copy / SEEN_FILE).read_text())["format"] == "paperlike-seen"


def test_concurrent_marks_all_land(hash_index_copy):
    ids = [p.id for p in _rec(hash_index_copy).index.papers()[:8]]
    errors = []

    def one(pid):
        try:
            mark_papers(_rec(hash_index_copy), [pid], True)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(pid,)) for pid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(m.paper.id for m in marks(_rec(hash_index_copy))) == sorted(ids)


def test_hostile_titles_are_stored_as_read_and_printed_safely(hash_index_copy, tmp_path):
    hostile = {
        "id": "evil",
        "title": "Evil \x1b[31mred\x1b[0m title\nwith a newline",
        "abstract": "Text <script>alert(1)</script>.",
    }
    path = write_jsonl(tmp_path / "evil.jsonl", [hostile])
    assert run("rank", path, "--index-dir", hash_index_copy).exit_code == 0
    assert run("mark", "evil", "--dislike", "--index-dir", hash_index_copy).exit_code == 0
    listed = run("marks", "--index-dir", hash_index_copy)
    assert "\x1b" not in listed.output and listed.output.count("\n") == 1
    # The record as the reader cleaned it (control characters gone), not re-read from the file.
    stored = marks(_rec(hash_index_copy))[0].paper
    assert stored.title.startswith("Evil ") and "\x1b" not in stored.title and stored.abstract == hostile["abstract"]


def test_identical_papers_share_a_mark(hash_index_copy):
    rec = _rec(hash_index_copy)
    twin_a, twin_b = (
        Paper("a", "Twin paper about grokking dynamics", "Same text."),
        Paper("b", "Twin paper about grokking dynamics", "Same text."),
    )
    rank_batch(rec, [twin_a], why=False, remember=True)
    mark_papers(rec, ["a"], True)
    ranked = rank_batch(rec, [twin_a, twin_b], why=False)
    assert [r.mark for r in ranked] == [True, True]
    assert len(marked_set(rec)) == 1


def test_a_dislike_follows_the_paper_into_the_library_under_another_id(hash_index_copy, tmp_path):
    rec = _rec(hash_index_copy)
    batch_paper = Paper("today-3", "Sparse distillation of tiny students", "We distil students sparsely.", arxiv_id="2502.01234")
    rank_batch(rec, [batch_paper], why=False, remember=True)
    mark_papers(rec, ["2502.01234"], False)
    record = {"id": "sparse-distil", "title": batch_paper.title, "abstract": batch_paper.abstract, "arxiv_id": "2502.01234v2"}
    assert run("add", write_jsonl(tmp_path / "new.jsonl", [record]), "--index-dir", hash_index_copy).exit_code == 0
    rec = _rec(hash_index_copy)
    everything = [r.id for r in rec.similar("autodistil", k=len(rec))]
    assert "sparse-distil" not in everything and len(everything) == len(rec) - 2
    rec.use_marks = False
    assert "sparse-distil" in [r.id for r in rec.similar("autodistil", k=len(rec))]


def test_similar_no_marks_keeps_disliked_papers(hash_index_copy):
    first = json.loads(run("similar", "autodistil", "--index-dir", hash_index_copy, "-k", "3", "--json").stdout)
    top = first["results"][0]["id"] if isinstance(first, dict) else first[0]["id"]
    assert run("mark", top, "--dislike", "--index-dir", hash_index_copy).exit_code == 0
    hidden = run("similar", "autodistil", "--index-dir", hash_index_copy, "-k", "3")
    kept = run("similar", "autodistil", "--index-dir", hash_index_copy, "-k", "3", "--no-marks")
    assert f" {top} " not in hidden.stdout and f" {top} " in kept.stdout


# -- found by attacking the feature --------------------------------------------------------------


def test_a_mark_survives_a_rebuild_that_renames_its_paper(hash_index_copy, tmp_path):
    rec = _rec(hash_index_copy)
    mark_papers(rec, ["autodistil"], False)
    renamed = [{**p.to_dict(), "id": f"p{i}"} for i, p in enumerate(rec.index.papers())]
    assert (
        run(
            "index", "build", "--corpus", write_jsonl(tmp_path / "renamed.jsonl", renamed), "--index-dir", hash_index_copy, "-q"
        ).exit_code
        == 0
    )
    rec = _rec(hash_index_copy)
    gone = rec.index.ids[
        rec.find("AutoDistil: Few-shot Task-agnostic Neural Architecture Search for Distilling Large Language Models")
    ]
    assert gone not in [r.id for r in rec.similar("tame", k=len(rec))]


def test_a_shared_title_with_other_arxiv_ids_is_another_paper(hash_index_copy):
    rec = _rec(hash_index_copy)
    one = Paper("a1", "A Survey of Large Language Models", "First survey.", arxiv_id="2303.18223")
    other = Paper("b1", "A Survey of Large Language Models", "Another survey, other authors.", arxiv_id="2405.99999")
    no_ids = Paper("c1", "A Survey of Large Language Models", "The first survey, from a page without ids.")
    rank_batch(rec, [one], why=False, remember=True)
    mark_papers(rec, ["a1"], False)
    marks_by_id = {r.id: r.mark for r in rank_batch(rec, [other, no_ids], why=False)}
    assert marks_by_id == {"b1": None, "c1": False}
    fresh, shown = split_unseen(rec, [other, no_ids])
    assert [p.id for p in fresh] == ["b1"] and [p.id for p in shown] == ["c1"]


def test_a_mark_can_be_changed_after_its_paper_left_the_library(hash_index_copy):
    assert run("mark", "autodistil", "--dislike", "--index-dir", hash_index_copy).exit_code == 0
    assert run("remove", "autodistil", "--index-dir", hash_index_copy).exit_code == 0
    cleared = run("mark", "autodistil", "--clear", "--index-dir", hash_index_copy)
    assert cleared.exit_code == 0 and "mark cleared" in cleared.output
    assert json.loads(run("marks", "--index-dir", hash_index_copy, "--json").stdout) == []


def test_an_exact_title_just_shown_wins_over_a_near_miss_in_the_library(hash_index_copy):
    rec = _rec(hash_index_copy)
    near = Paper("tamer", "TAMER: Task Agnostic Continual Learning using Many Experts", "A different paper.")
    rank_batch(rec, [near], why=False, remember=True)
    [change] = mark_papers(rec, [near.title], True)
    assert change.paper.id == "tamer" and not change.in_library


def test_the_best_ranked_papers_of_a_big_batch_can_be_marked(hash_index_copy):
    from paperlike.storage.triage import MAX_SEEN_RECORDS, TriageStore

    papers = [Paper(f"n{i}", f"Paper number {i} of a long listing", f"Abstract {i}.") for i in range(MAX_SEEN_RECORDS + 5)]
    TriageStore(hash_index_copy).add_seen(papers, [[f"text:{i}"] for i in range(len(papers))], "2026-01-01T00:00:00Z")
    kept = {p.id for p in TriageStore(hash_index_copy).seen().records}
    assert "n0" in kept and f"n{len(papers) - 1}" not in kept and len(kept) == MAX_SEEN_RECORDS


def test_marked_vectors_have_their_own_cache(hash_index_copy, batch):
    from paperlike.storage.rank_cache import RANK_CACHE_DIR

    rec = _rec(hash_index_copy)
    papers = [Paper.from_dict(p) for p in NEW]
    rank_batch(rec, papers, why=False, remember=True)
    mark_papers(rec, [papers[0].id, "tame"], True)
    rank_batch(rec, papers, why=False)
    again = rank_batch(rec, papers, why=False)
    assert again.embedded == 0 and again.reused == len(papers)
    assert any(f.name.endswith("-marks.json") for f in (hash_index_copy / RANK_CACHE_DIR).iterdir())


@pytest.mark.parametrize("bad", ["2024-13", "0000", "2024-02-31", "2024-00"])
def test_dates_that_do_not_exist_are_refused(hash_index_copy, batch, bad):
    got = run("rank", batch, "--index-dir", hash_index_copy, "--since", bad)
    assert got.exit_code == 2 and "--since must be a year or a date" in got.stderr


def test_an_empty_date_range_is_refused(hash_index_copy, batch):
    got = run("rank", batch, "--index-dir", hash_index_copy, "--since", "2024-06-15", "--until", "2024-01")
    assert got.exit_code == 2 and "is before --since" in got.stderr


def test_deeply_nested_triage_files_are_damaged_files_not_crashes(hash_index_copy, batch):
    (hash_index_copy / MARKS_FILE).write_text("[" * 100_000)
    (hash_index_copy / SEEN_FILE).write_text("[" * 100_000)
    got = run("mark", "autodistil", "--index-dir", hash_index_copy)
    assert got.exit_code == 2 and "Traceback" not in got.output and "move it away" in got.stderr
    ranked = run("rank", batch, "--index-dir", hash_index_copy, "--unseen", "--json", "--no-remember")
    assert ranked.exit_code == 0 and len(json.loads(ranked.stdout)) == len(NEW)


def test_a_linked_seen_log_is_ignored_and_never_written(hash_index_copy, batch, tmp_path):
    victim = tmp_path / "elsewhere.json"
    victim.write_text("precious")
    (hash_index_copy / SEEN_FILE).symlink_to(victim)
    ranked = run("rank", batch, "--index-dir", hash_index_copy, "--unseen", "--json")
    assert ranked.exit_code == 0 and "could not be recorded" in ranked.stderr
    assert run("mark", "autodistil", "--index-dir", hash_index_copy).exit_code == 0
    assert victim.read_text() == "precious"
    linked = hash_index_copy / MARKS_FILE
    linked.unlink()
    linked.symlink_to(victim)
    got = run("marks", "--index-dir", hash_index_copy)
    assert got.exit_code == 2 and "move it away" in got.stderr and "rebuild" not in got.stderr


def test_contradicting_mark_flags_are_refused(hash_index_copy):
    got = run("mark", "autodistil", "--like", "--dislike", "--index-dir", hash_index_copy)
    assert got.exit_code == 2 and "give one of --like, --dislike and --clear" in got.stderr
    assert not (hash_index_copy / MARKS_FILE).exists()


def test_similar_says_how_many_marked_papers_it_leaves_out(hash_index_copy):
    run("mark", "tame", "--dislike", "--index-dir", hash_index_copy)
    got = run("similar", "autodistil", "--index-dir", hash_index_copy, "-k", "3")
    assert "1 paper(s) you marked not liked are left out" in got.stderr


def test_a_paper_named_twice_is_marked_once(hash_index_copy):
    got = run("mark", "autodistil", "autodistil", "--index-dir", hash_index_copy, "--json")
    assert got.exit_code == 0 and len(json.loads(got.stdout)) == 1
    assert len(json.loads(run("marks", "--index-dir", hash_index_copy, "--json").stdout)) == 1
