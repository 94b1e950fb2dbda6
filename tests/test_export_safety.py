"""Exports are injection-safe (issue #17 §4): BibTeX values never close their field or entry,
CSV cells never start a spreadsheet formula; and a .bib goes in and comes out whole (#13 §4)."""

from __future__ import annotations

import csv
import io
import re

import bibtexparser
import pytest
from bibtexparser import middlewares as mw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, count_example
from paperlike.export import export_papers, latex_encode, spreadsheet_safe
from paperlike.identity import normalize_doi
from paperlike.readers import read_corpus
from paperlike.records import Paper
from paperlike.text import clean_text, plain_text

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Characters that matter to BibTeX, LaTeX, bibtexparser or a terminal, mixed with any text.
NASTY = st.sampled_from(
    [
        "{", "}", "}}", "{{", "\\", "\\}", "\\{", "%", "&", "$", "#", "_", "~", "^", "@", ",", "=", '"', "'",
        "`", "``", "''", "--", "---", "?`", "!`", "<<", ">>", "\\\\", "\\\"u", "{\\em x}", "$\\alpha$",
        "\n@misc{evil, title={Forged}}\n", "}, title = {Forged", "}\n@article{x,", " and ", ", ", "AND",
        "\x00", "\x1b[31m", "\u202e", "ü", "é", "ß", "ø", "α", "中文", "😀", "\u2028", "\t", "\r\n", "\ufeff",
    ]
)  # fmt: skip
HOSTILE = st.lists(st.one_of(st.text(max_size=12), NASTY), max_size=10).map("".join).map(clean_text)
NONEMPTY = HOSTILE.filter(bool)
# Ids BibTeX can carry as keys (hostile ids are tested on their own below).
KEY_ID = st.from_regex(r"[A-Za-z][A-Za-z0-9_:.-]{0,15}", fullmatch=True)
# Field names the .bib reader keeps in Paper.fields (the others become the paper's own fields).
FIELD_NAMES = st.sampled_from(["volume", "number", "pages", "publisher", "note", "series", "address", "month", "isbn", "edition"])
# Tags are a comma-separated list in BibTeX: a tag holding "," or ";" splits (documented).
TAG = NONEMPTY.filter(lambda t: not re.search(r"[,;]", t))


@st.composite
def papers(draw) -> list[Paper]:
    ids = draw(st.lists(KEY_ID, min_size=1, max_size=4, unique_by=str.casefold))
    out = []
    for pid in ids:
        names = draw(st.lists(FIELD_NAMES, unique=True, max_size=4))
        out.append(
            Paper(
                id=pid,
                title=draw(NONEMPTY),
                abstract=draw(HOSTILE),
                authors=tuple(draw(st.lists(NONEMPTY, max_size=3))),
                year=draw(st.none() | st.integers(1000, 2999)),
                url=draw(st.none() | NONEMPTY),
                doi=draw(st.none() | NONEMPTY),
                arxiv_id=draw(st.none() | NONEMPTY),
                venue=draw(st.none() | NONEMPTY),
                entry_type=draw(st.none() | st.sampled_from(["article", "inproceedings", "misc", "phdthesis", "book"])),
                fields=tuple((n, draw(NONEMPTY)) for n in names),
                tags=tuple(draw(st.lists(TAG, unique=True, max_size=3))),
            )
        )
    return out


def _unbraced(value: str) -> str:
    """An identifier as read back: as written, or with braces and backslashes percent-encoded."""
    return value.replace("%5C", "\\").replace("%7B", "{").replace("%7D", "}")


def _same_identifier(read: str | None, written: str | None) -> bool:
    return read == written or (read is not None and written is not None and _unbraced(read) == written)


VENUE_NAME = {"inproceedings": "booktitle", "phdthesis": "school"}  # the others: journal


def _expected_names(paper: Paper) -> set[str]:
    """The fields an entry must have, no more: what the paper holds."""
    names = {"title"} | {name for name, _ in paper.fields}
    names |= {"author"} if paper.authors else set()
    names |= {VENUE_NAME.get(paper.entry_type or "", "journal")} if paper.venue else set()
    names |= {"year"} if paper.year is not None else set()
    names |= {"doi"} if paper.doi else set()
    names |= {"url"} if paper.url else set()
    names |= {"eprint", "archiveprefix"} if paper.arxiv_id else set()
    names |= {"keywords"} if paper.tags else set()
    return names | ({"abstract"} if paper.abstract else set())


def _entries_without_decoding(text: str):
    library = bibtexparser.parse_string(text)
    return library, {e.key: {k: f.value for k, f in e.fields_dict.items()} for e in library.entries}


@SETTINGS
@given(batch=papers())
def test_hostile_values_in_every_field_round_trip_through_bibtex(tmp_path, batch):
    count_example("bibtex-export")
    text = export_papers(batch, "bibtex")
    path = tmp_path / "out.bib"
    path.write_text(text, encoding="utf-8")
    back = read_corpus(path, "bibtex")
    # Same papers, same ids, nothing skipped, nothing merged or forged.
    assert (back.skipped, back.merged) == (0, 0)
    assert [p.id for p in back.papers] == [p.id for p in batch]
    for mine, theirs in zip(batch, back.papers):
        assert (theirs.title, theirs.abstract, theirs.authors) == (mine.title, mine.abstract, mine.authors)
        assert (theirs.venue, theirs.year, theirs.tags) == (mine.venue, mine.year, mine.tags)
        assert theirs.entry_type == (mine.entry_type or ("misc" if mine.arxiv_id or not mine.doi else "article"))
        assert len(theirs.fields) == len(mine.fields)
        for (name, value), (name_back, value_back) in zip(mine.fields, theirs.fields):
            assert name_back == name and (value_back == value or _same_identifier(value_back, value))
        assert _same_identifier(theirs.url, mine.url) and _same_identifier(theirs.arxiv_id, mine.arxiv_id)
        assert _same_identifier(theirs.doi, normalize_doi(mine.doi) or mine.doi if mine.doi else None)
    # Exporting what was read gives the same file: the export is a fixed point.
    assert export_papers(back.papers, "bibtex") == text

    # bibtexparser sees the same entries and exactly the fields written: nothing injected.
    library, raw = _entries_without_decoding(text)
    assert not library.failed_blocks and list(raw) == [p.id for p in batch]
    for paper in batch:
        assert set(raw[paper.id]) == _expected_names(paper)
    decoded = bibtexparser.parse_string(text, append_middleware=[mw.LatexDecodingMiddleware()])
    for entry, paper in zip(decoded.entries, batch):
        assert entry["title"] == paper.title
        if paper.abstract:
            assert entry["abstract"] == paper.abstract


@pytest.mark.parametrize(
    "field, value",
    [
        ("url", "https://e.org/x}, title = {Forged}, note = {x"),
        ("url", "https://e.org/}}\n@article{forged, title={Forged paper}}\n"),
        ("doi", "10.1000/x}\n@misc{evil, title={Evil}}"),
        ("arxiv_id", "2101.00001}"),
        ("title", "T}, author = {Mallory"),
        ("abstract", "a}\n}\n@misc{forged, title={Forged}}\n@comment{"),
        ("venue", "{{{"),
    ],
)
def test_a_value_cannot_inject_fields_or_entries(tmp_path, field, value):
    paper = Paper(**{"id": "victim", "title": "A real paper", field: value})
    other = Paper("next", "The next paper", "Its abstract.")
    text = export_papers([paper, other], "bibtex")
    library, raw = _entries_without_decoding(text)
    assert not library.failed_blocks and list(raw) == ["victim", "next"]
    assert "author" not in raw["victim"] and "note" not in raw["victim"]
    path = tmp_path / "x.bib"
    path.write_text(text, encoding="utf-8")
    back = read_corpus(path)
    assert [p.id for p in back.papers] == ["victim", "next"] and back.skipped == 0
    assert back.papers[0].title == paper.title


def test_keys_are_safe_unique_and_case_insensitively_distinct(tmp_path):
    hostile = ["a b", "a,b", "a{b}", 'a"b', "../../x", "Smith2020", "smith2020", "", "é", "a%b"]
    text = export_papers([Paper(pid or "x", f"Paper {i}") for i, pid in enumerate(hostile)], "bibtex")
    keys = re.findall(r"^@\w+\{([^,\n]*),$", text, re.MULTILINE)
    assert len(keys) == len(hostile) and all(re.fullmatch(r"[A-Za-z0-9_:.\-]+", k) for k in keys)
    assert len({k.casefold() for k in keys}) == len(keys)
    assert keys[5:7] == ["Smith2020", "smith2020-2"]
    path = tmp_path / "k.bib"
    path.write_text(text, encoding="utf-8")
    assert [p.id for p in read_corpus(path).papers] == keys


def test_latex_encoding_decodes_to_the_same_text():
    for text in [
        "a{b",
        "}{",
        "x}y{z",
        "back\\slash",
        "50% & $x$ ~ ^ _ #",
        "a -- b --- c",
        "``q'' ?` !`",
        "Jörg Müller ß ø α 中文 😀",
    ]:
        encoded = latex_encode(text)
        assert plain_text(encoded) == text
        depth = 0
        for ch in encoded:  # BibTeX counts every brace, escaped or not
            depth += (ch == "{") - (ch == "}")
            assert depth >= 0
        assert depth == 0


def test_author_names_bibtex_would_split_stay_one_author(tmp_path):
    paper = Paper("p", "T", authors=("Barnes and Noble", "Doe, Jane", "Ludwig van Beethoven", "Ana García"))
    path = tmp_path / "a.bib"
    path.write_text(export_papers([paper], "bibtex"), encoding="utf-8")
    assert read_corpus(path).papers[0].authors == paper.authors


# ---- a real .bib in, the same .bib out -------------------------------------------------------

SCHOLAR_BIB = r"""
@inproceedings{vaswani2017attention,
  title={Attention is all you need},
  author={Vaswani, Ashish and Shazeer, Noam and Parmar, Niki},
  booktitle={Advances in neural information processing systems},
  volume={30},
  pages={5998--6008},
  year={2017},
  publisher={Curran Associates, Inc.}
}

@article{hinton2015distilling,
  title={Distilling the knowledge in a neural network},
  author={Hinton, Geoffrey and Vinyals, Oriol and Dean, Jeff},
  journal={arXiv preprint arXiv:1503.02531},
  year={2015},
  eprint={1503.02531},
  archivePrefix={arXiv},
  primaryClass={stat.ML}
}

@phdthesis{doe2020,
  title = {A Thesis on {BERT}},
  author = {Doe, Jane},
  school = {Universit{\"a}t Heidelberg},
  year = {2020},
  month = may,
  note = {Available online},
  keywords = {distillation, transformers}
}

@book{goodfellow2016deep,
  title={Deep learning},
  author={Goodfellow, Ian and Bengio, Yoshua and Courville, Aaron},
  volume={1},
  number={2},
  year={2016},
  publisher={MIT press Cambridge},
  isbn={978-0262035613},
  address={Cambridge, MA}
}
"""


def test_a_scholar_and_zotero_bib_comes_out_with_every_field(tmp_path):
    source = tmp_path / "scholar.bib"
    source.write_text(SCHOLAR_BIB, encoding="utf-8")
    papers = read_corpus(source).papers
    attention, hinton, thesis, book = papers
    assert (attention.entry_type, attention.venue) == ("inproceedings", "Advances in neural information processing systems")
    assert attention.fields == (("volume", "30"), ("pages", "5998--6008"), ("publisher", "Curran Associates, Inc."))
    assert (hinton.arxiv_id, hinton.venue, hinton.field("primaryclass")) == (
        "1503.02531",
        "arXiv preprint arXiv:1503.02531",
        "stat.ML",
    )
    assert (thesis.venue, thesis.tags, thesis.field("month")) == (
        "Universität Heidelberg",
        ("distillation", "transformers"),
        "may",
    )
    assert book.field("isbn") == "978-0262035613" and book.venue is None

    text = export_papers(papers, "bibtex")
    out = bibtexparser.parse_string(text)
    source_lib = bibtexparser.parse_string(SCHOLAR_BIB)
    for before, after in zip(source_lib.entries, out.entries):
        assert (after.key, after.entry_type) == (before.key, before.entry_type)
        # Every field of the source is there (names are written lowercase).
        assert {k.lower() for k in before.fields_dict} == set(after.fields_dict)
    assert "  booktitle = {Advances in neural information processing systems},\n" in text
    assert "  pages = {5998--6008},\n" in text and "  month = may,\n" in text
    assert '  school = {Universit\\"at Heidelberg},\n' in text
    again = tmp_path / "again.bib"
    again.write_text(text, encoding="utf-8")
    assert [p.to_dict() | {"source": None} for p in read_corpus(again).papers] == [p.to_dict() | {"source": None} for p in papers]


def test_the_zotero_fixture_keeps_its_venue_through_export(tmp_path):
    papers = read_corpus(ROOT / "tests" / "fixtures" / "zotero.bib").papers
    text = export_papers(papers, "bibtex")
    assert "@article{mueller2020kd," in text and "journal = {Advances in Neural Information Processing Systems}" in text
    assert "@inproceedings{scholar2019," in text and "booktitle = {Proceedings of Something}" in text


# ---- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start", ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
)  # full-width = + - @ too
def test_spreadsheet_formulas_are_neutralised(start):
    assert spreadsheet_safe(start + 'HYPERLINK("http://evil")') == "'" + start + 'HYPERLINK("http://evil")'
    assert spreadsheet_safe("A title " + start) == "A title " + start  # only a leading one counts
    assert spreadsheet_safe(None) == "" and spreadsheet_safe(2020) == "2020"


def test_csv_export_has_no_cell_that_starts_a_formula():
    evil = Paper(
        "=cmd",
        '=HYPERLINK("http://evil.example","click")',
        "+SUM(1,2)",
        authors=("@attacker", "-2+3"),
        url="\tcmd|' /C calc'!A0",
        doi="-1+1",
        venue="\r=1",
        tags=("=tag",),
    )
    rows = list(csv.reader(io.StringIO(export_papers([evil, Paper("ok", "Plain title")], "csv"))))
    header, cells = rows[0], [c for row in rows[1:] for c in row]
    assert header[:9] == ["id", "title", "abstract", "authors", "year", "url", "doi", "arxiv_id", "source"]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    row = dict(zip(header, rows[1]))
    assert row["title"] == "'" + evil.title and row["authors"] == "'@attacker, -2+3" and row["tags"] == "'=tag"
    assert row["venue"] == "'=1" and row["url"] == "cmd|' /C calc'!A0"  # control characters are spaces, then trimmed
    assert dict(zip(header, rows[2]))["title"] == "Plain title"


def test_the_export_command_writes_safe_csv(tmp_path, hash_index_copy):
    from click.testing import CliRunner

    from paperlike.cli import cli
    from paperlike.embedding import HashingEmbedder
    from paperlike.service.edits import add_papers

    path = tmp_path / "evil.jsonl"
    path.write_text('{"id": "evil", "title": "=1+1", "abstract": "@SUM(A1)", "url": "-x"}\n', encoding="utf-8")
    add_papers(hash_index_copy, [read_corpus(path)], embedder=HashingEmbedder())
    result = CliRunner().invoke(cli, ["export", "--format", "csv", "--ids", "evil", "--index-dir", str(hash_index_copy)])
    assert result.exit_code == 0, result.output
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["title"], row["abstract"], row["url"]) == ("'=1+1", "'@SUM(A1)", "'-x")
    similar = CliRunner().invoke(cli, ["similar", "evil", "-k", "75", "--format", "csv", "--index-dir", str(hash_index_copy)])
    assert similar.exit_code == 0, similar.output
    rows = list(csv.reader(io.StringIO(similar.stdout)))
    assert len(rows) == 76 and not any(c.startswith(("=", "+", "-", "@")) for row in rows for c in row)
    query = CliRunner().invoke(cli, ["similar", "autodistil", "-k", "76", "--format", "csv", "--index-dir", str(hash_index_copy)])
    assert "'=1+1" in query.stdout  # the evil paper is among the results, neutralised
