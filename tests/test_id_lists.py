"""Files that list papers by id, DOI, URL or title, one a line (``today_ids.txt``): recognised by
the rule of :mod:`paperlike.readers.idlist`, used as the library's papers where it has them, and
an error naming the others (with the formats that would work) where papers are needed."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from conftest import ROOT
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import CorpusError, IdListError
from paperlike.readers import read_corpus
from paperlike.readers.idlist import id_list_entries
from paperlike.service.incoming import rank_batch
from paperlike.service.recommender import Recommender

SEED = ROOT / "src" / "paperlike" / "data" / "daily_papers_seed.txt"
LLM_PRUNER = "LLM-Pruner: On the Structural Pruning of Large Language Models"

# (name, file text, entries or None when it is not an id list)
TABLE = [
    ("arXiv ids", "2201.00001\n1503.02531v2\narXiv:2305.11627\n", ["2201.00001", "1503.02531v2", "arXiv:2305.11627"]),
    ("DOIs and URLs, blank lines between", "10.1145/3219819.3220000\n\nhttps://arxiv.org/abs/2201.00001\n\nhttps://doi.org/10.1/x\n",
     ["10.1145/3219819.3220000", "https://arxiv.org/abs/2201.00001", "https://doi.org/10.1/x"]),
    ("titles, one a line", f"{LLM_PRUNER}\nAutoDistil\n", [LLM_PRUNER, "AutoDistil"]),
    ("titles and ids with comments", f"# to read\n{LLM_PRUNER}\n# more\n2201.00001\n", [LLM_PRUNER, "2201.00001"]),
    ("ids with a trailing blank line", "2201.00001\n2305.11627\n\n\n", ["2201.00001", "2305.11627"]),
    ("a Daily Papers page", SEED.read_text(encoding="utf-8"), None),
    ("a page with short abstracts", "A title\n\nIts short abstract.\n\nAnother title\n\nAnother abstract.\n", None),
    ("titles separated by blank lines", f"{LLM_PRUNER}\n\nAutoDistil\n", None),
    ("a line as long as an abstract", "2201.00001\n" + "word " * 70 + "\n", None),
    ("only comments", "# nothing here\n", None),
    ("blank", "\n\n", None),
]  # fmt: skip


@pytest.mark.parametrize("name,text,entries", TABLE, ids=[t[0] for t in TABLE])
def test_the_id_list_rule(name, text, entries):
    assert id_list_entries(text) == entries


@pytest.mark.parametrize(
    "name,text,entries", [t for t in TABLE if t[2] is not None], ids=[t[0] for t in TABLE if t[2] is not None]
)
@pytest.mark.parametrize("suffix", [".txt", ".md", ""])
def test_read_corpus_refuses_an_id_list_naming_its_entries(tmp_path, name, text, entries, suffix):
    path = tmp_path / f"today_ids{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IdListError, match="by identifier or title, one per line, with no abstracts") as exc:
        read_corpus(path)
    assert exc.value.entries == entries
    assert "BibTeX" in str(exc.value) and "JSON lines with title and abstract" in str(exc.value)


def test_other_formats_are_not_read_as_id_lists(tmp_path):
    bib = tmp_path / "refs.bib"  # short lines and no blank line: still BibTeX by its extension and content
    bib.write_text("@article{a,\ntitle={A paper},\nabstract={Its abstract.}\n}\n")
    assert [p.title for p in read_corpus(bib).papers] == ["A paper"]
    page = tmp_path / "page.txt"
    shutil.copy(SEED, page)
    assert len(read_corpus(page).papers) == 75
    listed = tmp_path / "ids.txt"
    listed.write_text("2201.00001\n")
    with pytest.raises(CorpusError):  # --format daily asked: read as a page, which it is not
        read_corpus(listed, "daily")


@pytest.fixture
def lists(tmp_path):
    (tmp_path / "known.txt").write_text(f"autodistil\n{LLM_PRUNER}\n")
    (tmp_path / "mixed.txt").write_text(f"autodistil\n2401.99999\nA paper nobody indexed\n10.9999/none\n{LLM_PRUNER}\n")
    return tmp_path


def test_rank_uses_the_library_records_of_listed_papers(hash_index_dir, lists):
    rec = Recommender.load(hash_index_dir, embedder=HashingEmbedder())
    ranking = rank_batch(rec, lists / "known.txt", why=False)
    assert ranking.results == [] and [lib for _, lib in ranking.known] == ["autodistil", "llm-pruner"]
    ranking = rank_batch(rec, lists / "known.txt", why=False, include_known=True)
    assert sorted(r.id for r in ranking) == ["autodistil", "llm-pruner"]
    assert {r.vector_from for r in ranking} == {"library"}


def test_rank_and_add_name_the_entries_not_in_the_library(hash_index_copy, lists):
    for args in (["rank", lists / "mixed.txt"], ["add", lists / "mixed.txt"]):
        result = CliRunner().invoke(cli, [str(a) for a in args] + ["--index-dir", str(hash_index_copy)])
        assert result.exit_code == 2
        line = result.stderr.strip()
        assert "lists 5 paper(s)" in line and "3 of them not in the library" in line
        assert "'2401.99999', 'A paper nobody indexed', '10.9999/none'" in line and "autodistil" not in line
        assert "BibTeX (.bib)" in line and "\n" not in line


def test_add_of_listed_library_papers_changes_nothing(hash_index_copy, lists):
    result = CliRunner().invoke(cli, ["add", str(lists / "known.txt"), "--index-dir", str(hash_index_copy)])
    assert result.exit_code == 0, result.output
    assert "added 0, updated 0, unchanged 2" in result.stdout


def test_similar_ids_file_is_like_giving_the_papers(hash_index_dir, lists):
    runner = CliRunner()
    by_file = runner.invoke(cli, ["similar", "--ids-file", str(lists / "known.txt"), "--index-dir", str(hash_index_dir)])
    by_args = runner.invoke(cli, ["similar", "autodistil", "llm-pruner", "--index-dir", str(hash_index_dir)])
    assert by_file.exit_code == 0, by_file.output
    assert by_file.stdout == by_args.stdout
    missing = runner.invoke(cli, ["similar", "--ids-file", str(lists / "mixed.txt"), "--index-dir", str(hash_index_dir)])
    assert missing.exit_code == 2 and "3 of them not in the library" in missing.stderr
    assert runner.invoke(cli, ["similar", "--index-dir", str(hash_index_dir)]).exit_code == 2  # no QUERY, no file
