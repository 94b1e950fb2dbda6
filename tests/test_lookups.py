"""Lookups a researcher types: DOIs, arXiv ids (any version, old style), arXiv / doi.org / other
URLs, single words that name no paper; and what a result shows (year, authors, venue, link)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import AmbiguousQueryError, UnknownPaperError
from paperlike.records import Corpus, Paper
from paperlike.search.identifiers import parse_identifier
from paperlike.service import Recommender
from paperlike.service.build import build_index

PAPERS = [
    Paper(
        "hinton-kd",
        "Distilling the Knowledge in a Neural Network",
        "A teacher network distils its knowledge into a small student network.",
        ("Geoffrey Hinton", "Oriol Vinyals", "Jeff Dean"),
        2015,
        None,
        "1503.02531v1",
        "10.48550/arXiv.1503.02531",
    ),
    Paper(
        "strings",
        "Branes and strings in ten dimensions",
        "Old-style arXiv ids name this one.",
        ("A. Physicist",),
        1999,
        None,
        "hep-th/9901001",
    ),
    Paper(
        "graphs",
        "Mining large graphs with knowledge",
        "Graph mining at scale for students of networks.",
        ("B. Miner", "C. Miner"),
        2019,
        "https://dl.acm.org/doi/10.1145/3292500.3330701",
        None,
        "10.1145/3292500.3330701",
    ),
    Paper("by-url", "A paper known by its URL", "Found on a conference site.", url="https://openreview.net/forum?id=abc123"),
    Paper(
        "arxiv-url-only",
        "Grokking beyond small data",
        "Networks generalise long after they overfit, a delayed generalisation called grokking.",
        url="http://arxiv.org/abs/2201.02177v2",
    ),
    Paper("plain", "Teacher and student knowledge transfer", "Knowledge distillation from a teacher network to a student."),
]


@pytest.fixture(scope="module")
def meta_index(tmp_path_factory):
    directory = tmp_path_factory.mktemp("meta-index")
    build_index(Corpus(list(PAPERS), "meta.jsonl"), HashingEmbedder(), directory)
    return directory


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize(
    "query, kind, value",
    [
        ("1503.02531", "arxiv", "1503.02531"),
        ("1503.02531v3", "arxiv", "1503.02531"),
        ("arXiv:1503.02531", "arxiv", "1503.02531"),
        ("hep-th/9901001", "arxiv", "hep-th/9901001"),
        ("math.GT/0309136v1", "arxiv", "math.gt/0309136"),
        ("https://arxiv.org/abs/1503.02531v2", "arxiv", "1503.02531"),
        ("arxiv.org/pdf/1503.02531.pdf", "arxiv", "1503.02531"),
        ("10.1145/3292500.3330701", "doi", "10.1145/3292500.3330701"),
        ("doi:10.1145/3292500.3330701", "doi", "10.1145/3292500.3330701"),
        ("https://doi.org/10.1145/3292500.3330701", "doi", "10.1145/3292500.3330701"),
        ("https://dx.doi.org/10.1145/ABC", "doi", "10.1145/abc"),
        ("https://www.OpenReview.net/forum?id=abc123/", "url", "openreview.net/forum?id=abc123"),
    ],
)
def test_identifier_shapes(query, kind, value):
    ident = parse_identifier(query)
    assert ident is not None and (ident.kind, ident.value) == (kind, value)


@pytest.mark.parametrize(
    "query",
    ["grokking", "GPT-4 Technical Report", "1503.02531 is a paper", "autodistil", "10.1145", "hep-th", "v2", "2024.1"],
)
def test_titles_and_words_are_not_identifiers(query):
    assert parse_identifier(query) is None


@pytest.mark.parametrize(
    "query, paper_id",
    [
        ("1503.02531", "hinton-kd"),
        ("1503.02531v7", "hinton-kd"),
        ("arXiv:1503.02531", "hinton-kd"),
        ("https://arxiv.org/abs/1503.02531", "hinton-kd"),
        ("10.48550/ARXIV.1503.02531", "hinton-kd"),
        ("https://doi.org/10.48550/arXiv.1503.02531", "hinton-kd"),
        ("hep-th/9901001", "strings"),
        ("https://arxiv.org/abs/hep-th/9901001v2", "strings"),
        ("10.1145/3292500.3330701", "graphs"),
        ("https://dl.acm.org/doi/10.1145/3292500.3330701", "graphs"),
        ("https://openreview.net/forum?id=abc123", "by-url"),
        ("2201.02177", "arxiv-url-only"),  # the arXiv id comes from the record's arxiv.org URL
    ],
)
def test_lookup_by_identifier(meta_index, query, paper_id):
    rec = Recommender.load(meta_index)
    assert rec.index.ids[rec.find(query)] == paper_id
    assert paper_id not in [r.id for r in rec.similar(query, k=3)]


def test_identifier_not_in_the_index_is_a_clear_error_without_nonsense_suggestions(meta_index):
    rec = Recommender.load(meta_index)
    for query in ("1706.03762", "10.1000/nothing", "https://arxiv.org/abs/1706.03762"):
        with pytest.raises(UnknownPaperError, match="in this index") as err:
            rec.recommend(query)
        assert err.value.suggestions == [] and "closest" not in str(err.value)
    result = run("similar", "1706.03762v5", "--index-dir", meta_index)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no paper with arXiv id 1706.03762 in this index (6 papers)")


def test_two_papers_with_one_doi_are_ambiguous(tmp_path):
    twins = [Paper("a", "First twin paper", "x", doi="10.1234/x"), Paper("b", "Second twin paper", "y", doi="10.1234/X")]
    build_index(Corpus(twins, "t.jsonl"), HashingEmbedder(), tmp_path / "i")
    with pytest.raises(AmbiguousQueryError, match="is the DOI of 2 papers"):
        Recommender.load(tmp_path / "i").find("https://doi.org/10.1234/x")


def test_id_and_title_lookups_never_read_the_full_records(meta_index, monkeypatch):
    """Records are read only for a query shaped like an identifier, and then only the lines
    that contain it are parsed (never the whole papers file)."""
    rec = Recommender.load(meta_index)
    scanned = []

    def no_parsing():
        raise AssertionError("every record was parsed")

    real_scan = rec.index.positions_matching
    monkeypatch.setattr(rec.index, "papers", no_parsing)
    monkeypatch.setattr(rec.index, "positions_matching", lambda pattern: scanned.append(pattern) or real_scan(pattern))
    assert rec.index.ids[rec.find("plain")] == "plain"
    assert rec.index.ids[rec.find("Branes and strings")] == "strings"
    assert scanned == []
    assert rec.index.ids[rec.find("HTTPS://DOI.ORG/10.1145/3292500.3330701")] == "graphs"
    assert len(scanned) == 1 and real_scan(scanned[0]) == [rec.find("graphs")]


def test_a_paper_whose_id_looks_like_an_identifier_is_found_by_id(tmp_path):
    build_index(Corpus([Paper("2401.00001", "Titled", "x"), Paper("b", "Other", "y")], "t"), HashingEmbedder(), tmp_path / "i")
    rec = Recommender.load(tmp_path / "i")
    assert rec.find("2401.00001") == 0 and rec.find("2401.00001".upper()) == 0


def test_single_word_that_names_no_paper_is_free_text_with_a_note(meta_index):
    result = run("similar", "overfit", "-k", 2, "--index-dir", meta_index)
    assert result.exit_code == 0, result.output
    assert "searched as free text" in result.stderr
    assert result.stdout.startswith("Papers like the text: overfit")
    lexical = run("similar", "overfit", "-k", 2, "--json", "--mode", "lexical", "--index-dir", meta_index)
    assert [d["id"] for d in json.loads(lexical.stdout)] == ["arxiv-url-only"]
    paper_only = run("similar", "overfit", "--paper", "--index-dir", meta_index)
    assert paper_only.exit_code == 2 and "no paper with id or title 'overfit'" in paper_only.stderr
    # A word that starts a title is free text too (a title start needs 3 words), and the note
    # names the paper it could have meant; --paper takes it as that paper.
    word = run("similar", "grokking", "--json", "--index-dir", meta_index)
    assert "query read as: free text" in word.stderr and "starts the title of arxiv-url-only" in word.stderr
    assert {d["query_kind"] for d in json.loads(word.stdout)} == {"text"}
    named = run("similar", "grokking", "--paper", "--json", "--index-dir", meta_index)
    assert "query read as: the start of the title of paper arxiv-url-only" in named.stderr
    assert "arxiv-url-only" not in [d["id"] for d in json.loads(named.stdout)]


def test_results_show_year_authors_venue_and_link_in_table_and_json(meta_index):
    table = run("similar", "plain", "-k", 6, "--index-dir", meta_index)
    assert table.exit_code == 0, table.output
    assert "Geoffrey Hinton et al. · 2015 · https://doi.org/10.48550/arXiv.1503.02531" in table.stdout
    assert "B. Miner and C. Miner · 2019 · https://dl.acm.org/doi/10.1145/3292500.3330701" in table.stdout
    assert "A. Physicist · 1999 · https://arxiv.org/abs/hep-th/9901001" in table.stdout
    rows = {r["id"]: r for r in json.loads(run("similar", "plain", "-k", 6, "--json", "--index-dir", meta_index).stdout)}
    assert rows["hinton-kd"]["year"] == 2015 and rows["hinton-kd"]["authors"] == ["Geoffrey Hinton", "Oriol Vinyals", "Jeff Dean"]
    assert rows["hinton-kd"]["link"] == "https://doi.org/10.48550/arXiv.1503.02531"
    assert rows["by-url"]["link"] == "https://openreview.net/forum?id=abc123" and rows["by-url"]["year"] is None
    assert all("venue" in r for r in rows.values())


def test_venue_is_shown_when_the_record_has_one():
    """Paper gains a venue field on another branch; results read it when present."""
    from dataclasses import dataclass

    from paperlike.records.results import Result

    @dataclass(frozen=True)
    class WithVenue(Paper):
        venue: str | None = None

    paper = WithVenue("x", "T", "a", ("Ada Lovelace",), 1843, venue="Scientific Memoirs")
    result = Result.of_paper(1, paper, 1.0)
    assert result.venue == "Scientific Memoirs" and result.to_dict()["venue"] == "Scientific Memoirs"
    assert result.byline() == "Ada Lovelace · 1843 · Scientific Memoirs"
    assert Result.of_paper(1, Paper("y", "U"), 0.5).byline() == ""


def test_diverse_output_is_in_order_of_its_mmr_column(hash_index_dir):
    # (A query whose top 8 MMR reorders; autodistil's it no longer does since hybrid fuses TF-IDF.)
    data = json.loads(run("similar", "tame", "-k", 8, "--diverse", "--json", "--index-dir", hash_index_dir).stdout)
    gains = [d["mmr"] for d in data]
    assert all(g is not None for g in gains) and gains == sorted(gains, reverse=True)
    scores = [d["score"] for d in data]
    assert scores != sorted(scores, reverse=True)  # relevance alone would have ranked them otherwise
    table = run("similar", "autodistil", "-k", 8, "--diverse", "--index-dir", hash_index_dir)
    lines = table.stdout.splitlines()
    assert "ordered by MMR gain" in lines[0] and lines[1].split()[:3] == ["rank", "mmr", "score"]
    shown = [float(line.split()[1]) for line in lines[2:] if line[:4].strip().isdigit()]
    assert shown == sorted(shown, reverse=True) and len(shown) == 8
    plain = json.loads(run("similar", "autodistil", "-k", 8, "--json", "--index-dir", hash_index_dir).stdout)
    assert all(d["mmr"] is None for d in plain)


@pytest.mark.parametrize("mode, words", [("hybrid", "standard deviations"), ("dense", "cosine"), ("lexical", "BM25")])
def test_each_mode_documents_its_score_scale(mode, words):
    from paperlike.records.results import SCORE_SCALES

    assert words in SCORE_SCALES[mode]
    help_text = " ".join(run("similar", "--help").stdout.split())
    assert "0.7 z(cosine) + 0.3 z(TF-IDF cosine)" in help_text and "dense: the model alone: score the cosine" in help_text
    assert "lexical: BM25 alone: score the BM25 score" in help_text


def test_urls_with_non_ascii_text_are_found(tmp_path):
    papers = [Paper("cafe", "Un article", "x", url="https://example.org/articles/café-ü"), Paper("b", "Other", "y")]
    build_index(Corpus(papers, "t"), HashingEmbedder(), tmp_path / "i")
    rec = Recommender.load(tmp_path / "i")
    assert rec.find("https://EXAMPLE.org/articles/café-ü/") == 0
