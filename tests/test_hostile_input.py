"""Random and hostile input to the corpus readers: every case ends in papers or a clean error."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import count_example
from paperlike.errors import CorpusError
from paperlike.identity import normalize_title
from paperlike.readers import READERS, read_corpus, read_daily_papers, read_jsonl
from paperlike.records import Paper

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

NASTY = st.sampled_from(
    [
        "\x00",
        "\x1b[31m",
        "\u202e",
        "\u200f",
        "\ufeff",
        "😀",
        "👩‍👩‍👧",
        "\ud800",
        "\udfff",
        "{",
        "}",
        '{{\\"u}',
        "\\",
        "\r",
        "\r\n",
        "\u2028",
        "\x85",
        "\t",
        " ",
        "\n\n",
        '"',
        "'",
        "<script>alert(1)</script>",
        "..",
        "/",
        "%s",
        "مرحبا",
    ]
)
HOSTILE_TEXT = st.lists(st.one_of(st.text(max_size=30), NASTY), max_size=12).map("".join)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | HOSTILE_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(HOSTILE_TEXT, children, max_size=4),
    max_leaves=12,
)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _check(corpus) -> None:
    """What every successfully read corpus must satisfy."""
    ids = [p.id for p in corpus.papers]
    assert len(ids) == len(set(ids)) and all(ids)
    for paper in corpus.papers:
        assert paper.title and not CONTROL.search(paper.title) and not CONTROL.search(paper.abstract)
        line = json.dumps(paper.to_dict(), ensure_ascii=False).encode("utf-8")  # storable as UTF-8
        assert Paper.from_dict(json.loads(line)) == paper


@SETTINGS
@given(text=st.text())
def test_jsonl_reader_on_arbitrary_text(tmp_path, text):
    count_example("jsonl-text")
    try:
        _check(read_jsonl(tmp_path / "x.jsonl", text=text))
    except CorpusError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(text=st.one_of(st.text(), st.lists(HOSTILE_TEXT, max_size=8).map("\n\n".join)))
def test_daily_reader_on_arbitrary_text(tmp_path, text):
    count_example("daily-text")
    try:
        _check(read_daily_papers(tmp_path / "x.txt", text=text))
    except CorpusError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".jsonl", ".txt", ".dat"]))
def test_read_corpus_on_arbitrary_bytes(tmp_path, data, suffix):
    count_example("bytes")
    path = tmp_path / f"corpus{suffix}"
    path.write_bytes(data)
    try:
        _check(read_corpus(path))
    except CorpusError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)


@SETTINGS
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["id", "title", "abstract", "authors", "year", "url", "doi", "arxiv_id", "source", "x"]
                + ["venue", "entry_type", "fields", "tags", "collections"]
            ),
            JSON_VALUE,
            max_size=8,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_jsonl_records_with_hostile_fields(tmp_path, records):
    count_example("jsonl-records")
    text = "\n".join(json.dumps(r) for r in records)
    try:
        corpus = read_jsonl(tmp_path / "x.jsonl", text=text)
    except CorpusError as exc:
        assert "\n" not in str(exc)
    else:
        _check(corpus)
        assert len(corpus.papers) + corpus.skipped + corpus.merged == len(records)


def _as_cleaned(text: str) -> str:
    """What the reader is expected to make of a field: controls as spaces, whitespace collapsed."""
    text = re.sub(r"[\ud800-\udfff]", "\ufffd", re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text))
    return " ".join(text.split())


@SETTINGS
@given(pairs=st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT), min_size=1, max_size=6))
def test_daily_page_of_hostile_titles_keeps_every_paper(tmp_path, pairs):
    count_example("daily-pairs")
    # "T: " keeps a title from looking like the page header; line breaks would split paragraphs.
    pairs = [("T: " + t, "A: " + a) for t, a in pairs if not re.search(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", t + a)]
    if not pairs or any(len(t) > 400 for t, _ in pairs):
        return
    text = "Daily Papers\n\n" + "\n\n".join(f"{t}\n\n{a}" for t, a in pairs) + "\n"
    corpus = read_daily_papers(tmp_path / "page.txt", text=text)
    _check(corpus)
    expected, seen = [], set()
    for t, a in pairs:  # the same title twice is the same paper: the first one stays
        key = normalize_title(_as_cleaned(t))
        if key is None or key not in seen:
            expected.append((_as_cleaned(t), _as_cleaned(a)))
        seen.add(key)
    assert [(p.title, p.abstract) for p in corpus.papers] == expected
    assert len(corpus.papers) + corpus.merged == len(pairs)


@SETTINGS
@given(
    text=st.one_of(st.text(), HOSTILE_TEXT), fmt=st.sampled_from(["bibtex", "csv", "tsv", "arxiv-atom", "arxiv-json", "csl-json"])
)
def test_every_other_reader_on_arbitrary_text(tmp_path, text, fmt):
    count_example("other-formats")
    path = tmp_path / "corpus.dat"
    try:
        _check(READERS[fmt](path, text))
    except CorpusError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(
    fields=st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT), min_size=1, max_size=4),
    braces=st.lists(st.sampled_from(["{", "}", "\\", "@", ",", '"', "%", "=", "#"]), max_size=6),
)
def test_bibtex_with_unbalanced_braces_and_hostile_fields(tmp_path, fields, braces):
    count_example("bibtex-entries")
    noise = "".join(braces)
    text = "\n".join(
        f"@article{{key{i}, title = {{{t}{noise if i == 0 else ''}}}, abstract = {{{a}}}, year = {{2020}}}}"
        for i, (t, a) in enumerate(fields)
    )
    try:
        corpus = READERS["bibtex"](tmp_path / "x.bib", text)
    except CorpusError as exc:
        assert "\n" not in str(exc)
        return
    _check(corpus)
    assert len(corpus.papers) + corpus.skipped + corpus.merged <= len(fields) + 1
