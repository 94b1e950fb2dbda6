"""How a query is read (issue 24, item 1), as a table of inputs and readings.

The rule (src/paperlike/search/lookup.py): a query names a paper when it is an id, DOI, arXiv id
or URL, a whole title (any case and punctuation), a close misspelling of a whole title or id, or
the start of exactly one title with at least 3 typed words; anything else is free text. The
reading is always said (stderr, ``query_kind``), and a free-text query that starts titles names
them (the other reading)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import AmbiguousQueryError, UnknownPaperError
from paperlike.records import Corpus, Paper
from paperlike.service import Recommender
from paperlike.service.build import build_index

PAPERS = [
    Paper("graph-a", "Graph Neural Networks for Speech", "Graphs over speech frames."),
    Paper("graph-b", "Graph Attention Networks", "Attention over graph neighbours."),
    Paper("neural-ner", "Neural Named Entity Recognition from Subword Units", "Entities from subwords."),
    Paper(
        "speech-sep",
        "Speech Separation with Deep Clustering",
        "Separating speakers by clustering embeddings.",
        doi="10.1145/1234.5678",
        url="https://dl.acm.org/doi/10.1145/1234.5678",
    ),
    Paper("spectral", "Spectral Clustering of Graphs", "Eigenvectors of the graph Laplacian.", arxiv_id="2101.00001"),
    Paper("kaplan", "Scaling Laws for Neural Language Models", "Loss falls as a power law.", arxiv_id="2001.08361v1"),
    Paper("deep-speech", "Deep Speech: Scaling up end-to-end speech recognition", "An RNN trained on audio."),
    Paper("sota-asr", "State-of-the-art Speech Recognition with Sequence-to-Sequence Models", "LAS models."),
    Paper("ltr-trees", "Learning to Rank with Trees", "Boosted trees rank documents."),
    Paper("ltr-nets", "Learning to Rank with Nets", "Neural nets rank documents."),
]


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reading") / "index"
    build_index(Corpus(PAPERS, "reading"), HashingEmbedder(), directory)
    return Recommender.load(directory)


# (query, kind, expected query_kind, paper the query names or None, papers named as the other reading)
TABLE = [
    # Identifiers and ids: always a lookup.
    ("neural-ner", "auto", "id", "neural-ner", []),
    ("NEURAL-NER", "auto", "id", "neural-ner", []),
    ("2001.08361", "auto", "arxiv_id", "kaplan", []),
    ("arXiv:2001.08361v2", "auto", "arxiv_id", "kaplan", []),
    ("https://arxiv.org/abs/2001.08361", "auto", "arxiv_id", "kaplan", []),
    ("10.1145/1234.5678", "auto", "doi", "speech-sep", []),
    ("https://doi.org/10.1145/1234.5678", "auto", "doi", "speech-sep", []),
    # Whole titles, in any case and punctuation.
    ("Scaling Laws for Neural Language Models", "auto", "title", "kaplan", []),
    ("scaling laws for neural language models!", "auto", "title", "kaplan", []),
    ("Deep Speech Scaling up end to end speech recognition", "auto", "title", "deep-speech", []),
    ("Graph Attention Networks", "auto", "title", "graph-b", []),
    ("Scaling Laws for Neural Langauge Models", "auto", "near_match", "kaplan", []),
    # A title start: 3 typed words or more names the paper ...
    ("Graph Neural Networks", "auto", "title_prefix", "graph-a", []),
    ("Neural Named Entity", "auto", "title_prefix", "neural-ner", []),
    ("state-of-the-art speech recognition", "auto", "title_prefix", "sota-asr", []),
    # ... fewer is free text, with the papers it starts named (the other reading).
    ("neural", "auto", "text", None, ["neural-ner"]),
    ("graph", "auto", "text", None, ["graph-a", "graph-b"]),
    ("Graph Neural", "auto", "text", None, ["graph-a"]),
    ("speech", "auto", "text", None, ["speech-sep"]),
    ("deep", "auto", "text", None, ["deep-speech"]),
    ("spectral clustering", "auto", "text", None, ["spectral"]),
    ("scaling", "auto", "text", None, ["kaplan"]),
    ("state-of-the-art", "auto", "text", None, ["sota-asr"]),  # one typed word, however many hyphens
    ("learning to", "auto", "text", None, ["ltr-nets", "ltr-trees"]),
    # Naming no paper at all: free text, nothing else to suggest.
    ("sound event detection", "auto", "text", None, []),
    ("graph neural speech", "auto", "text", None, []),
    ("gr", "auto", "text", None, []),  # too short to start a title
    # --paper: only a paper can be meant, so any unique title start names it.
    ("neural", "paper", "title_prefix", "neural-ner", []),
    ("Graph Neural", "paper", "title_prefix", "graph-a", []),
    # --text: free text whatever it names, no note.
    ("neural-ner", "text", "text", None, []),
    ("Scaling Laws for Neural Language Models", "text", "text", None, []),
]


@pytest.mark.parametrize(("query", "kind", "query_kind", "paper", "alternatives"), TABLE)
def test_reading_table(rec, query, kind, query_kind, paper, alternatives):
    answer = rec.recommend(query, k=2, kind=kind)
    assert answer.query_kind == query_kind
    assert answer.paper_id == paper
    assert sorted(pid for pid, _ in answer.alternatives) == alternatives
    assert answer.to_dict()["query_kind"] == query_kind
    if kind == "text":
        assert answer.note is None
    elif paper is None:
        assert "searched as free text" in answer.note
        assert ("To look up" in answer.note) == bool(alternatives)
        for pid in alternatives:
            assert pid in answer.note


@pytest.mark.parametrize(
    ("query", "kind", "error"),
    [
        ("Learning to Rank", "auto", AmbiguousQueryError),  # 3 words that start two titles
        ("graph", "paper", AmbiguousQueryError),
        ("sound event detection", "paper", UnknownPaperError),
        ("10.1145/9999.0000", "auto", UnknownPaperError),  # an identifier is never free text
    ],
)
def test_readings_that_are_errors(rec, query, kind, error):
    with pytest.raises(error):
        rec.recommend(query, k=2, kind=kind)


@pytest.mark.parametrize(
    ("args", "read_as", "query_kind"),
    [
        (["neural-ner"], "query read as: the id of paper neural-ner", "id"),
        (
            ["Graph Neural Networks"],
            "query read as: the start of the title of paper graph-a; to search it as free text instead, add --text",
            "title_prefix",
        ),
        (["neural"], "query read as: free text: no paper has this id or title", "text"),
        (["neural", "--text"], "query read as: free text\n", "text"),
        (["neural", "--paper"], "query read as: the start of the title of paper neural-ner", "title_prefix"),
        (["graph-a", "graph-b"], "query read as: papers graph-a, graph-b", "papers"),
    ],
)
def test_cli_says_how_the_query_was_read(rec, args, read_as, query_kind):
    index_dir = str(rec.index.directory)
    shown = CliRunner().invoke(cli, ["similar", *args, "-k", "2", "--index-dir", index_dir])
    assert shown.exit_code == 0, shown.output
    assert f"note: {read_as}" in shown.stderr
    as_json = CliRunner().invoke(cli, ["similar", *args, "-k", "2", "--json", "--index-dir", index_dir])
    rows = json.loads(as_json.stdout)
    assert rows and {row["query_kind"] for row in rows} == {query_kind}


def test_one_word_query_that_starts_a_title_suggests_the_lookup(rec):
    shown = CliRunner().invoke(cli, ["similar", "neural", "-k", "2", "--index-dir", str(rec.index.directory)])
    assert shown.stdout.startswith("Papers like the text: neural")
    assert (
        "It also starts the title of neural-ner (Neural Named Entity Recognition from Subword Units). "
        "To look up that paper, give its id or more of its title (3 words or more)"
    ) in shown.stderr


@pytest.mark.parametrize(
    ("query", "query_kind", "paper", "alternatives"),
    [
        ("autodistil", "id", "autodistil", []),
        ("AutoDistil", "id", "autodistil", []),
        ("AutoDistil: Few-shot Task-agnostic", "title_prefix", "autodistil", []),
        (
            "AutoDistil Few-shot Task-agnostic Neural Architecture Search for Distilling Large Language Models",
            "title",
            "autodistil",
            [],
        ),
        ("AutoDistil: Few-shot", "text", None, ["autodistil"]),
        ("Language Models", "text", None, ["language-models-are-few-shot-learners", "language-models-can-solve-computer-tasks"]),
        ("Language Models are", "title_prefix", "language-models-are-few-shot-learners", []),
        ("grokking", "text", None, []),
    ],
)
def test_reading_on_the_bundled_papers(hash_index_dir, query, query_kind, paper, alternatives):
    answer = Recommender.load(hash_index_dir).recommend(query, k=2)
    assert (answer.query_kind, answer.paper_id) == (query_kind, paper)
    assert sorted(pid for pid, _ in answer.alternatives) == alternatives
