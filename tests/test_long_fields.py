"""Identifier and name fields of any length (issue 23 §3): every reader field is given 1 MB of
each shape that made a pattern slow (runs of digits, dots, spaces, letters, hyphens; prefixes
repeated), and every read must finish (a generous time-out, never a timing assertion) with sane
records: an identifier over its limit is left out (with a note), author lists are capped."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT
from paperlike.identity import IDENTIFIER_LIMITS, normalize_arxiv_id, normalize_doi
from paperlike.readers import read_corpus
from paperlike.readers.base import MAX_AUTHORS, MAX_NAME_CHARS
from paperlike.service import Recommender

MB = 1_000_000
SHAPES = {
    "digits": "1" * MB,
    "dots": "." * MB,
    "spaces": "x" + " " * MB + "x",
    "letters": "a" * MB,
    "hyphens": "-" * MB,
    "digit dots": "1234." * (MB // 5),
    "arxiv prefixes": "arxiv:" * (MB // 6),
    "arxiv urls": "https://arxiv.org/abs/" * (MB // 22),
    "doi urls": "https://doi.org/10." * (MB // 19),
    "letters slash": "a/" * (MB // 2),
    "spaces before and": " " * MB + "andx",
    "and and": " and" * (MB // 4),
}
GENEROUS = 300  # seconds for a whole file of 12 MB-long values

# format -> (file suffix, the reader's fields)
FIELDS = {
    "jsonl": ("jsonl", ["id", "authors", "year", "url", "arxiv_id", "doi", "venue", "tags"]),
    "csv": ("csv", ["id", "authors", "year", "url", "arxiv_id", "doi", "venue", "tags"]),
    "bibtex": ("bib", ["author", "year", "url", "doi", "eprint", "journal", "keywords"]),
    "csl-json": ("json", ["id", "author", "issued", "URL", "DOI", "container-title", "keyword"]),
}


def _write(path: Path, fmt: str, field: str) -> Path:
    records = [(f"Paper number {i} of the {name} shape", value) for i, (name, value) in enumerate(SHAPES.items())]
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({"title": t, "abstract": "An abstract.", field: v}) + "\n" for t, v in records))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["title", "abstract", field])
        writer.writerows([t, "An abstract.", v] for t, v in records)
        path.write_text(out.getvalue())
    elif fmt == "bibtex":
        path.write_text(
            "".join(f"@article{{k{i},\n  title = {{{t}}},\n  {field} = {{{v}}}\n}}\n" for i, (t, v) in enumerate(records))
        )
    else:
        shaped = {"author": lambda v: [{"literal": v}], "issued": lambda v: {"raw": v}}
        path.write_text(json.dumps([{"title": t, "type": "article", field: shaped.get(field, str)(v)} for t, v in records]))
    return path


# Reads every file given and prints, for each, what a sane record must keep small. Run in a child
# process: a regular expression holds the interpreter while it works, so only a process can be
# timed out.
_READ_ALL = textwrap.dedent(
    """
    import json, sys
    from paperlike.identity import normalize_arxiv_id, normalize_doi
    from paperlike.readers import read_corpus
    from paperlike.search.identifiers import paper_keys, parse_identifier
    out = []
    for arg in sys.argv[2:]:
        corpus = read_corpus(arg, sys.argv[1])
        out.append({
            "papers": len(corpus.papers), "skipped": corpus.skipped,
            "ids": {k: max(len(getattr(p, k) or "") for p in corpus.papers) for k in ("id", "arxiv_id", "doi", "url")},
            "authors": max(len(p.authors) for p in corpus.papers),
            "name": max((len(a) for p in corpus.papers for a in p.authors), default=0),
            "keys": max((len(k) for p in corpus.papers for k in paper_keys(p)), default=0),
        })
    for value in json.loads(sys.stdin.read()):
        assert normalize_arxiv_id(value) is None and normalize_doi(value) is None and parse_identifier(value) is None
    print(json.dumps(out))
    """
)


def _in_time(*args: str, stdin: str = "[]") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=GENEROUS, env=env
    )  # (TimeoutExpired: still at work after GENEROUS seconds)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.parametrize("fmt", list(FIELDS))
def test_a_megabyte_in_any_field_is_read_in_time_and_sanely(tmp_path, fmt):
    suffix, fields = FIELDS[fmt]
    paths = [str(_write(tmp_path / f"{field}.{suffix}", fmt, field)) for field in fields]
    results = json.loads(_in_time("-c", _READ_ALL, fmt, *paths).stdout)
    for field, got in zip(fields, results):
        assert got["papers"] + got["skipped"] == len(SHAPES), field  # (a year that is no year skips its paper)
        assert all(got["ids"][k] <= IDENTIFIER_LIMITS[k] for k in got["ids"]), (field, got)
        assert got["authors"] <= MAX_AUTHORS and got["name"] <= MAX_NAME_CHARS, (field, got)
        assert got["keys"] <= IDENTIFIER_LIMITS["url"] + 10, (field, got)


def test_the_normalisers_take_any_length(tmp_path):
    path = _write(tmp_path / "plain.jsonl", "jsonl", "venue")
    _in_time("-c", _READ_ALL, "jsonl", str(path), stdin=json.dumps(list(SHAPES.values())))


def test_an_over_long_identifier_is_left_out_with_a_note(tmp_path):
    path = tmp_path / "papers.jsonl"
    path.write_text(
        json.dumps({"title": "A paper with a monstrous arXiv id", "arxiv_id": "a" * 60_000, "doi": "10.1/" + "1" * MB})
        + "\n"
        + json.dumps({"id": "x" * 300, "title": "A paper with a monstrous id", "url": "https://e.org/" + "a" * 3000})
        + "\n"
        + json.dumps({"title": "A paper with real ones", "arxiv_id": "hep-th/9901001v2", "doi": "10.1145/3292500.3330701"})
        + "\n"
    )
    corpus = read_corpus(path)
    long1, long2, real = corpus.papers
    assert (long1.arxiv_id, long1.doi, long2.url) == (None, None, None)
    assert long2.id == "a-paper-with-a-monstrous-id"  # a title slug, as for a paper without an id
    assert normalize_arxiv_id(real.arxiv_id) == "hep-th/9901001" and normalize_doi(real.doi) == "10.1145/3292500.3330701"
    (note,) = [n for n in corpus.notes if "longer than any real one" in n]
    assert note.startswith(f"{path}: 2 paper(s) have an id, arXiv id, DOI or URL longer than any real one; it is left out")


def test_adding_papers_with_monstrous_fields_keeps_later_adds_working(tmp_path, hash_index_copy):
    first = tmp_path / "first.jsonl"
    first.write_text(
        json.dumps({"title": "A paper with a monstrous arXiv id", "arxiv_id": "a" * MB, "authors": " " * MB + "and"})
        + "\n"
        + json.dumps({"title": "A paper whose URL is all prefixes", "url": "https://arxiv.org/abs/" * (MB // 22)})
        + "\n"
    )
    second = tmp_path / "second.jsonl"
    second.write_text(json.dumps({"title": "A later paper", "arxiv_id": "2401.01234"}) + "\n")
    for path in (first, second):
        _in_time("-m", "paperlike", "add", str(path), "--index-dir", str(hash_index_copy))
    papers = {p.title: p for p in Recommender.load(hash_index_copy).index.papers()}
    assert papers["A paper with a monstrous arXiv id"].arxiv_id is None
    assert papers["A paper whose URL is all prefixes"].url is None
    assert papers["A later paper"].arxiv_id == "2401.01234"
