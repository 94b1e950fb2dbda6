"""Issue 24, item 7 (parts): DOIs inside publisher URLs; ``remove`` by DOI / arXiv id / title
through the same lookup as ``similar``; titles in messages cut at a word boundary."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import tree_snapshot
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import AmbiguousQueryError, QueryError, UnknownPaperError
from paperlike.records import Corpus, Paper
from paperlike.search.identifiers import MAX_IDENTIFIER_CHARS, Identifier, parse_identifier
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.service.edits import remove_papers
from paperlike.storage import load_index
from paperlike.text import cut_words

PUBLISHER_URLS = [
    ("https://dl.acm.org/doi/10.1145/3292500.3330701", "10.1145/3292500.3330701"),
    ("https://dl.acm.org/doi/abs/10.1145/3292500.3330701", "10.1145/3292500.3330701"),
    ("https://dl.acm.org/doi/pdf/10.1145/3292500.3330701?casa_token=abc#sec-2", "10.1145/3292500.3330701"),
    ("http://dl.acm.org/doi/fullHtml/10.1145/3292500.3330701/", "10.1145/3292500.3330701"),
    ("dl.acm.org/doi/10.1145/3292500.3330701", "10.1145/3292500.3330701"),
    ("https://link.springer.com/article/10.1007/s10994-021-05946-3", "10.1007/s10994-021-05946-3"),
    ("https://link.springer.com/chapter/10.1007/978-3-030-58452-8_13", "10.1007/978-3-030-58452-8_13"),
    ("https://link.springer.com/content/pdf/10.1007/s10994-021-05946-3.pdf", "10.1007/s10994-021-05946-3"),
    ("https://onlinelibrary.wiley.com/doi/full/10.1002/asi.24750", "10.1002/asi.24750"),
    ("https://onlinelibrary.wiley.com/doi/epdf/10.1002/ASI.24750", "10.1002/asi.24750"),
    ("https://onlinelibrary.wiley.com/doi/10.1002/asi.24750", "10.1002/asi.24750"),
    ("https://www.tandfonline.com/doi/abs/10.1080/01621459.2017.1285773", "10.1080/01621459.2017.1285773"),
    ("https://doi.org/10.1145/3292500.3330701", "10.1145/3292500.3330701"),
    ("https://www.doi.org/10.1145/3292500.3330701", "10.1145/3292500.3330701"),
    ("http://dx.doi.org/10.1145/3292500.3330701", "10.1145/3292500.3330701"),
]


@pytest.mark.parametrize(("url", "doi"), PUBLISHER_URLS)
def test_publisher_urls_name_their_doi(url, doi):
    assert parse_identifier(url) == Identifier("doi", doi)


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("https://openreview.net/forum?id=abc123", "url"),
        ("https://example.org/papers/10.1145/abc", "url"),  # a DOI-like path, but no /doi/ or Springer part
        ("https://dl.acm.org/doi/10.1145/", "url"),  # no DOI suffix
        ("https://arxiv.org/abs/2201.00001", "arxiv"),
    ],
)
def test_other_urls_are_not_dois(query, kind):
    found = parse_identifier(query)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize(
    "query",
    [
        "https://dl.acm.org/doi/10.1145/" + "a" * 100_000,
        "https://" + "/doi/" * 20_000,
        "https://x/" + "doi/" * 30_000 + "10.1",
        "10.1145/" + "x" * (MAX_IDENTIFIER_CHARS + 1),
    ],
)
def test_long_queries_are_not_identifiers(query):
    # Capped before any pattern runs: these return at once (a pasted abstract is never scanned).
    assert parse_identifier(query) is None


@pytest.mark.parametrize(
    "query",
    [
        "https://dl.acm.org/doi/10.1145/" + "a" * (MAX_IDENTIFIER_CHARS - 40),
        "https://" + "a." * 900 + "/doi/10.1/x",
        "https://x/doi/" + "abs/" * 400 + "10.1/x",
        "https://link.springer.com/article/10.1007/" + "?" * 1900,
    ],
)
def test_near_misses_under_the_cap_finish(query):
    parse_identifier(query)  # linear patterns: no backtracking blow-up (the test would hang)


PAPERS = [
    Paper("kdd", "Mining large graphs with knowledge", "Graph mining at scale.", doi="10.1145/3292500.3330701"),
    Paper(
        "acm-url-only",
        "Session-based recommendation with graphs",
        "Sessions.",
        url="https://dl.acm.org/doi/10.1145/3397271.3401319",
    ),
    Paper(
        "springer", "Learning under concept drift", "Drift.", url="https://link.springer.com/article/10.1007/s10994-021-05946-3"
    ),
    Paper("wiley", "Citation analysis of science", "Citations.", doi="10.1002/asi.24750"),
    Paper("arx", "Grokking beyond small data", "Delayed generalisation.", arxiv_id="2201.02177v2"),
    Paper("twin-a", "Deep learning for audio", "First."),
    Paper("twin-b", "Deep learning for audio", "Second, same title."),
    Paper("speech-one", "Speech enhancement with diffusion models", "Denoising."),
    Paper("speech-two", "Speech enhancement with generative adversarial networks", "GAN."),
    Paper("plain", "A plain paper about nothing in particular", "Nothing."),
]


@pytest.fixture
def index_dir(tmp_path):
    directory = tmp_path / "index"
    build_index(Corpus(PAPERS, "t"), HashingEmbedder(), directory)
    return directory


@pytest.mark.parametrize(
    ("query", "pid"),
    [
        ("https://dl.acm.org/doi/abs/10.1145/3292500.3330701", "kdd"),  # record has the DOI only
        ("https://doi.org/10.1145/3397271.3401319", "acm-url-only"),  # record has the ACM URL only
        ("10.1145/3397271.3401319", "acm-url-only"),
        ("https://link.springer.com/content/pdf/10.1007/s10994-021-05946-3.pdf", "springer"),
        ("doi:10.1007/S10994-021-05946-3", "springer"),
        ("https://onlinelibrary.wiley.com/doi/full/10.1002/asi.24750", "wiley"),
    ],
)
def test_publisher_urls_and_dois_find_papers(index_dir, query, pid):
    answer = Recommender.load(index_dir).recommend(query, k=1)
    assert (answer.paper_id, answer.query_kind) == (pid, "doi")


@pytest.mark.parametrize(
    ("names", "removed"),
    [
        (["10.1145/3292500.3330701"], ["kdd"]),
        (["https://dl.acm.org/doi/10.1145/3397271.3401319"], ["acm-url-only"]),
        (["arXiv:2201.02177v1"], ["arx"]),
        (["https://arxiv.org/abs/2201.02177"], ["arx"]),
        (["citation analysis of science"], ["wiley"]),  # whole title, any case
        (["Speech enhancement with diffusion"], ["speech-one"]),  # 3+ words starting one title
        (["plain", "A plain paper about nothing in particular"], ["plain"]),  # one paper named twice
        (["wiley", "arx"], ["wiley", "arx"]),
    ],
)
def test_remove_by_any_name_similar_takes(index_dir, names, removed):
    assert remove_papers(index_dir, names) == removed
    ids = load_index(index_dir).ids
    assert not set(removed) & set(ids) and len(ids) == len(PAPERS) - len(removed)


@pytest.mark.parametrize(
    ("names", "error", "message"),
    [
        (["Deep learning for audio"], AmbiguousQueryError, "'Deep learning for audio' names 2 papers: twin-a"),
        (["Speech enhancement with"], AmbiguousQueryError, "give the id of the one to remove; nothing was removed"),
        (["plian"], QueryError, "unknown paper id(s): plian; nothing was removed"),  # a typo is never taken
        (["Citation analysis of sciense"], QueryError, "unknown paper id(s): Citation analysis of sciense"),
        (["speech"], QueryError, "unknown paper id(s): speech"),  # one word starting two titles
        (["grokking"], QueryError, "unknown paper id(s): grokking"),  # one word starting one title
        (["kdd", "10.9999/none"], QueryError, "unknown paper id(s): 10.9999/none; nothing was removed"),
    ],
)
def test_remove_refuses_names_that_are_not_one_paper(index_dir, names, error, message):
    before = tree_snapshot(index_dir)
    with pytest.raises(error) as caught:
        remove_papers(index_dir, names)
    assert message in str(caught.value)
    assert not isinstance(caught.value, UnknownPaperError) or error is UnknownPaperError
    assert tree_snapshot(index_dir) == before


def test_cli_remove_by_doi_and_title(index_dir):
    result = CliRunner().invoke(
        cli,
        [
            "remove",
            "https://link.springer.com/article/10.1007/s10994-021-05946-3",
            "Grokking beyond small data",
            "--index-dir",
            str(index_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "removed 2: springer, arx\n"
    twins = CliRunner().invoke(cli, ["remove", "deep learning for audio", "--index-dir", str(index_dir)])
    assert twins.exit_code == 2 and "twin-a (Deep learning for audio); twin-b" in twins.stderr


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Short title", 60, "Short title"),
        (
            "AutoDistil: Few-shot Task-agnostic Neural Architecture Search for Distilling",
            60,
            "AutoDistil: Few-shot Task-agnostic Neural Architecture…",
        ),
        ("Deep Speech: Scaling up end-to-end speech recognition", 12, "Deep Speech…"),
        ("Deep Speech: Scaling up", 13, "Deep Speech…"),  # the colon before the cut is dropped too
        ("Supercalifragilisticexpialidocious models", 10, "Supercali…"),  # one long word: cut inside
        ("a b", 3, "a b"),
    ],
)
def test_cut_words(text, width, expected):
    assert cut_words(text, width) == expected
    assert len(cut_words(text, width)) <= width


def test_lookup_errors_never_cut_a_title_mid_word(hash_index_dir):
    rec = Recommender.load(hash_index_dir)
    titles = set(rec.index.titles)
    messages = []
    for query in ("autodistl-zzz", "a survey of everything", "nosuchpaper", "distillation of large models"):
        with pytest.raises(UnknownPaperError) as err:
            rec.find(query)
        messages.append(str(err.value))
    with pytest.raises(AmbiguousQueryError) as err:
        rec.find("Language Models")
    messages.append(str(err.value))
    shown = [m for message in messages for m in re.findall(r"\(([^()]*)\)", message)]
    cut = [s for s in shown if s.endswith("…")]
    assert cut, "no title was long enough to be cut"
    for s in shown:
        if s.endswith("…"):
            start = s[:-1]
            title = next(t for t in titles if t.startswith(start))
            assert title[len(start)] in " :;,-", (s, title)  # the cut falls between words
        else:
            assert s in titles
