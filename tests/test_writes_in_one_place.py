"""Derived files (the BM25 / TF-IDF arrays, theme sets) are written through one path,
``storage.writer.write_derived``: under the writer lock, only while their generation is live,
never by a query waiting on a build, never into a removed index."""

from __future__ import annotations

import logging
import shutil
import threading

import paperlike.storage.lexical as lexical_files
import paperlike.storage.themes as theme_files
from paperlike.service import Recommender
from paperlike.storage.lock import holds_writer_lock, writer_lock
from paperlike.storage.writer import write_derived


def _lexical_folders(directory):
    return sorted(p.name for p in directory.glob("lexical-*"))


def _fresh(directory):
    for folder in directory.glob("lexical-*"):
        shutil.rmtree(folder)
    shutil.rmtree(directory / "themes", ignore_errors=True)


def test_bm25_and_themes_are_written_under_the_writer_lock(hash_index_copy, monkeypatch):
    _fresh(hash_index_copy)
    seen: list[str] = []
    save_lexical, save_themes = lexical_files.save_lexical, theme_files.save_themes

    def lexical_spy(lex, target):
        seen.append(f"lexical locked={holds_writer_lock(hash_index_copy)}")
        return save_lexical(lex, target)

    def themes_spy(index_dir, key, result):
        seen.append(f"themes locked={holds_writer_lock(hash_index_copy)}")
        return save_themes(index_dir, key, result)

    monkeypatch.setattr("paperlike.search.lexical.save_lexical", lexical_spy)
    monkeypatch.setattr("paperlike.service.themes.save_themes", themes_spy)
    rec = Recommender.load(hash_index_copy)
    rec.similar("autodistil", k=3)
    rec.themes()
    assert seen == ["lexical locked=True", "themes locked=True"]
    assert len(_lexical_folders(hash_index_copy)) == 1 and list((hash_index_copy / "themes").glob("*.json"))


def test_a_query_does_not_wait_for_a_build_and_writes_nothing_meanwhile(hash_index_copy):
    _fresh(hash_index_copy)
    held, release = threading.Event(), threading.Event()

    def build():  # another command holding the writer lock (in this process: another thread)
        with writer_lock(hash_index_copy):
            held.set()
            release.wait(30)

    other = threading.Thread(target=build)
    other.start()
    try:
        held.wait(10)
        rec = Recommender.load(hash_index_copy)
        answer = [r.id for r in rec.similar("autodistil", k=5)]
        themes = rec.themes()
        assert len(answer) == 5 and len(themes.themes) >= 2
        assert _lexical_folders(hash_index_copy) == [] and not list((hash_index_copy / "themes").glob("*.json"))
    finally:
        release.set()
        other.join()
    # The next query, with the lock free, saves what it computes, and answers the same.
    again = Recommender.load(hash_index_copy)
    assert [r.id for r in again.similar("autodistil", k=5)] == answer
    assert len(_lexical_folders(hash_index_copy)) == 1


def test_nothing_is_written_for_a_retired_generation_or_a_removed_index(hash_index_copy, tmp_path):
    wrote: list[str] = []
    assert write_derived(hash_index_copy, "0" * 16, lambda: wrote.append("x")) is False  # not the live generation
    gone = tmp_path / "gone"
    gone.mkdir()
    assert write_derived(gone, "0" * 16, lambda: wrote.append("x")) is False
    assert wrote == [] and list(gone.iterdir()) == []  # not even a lock file


def test_a_damaged_saved_bm25_folder_is_replaced_under_the_lock(hash_index_copy):
    Recommender.load(hash_index_copy).lexical()
    (folder,) = hash_index_copy.glob("lexical-*")
    (folder / "vocab.json").write_text("[damaged", encoding="utf-8")
    want = [r.id for r in Recommender.load(hash_index_copy).similar("autodistil", k=5)]
    assert want and (folder / "vocab.json").read_text(encoding="utf-8") != "[damaged"
    assert [r.id for r in Recommender.load(hash_index_copy).similar("autodistil", k=5)] == want


def test_a_read_only_folder_still_answers(hash_index_copy, monkeypatch, caplog):
    _fresh(hash_index_copy)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("paperlike.storage.writer.store.writer_lock", refuse)
    monkeypatch.setattr(logging.getLogger("paperlike"), "propagate", True)  # a CLI test may have turned it off
    rec = Recommender.load(hash_index_copy)
    with caplog.at_level(logging.WARNING, logger="paperlike"):
        assert len(rec.similar("autodistil", k=3)) == 3
    assert _lexical_folders(hash_index_copy) == []
    assert "BM25 index not saved" in caplog.text


def test_save_false_builds_in_memory_only(hash_index_copy):
    _fresh(hash_index_copy)
    lex = Recommender.load(hash_index_copy).lexical(save=False)
    assert lex.count == 75 and _lexical_folders(hash_index_copy) == []


def _count_record_reads(monkeypatch) -> list[int]:
    from paperlike.storage.index import PaperIndex

    reads: list[int] = []
    real = PaperIndex.papers

    def counted(self):
        papers = real(self)
        reads.append(len(papers))
        return papers

    monkeypatch.setattr(PaperIndex, "papers", counted)
    return reads


def test_add_remove_and_merge_read_the_records_once(hash_index_copy, monkeypatch, tmp_path):
    from paperlike.readers import read_corpus
    from paperlike.service import add_papers, merge_papers, remove_papers

    new = tmp_path / "new.jsonl"
    new.write_text(
        '{"id": "n1", "title": "Sparse attention for long documents", "abstract": "We study sparse attention."}\n'
        '{"id": "n2", "title": "Sparse attention for long documents, again", "abstract": "We study sparse attention."}\n',
        encoding="utf-8",
    )
    reads = _count_record_reads(monkeypatch)
    report = add_papers(hash_index_copy, [read_corpus(new)])
    assert report.generation and reads == [75]  # before: the rebuild read all 75 again to reuse their vectors
    reads.clear()
    merged = merge_papers(hash_index_copy, pairs=[("n1", "n2")])
    assert merged.generation and reads == [77]
    reads.clear()
    assert remove_papers(hash_index_copy, ["n1"]) == ["n1"] and reads == [76]
