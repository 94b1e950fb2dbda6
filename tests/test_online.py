"""Papers from identifiers, online (issue 24): ``--online`` fetches the arXiv ids and DOIs a library
lacks, ``rank --arxiv CATEGORY`` ranks the latest listing, answers are cached, and every failure
of the network is one line. A local server (tests/online_support.py) serves recorded answers of
the arXiv API and Crossref; no test touches the internet, and without ``--online`` nothing
connects at all."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import threading

import pytest
from click.testing import CliRunner

from online_support import FIX as FIXTURES
from online_support import fake_services, point_at
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import IdListError, OnlineError, QueryError
from paperlike.online import Online, as_online
from paperlike.online.crossref import jats_text
from paperlike.online.fetch import _retry_after
from paperlike.service.incoming import rank_batch
from paperlike.service.recommender import Recommender
from paperlike.settings import Settings
from paperlike.storage.online_cache import ResponseCache, cache_name

TODAY = [
    "# fetched online unless the library has them",
    "autodistil",
    "2401.00002",
    "https://arxiv.org/abs/2401.00017v1",
    "10.1145/3580305.3599999",  # the DOI of 2401.00017: one paper
    "doi:10.1145/3580305.3599271",
    "https://doi.org/10.1007/978-3-031-00001-2_5",
    "hep-th/9905111",
]
FETCHED_TITLES = {
    "Searching Task-Agnostic Student Architectures for Distilling Large Language Models",
    "Structured Pruning of Large Language Models Without Retraining",
    "Graph Distillation for Recommendation at Scale",
    "Knowledge Distillation Across Heterogeneous Architectures",
    "A Note on Dualities of Strings on Orbifolds",
}


@pytest.fixture
def services(monkeypatch):
    with fake_services() as (svc, base):
        point_at(monkeypatch, base)
        svc.base = base
        yield svc


@pytest.fixture
def today(tmp_path):
    path = tmp_path / "today_ids.txt"
    path.write_text("\n".join(TODAY) + "\n", encoding="utf-8")
    return path


def _run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# -- id lists ---------------------------------------------------------------------------------


def test_rank_an_id_list_fetches_what_the_library_lacks(services, today, hash_index_copy):
    result = _run("rank", today, "--online", "--index-dir", hash_index_copy, "--json")
    assert result.exit_code == 0, result.output
    ranked = json.loads(result.stdout)
    assert {r["title"] for r in ranked} == FETCHED_TITLES  # autodistil is the library's: not ranked
    assert len({r["id"] for r in ranked}) == len(ranked)
    # Every arXiv id in one request; one request per DOI (the DOI of 2401.00017 too: it was
    # listed, and only then found to be the same paper).
    assert services.count("arxiv") == 1
    assert services.count("crossref") == 3
    assert "autodistil" in result.stderr and "already in the library" in result.stderr
    assert "online: 4 request(s) sent, 0 answered from the cache" in result.stderr


def test_a_second_run_is_answered_from_the_cache(services, today, hash_index_copy):
    first = _run("rank", today, "--online", "--index-dir", hash_index_copy, "--json")
    sent = services.count()
    second = _run("rank", today, "--online", "--index-dir", hash_index_copy, "--json")
    assert second.exit_code == 0, second.output
    assert services.count() == sent  # nothing asked again
    # The same papers in the same order (their vectors now come from the rank cache: vector_from).
    assert [(r["id"], r["title"], r["score"]) for r in json.loads(second.stdout)] == [
        (r["id"], r["title"], r["score"]) for r in json.loads(first.stdout)
    ]
    assert f"online: 0 request(s) sent, {sent} answered from the cache" in second.stderr
    cache = Settings.from_env().online_cache_dir()
    assert len(list(cache.glob("*.json"))) == sent


def test_rank_batch_online_in_python(services, today, hash_index_dir):
    rec = Recommender.load(hash_index_dir, embedder=HashingEmbedder())
    online = Online()
    ranking = rank_batch(rec, today, online=online, remember=False)
    assert {r.title for r in ranking} == FETCHED_TITLES
    assert online.sent == 4
    by_title = {r.title: r.paper for r in ranking}
    graph = by_title["Graph Distillation for Recommendation at Scale"]
    assert graph.doi == "10.1145/3580305.3599271" and graph.year == 2023
    assert graph.authors == ("Hana Exemplar", "Ivo Specimen")
    assert graph.abstract.startswith("Recommendation models are retrained")  # JATS dropped, heading too
    assert "<jats" not in graph.abstract and "&amp;" not in graph.abstract
    pruning = by_title["Structured Pruning of Large Language Models Without Retraining"]
    assert pruning.arxiv_id == "2401.00017v1" and pruning.doi == "10.1145/3580305.3599999"


def test_ids_neither_in_the_library_nor_online_are_named(services, tmp_path, hash_index_dir):
    listed = tmp_path / "ids.txt"
    listed.write_text("autodistil\n2401.00002\n2401.99999\n10.9999/none\nA paper nobody indexed\n")
    rec = Recommender.load(hash_index_dir, embedder=HashingEmbedder())
    with pytest.raises(IdListError) as exc:
        rank_batch(rec, listed, online=True, remember=False)
    message = str(exc.value)
    assert "3 of the 5 listed papers are neither in the library nor found online" in message
    assert "'2401.99999' (arXiv has no paper with this id)" in message
    assert "'10.9999/none' (Crossref knows no such DOI)" in message
    assert "'A paper nobody indexed' (a title: only arXiv ids and DOIs are fetched)" in message
    result = _run("rank", listed, "--online", "--index-dir", hash_index_dir)
    assert "2401.99999" in _one_line_error(result)


def test_without_online_nothing_connects(services, today, hash_index_copy, monkeypatch):
    """The default never touches the network: the base URLs point at a closed port, and any
    connection at all fails the test (the CLI would show it as a bug, exit 1)."""
    port = _closed_port()
    monkeypatch.setenv("PAPERLIKE_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    monkeypatch.setenv("PAPERLIKE_CROSSREF_API", f"http://127.0.0.1:{port}")

    def no_network(*args, **kwargs):
        raise AssertionError("paperlike connected without --online")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    line = _one_line_error(_run("rank", today, "--index-dir", hash_index_copy))
    assert "6 of them not in the library" in line and "'2401.00002'" in line
    line = _one_line_error(_run("similar", "2401.00031", "--index-dir", hash_index_copy))
    assert line.startswith("Error: no paper with arXiv id 2401.00031 in this index")
    rec = Recommender.load(hash_index_copy, embedder=HashingEmbedder())
    with pytest.raises(IdListError):
        rank_batch(rec, today, remember=False)
    assert services.count() == 0
    assert not Settings.from_env().online_cache_dir().exists()


# -- similar ----------------------------------------------------------------------------------


def test_similar_to_an_arxiv_id_not_in_the_library(services, hash_index_dir):
    result = _run("similar", "2401.00031", "--online", "--index-dir", hash_index_dir, "-k", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Papers like: Rehearsal-Free Continual Learning with Prompt Pools [2401.00031, fetched online]"
    )
    assert "arXiv id 2401.00031 is not in the library; its record was fetched online" in result.stderr
    as_json = _run("similar", "2401.00031", "--online", "--index-dir", hash_index_dir, "-k", "3", "--json")
    rows = json.loads(as_json.stdout)
    assert len(rows) == 3 and {r["query_kind"] for r in rows} == {"online"}
    assert services.count() == 1  # the second time from the cache
    rec = Recommender.load(hash_index_dir, embedder=HashingEmbedder())
    answer = rec.ask(["2401.00031"], 3, online=True)
    assert answer.kind == "text" and answer.query_kind == "online"
    assert [r.id for r in answer.results] == [r["id"] for r in rows]
    # The same text as free text gives the same ranking: the record was searched as text.
    text = Online().papers(["2401.00031"]).papers["2401.00031"].text
    assert [r.id for r in rec.similar_to_text(text, 3)] == [r.id for r in answer.results]


def test_similar_to_a_doi_and_to_a_paper_the_library_has_by_title(services, hash_index_dir):
    result = _run("similar", "https://doi.org/10.1145/3580305.3599271", "--online", "--index-dir", hash_index_dir, "-k", "2")
    assert result.exit_code == 0, result.output
    assert "Graph Distillation for Recommendation at Scale" in result.stdout
    rec = Recommender.load(hash_index_dir, embedder=HashingEmbedder())
    answer = rec.ask(["arXiv:2201.99001"], 3, online=True)  # the library's autodistil, without this id
    assert answer.kind == "paper" and answer.paper_id == "autodistil"
    assert "autodistil" not in [r.id for r in answer.results]


def test_similar_online_errors(services, hash_index_dir):
    line = _one_line_error(_run("similar", "2401.99999", "--online", "--index-dir", hash_index_dir))
    assert line == (
        "Error: no paper with arXiv id 2401.99999 in this index (75 papers), and arXiv has no paper with this id; "
        "check it, or search its title as free text"
    )
    line = _one_line_error(_run("similar", "10.5555/notitle", "--online", "--index-dir", hash_index_dir))
    assert line.startswith("Error: Crossref's record of DOI 10.5555/notitle cannot be used") and "no title" in line
    for args in (["2401.00002", "2401.00017"], ["--ids-file", "x.txt"], ["autodistil", "--not", "tame"], ["x", "--text"]):
        line = _one_line_error(_run("similar", *args, "--online", "--index-dir", hash_index_dir))
        assert "--online fetches one QUERY" in line
    assert services.count() == 2  # the two single queries


def test_hostile_records_are_cleaned_and_printed_safely(services, hash_index_dir):
    result = _run("similar", "10.5555/hostile.1", "--online", "--index-dir", hash_index_dir, "-k", "2")
    assert result.exit_code == 0, result.output
    for bad in ("\x1b", "\x07", "\x00", "\u202e", "\ud800", "<b>"):
        assert bad not in result.output
    paper = Online().papers(["10.5555/hostile.1"]).papers["10.5555/hostile.1"]
    assert paper.authors == ("Shape", "Real") and paper.year is None
    assert "<jats" not in paper.abstract and "\x00" not in paper.abstract
    listing = Online().arxiv_listing("cs.LG", 10)
    hostile = next(p for p in listing.papers if p.arxiv_id == "2401.00045v3")
    assert hostile.title.startswith("<script>alert(1)</script> Attention Is Still All You Need")  # text, spaces folded
    assert hostile.authors == ("<img src=x onerror=alert(1)>",)


# -- rank --arxiv -------------------------------------------------------------------------------


def test_rank_the_latest_listing_of_a_category(services, hash_index_copy):
    result = _run("rank", "--arxiv", "cs.LG", "--latest", "3", "--index-dir", hash_index_copy)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 papers of arXiv cs.LG (latest 3), ranked against the library (75 papers)")
    ((_, request),) = services.requests
    assert "search_query=cat:cs.LG" in request and "sortBy=submittedDate" in request and "sortOrder=descending" in request
    assert "max_results=3" in request
    again = _run("rank", "--arxiv", "cs.LG", "--latest", "3", "--index-dir", hash_index_copy, "--json")
    assert again.exit_code == 0 and services.count() == 1
    titles = [r["title"] for r in json.loads(again.stdout)]
    assert len(titles) == 3 and "Counterfactual Data Augmentation for Small Student Models" in titles
    old = _run("rank", "--arxiv", "hep-th", "--index-dir", hash_index_copy, "--json")
    assert [r["title"] for r in json.loads(old.stdout)] == ["A Note on Dualities of Strings on Orbifolds"]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "Error: give a FILE of papers or --arxiv CATEGORY, one of the two (see: paperlike rank --help)"),
        (
            ["ids.txt", "--arxiv", "cs.LG"],
            "Error: give a FILE of papers or --arxiv CATEGORY, one of the two (see: paperlike rank --help)",
        ),
        (["ids.txt", "--latest", "5"], "Error: --latest goes with --arxiv CATEGORY (see: paperlike rank --help)"),
        (["--arxiv", "cs LG"], "Error: --arxiv takes an arXiv category such as cs.LG, stat.ML or hep-th, got 'cs LG'"),
        (["--arxiv", "cs.LG", "--latest", "5000"], "Error: --latest must be a whole number from 1 to 1000 (got 5000)"),
        (
            ["--arxiv", "cs.LG", "--format-in", "bibtex"],
            "Error: --format-in is the format of FILE; --arxiv fetches an arXiv feed (see: paperlike rank --help)",
        ),
        (
            ["--arxiv", "cs.XX"],
            "Error: arXiv lists no paper in category 'cs.XX'; check its name (e.g. cs.LG, stat.ML, hep-th, math.AP)",
        ),
    ],
)
def test_rank_arxiv_bad_input(services, hash_index_dir, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ids.txt").write_text("2401.00002\n")
    assert _one_line_error(_run("rank", *args, "--index-dir", hash_index_dir)) == message
    assert services.count() == (1 if "cs.XX" in args else 0)


# -- the network misbehaving -----------------------------------------------------------------


@pytest.mark.parametrize(
    "trouble, query, expected",
    [
        ("429", "2401.00002", "Error: rate limited by the arXiv API (HTTP 429), try again in 7 s"),
        ("503", "2401.00002", "Error: rate limited by the arXiv API (HTTP 503), try again in 7 s"),
        ("rate-exceeded", "2401.00002", "Error: rate limited by the arXiv API (Rate exceeded.), try again in 30 s"),
        (
            "huge",
            "2401.00002",
            "Error: the arXiv API (HOST) sent an answer of over 5,000,000 bytes, more than paperlike reads; ask for fewer papers",
        ),
        (
            "malformed",
            "2401.00002",
            "Error: the arXiv API's answer is not well-formed XML (no element found: line 1, column 80); try again later",
        ),
        (
            "html",
            "2401.00002",
            "Error: the arXiv API's answer is not an Atom feed (root element 'html'; a network's login page?); try again later",
        ),
        ("dtd", "2401.00002", "Error: the arXiv API's answer declares a DTD, which an arXiv feed never does; it was not read"),
        ("error-entry", "2401.00002", "Error: the arXiv API answered with an error: incorrect id format for 1234.5678"),
        ("error-entry-200", "2401.00002", "Error: the arXiv API answered with an error: incorrect id format for 1234.5678"),
        (
            "redirect-file",
            "2401.00002",
            "Error: the arXiv API (HOST) answered HTTP 302 (Found - Redirection to url 'file:///etc/passwd' is not",
        ),
        (
            "redirect-ftp",
            "2401.00002",
            "Error: the arXiv API (HOST) answered HTTP 302 (redirect to a URL that is not http(s)); try again later",
        ),
        ("429", "10.1145/3580305.3599271", "Error: rate limited by Crossref (HTTP 429), try again in 7 s"),
        (
            "not-json",
            "10.1145/3580305.3599271",
            "Error: Crossref's answer for DOI 10.1145/3580305.3599271 is not JSON; try again later",
        ),
    ],
)
def test_a_misbehaving_service_is_one_line_and_nothing_is_cached(services, hash_index_dir, trouble, query, expected):
    services.trouble["crossref" if query.startswith("10.") else "arxiv"] = trouble
    line = _one_line_error(_run("similar", query, "--online", "--index-dir", hash_index_dir))
    assert line.startswith(expected.replace("HOST", services.base.removeprefix("http://")))
    assert not Settings.from_env().online_cache_dir().exists() or not list(Settings.from_env().online_cache_dir().glob("*.json"))
    services.trouble.clear()  # the service is back: the answer is fetched (nothing bad was kept)
    sent = services.count()
    assert _run("similar", query, "--online", "--index-dir", hash_index_dir).exit_code == 0
    assert services.count() == sent + 1


def test_a_service_too_slow_is_a_timeout(services, hash_index_dir, monkeypatch):
    monkeypatch.setenv("PAPERLIKE_HTTP_TIMEOUT", "0.3")
    services.slow_seconds = 2.0
    host = services.base.removeprefix("http://")
    for trouble in ("slow", "trickle"):  # no answer at all; an answer one byte at a time
        services.trouble["arxiv"] = trouble
        line = _one_line_error(_run("rank", "--arxiv", "cs.LG", "--index-dir", hash_index_dir))
        assert line == (
            f"Error: the arXiv API ({host}) did not answer within 0.3 s; try again later, or wait longer with PAPERLIKE_HTTP_TIMEOUT=60"
        )


def test_an_unreachable_service_says_the_machine_seems_offline(hash_index_dir, monkeypatch, today):
    port = _closed_port()
    monkeypatch.setenv("PAPERLIKE_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    line = _one_line_error(_run("rank", today, "--online", "--index-dir", hash_index_dir))
    assert line == (
        f"Error: cannot reach the arXiv API at 127.0.0.1:{port} (Connection refused): this machine seems offline; "
        "without --online, paperlike reads papers from files: BibTeX (.bib), an arXiv export (Atom .xml or the "
        "metadata JSON) or JSON lines with title and abstract"
    )
    monkeypatch.setenv("PAPERLIKE_ARXIV_API", "file:///etc/passwd")
    line = _one_line_error(_run("similar", "2401.00002", "--online", "--index-dir", hash_index_dir))
    assert line == "Error: PAPERLIKE_ARXIV_API must be an http:// or https:// URL, got 'file:///etc/passwd'; fix or unset it"


def test_retry_after_and_jats():
    assert _retry_after("12") == 12
    assert _retry_after(None) == 30 and _retry_after("soon") == 30
    assert _retry_after("99999999999") == 3600 and _retry_after("0") == 1
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 1  # a date already past
    assert jats_text("<jats:title>Abstract</jats:title><jats:p>A &lt;b&gt; tag &amp; text.</jats:p>") == "A <b> tag & text."
    assert jats_text(["not", "text"]) == "" and jats_text("<" * 100_000) == "<" * 100_000


# -- the cache ----------------------------------------------------------------------------------


def _settings(services, tmp_path) -> Settings:
    return Settings(arxiv_api=f"{services.base}/api/query", crossref_api=f"{services.base}/crossref", cache_dir=tmp_path / "c")


def _damage(path, how: str, tmp_path) -> None:
    record = json.loads(path.read_text())
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif how == "garbage":
        path.write_bytes(os.urandom(300))
    elif how == "deep":
        path.write_text("[" * 100_000)
    elif how == "other url":
        path.write_text(json.dumps({**record, "url": "http://elsewhere/"}))
    elif how == "altered body":
        path.write_text(json.dumps({**record, "body": record["body"].replace("Prompt Pools", "Pwned")}))
    elif how == "expired":
        path.write_text(json.dumps({**record, "fetched": record["fetched"] - 8 * 86400}))
    elif how == "from the future":
        path.write_text(json.dumps({**record, "fetched": record["fetched"] + 86400}))
    elif how == "wrong kinds":
        path.write_text(json.dumps({**record, "fetched": "yesterday"}))
    elif how == "unparsable body":  # sound record, body that is no feed: refetched, not trusted
        body = "<html>no</html>"
        path.write_text(json.dumps({**record, "body": body, "sha256": hashlib.sha256(body.encode()).hexdigest()}))
    elif how == "link":
        outside = tmp_path / "someone-elses.json"
        outside.write_text(json.dumps(record))
        path.unlink()
        path.symlink_to(outside)
    elif how == "fifo":
        path.unlink()
        os.mkfifo(path)


@pytest.mark.parametrize(
    "how",
    [
        "truncated",
        "garbage",
        "deep",
        "other url",
        "altered body",
        "expired",
        "from the future",
        "wrong kinds",
        "unparsable body",
        "link",
        "fifo",
    ],
)
def test_a_bad_cache_file_is_ignored_and_fetched_again(services, tmp_path, how):
    settings = _settings(services, tmp_path)
    first = Online(settings).papers(["2401.00031"]).papers["2401.00031"]
    (path,) = ResponseCache(settings.online_cache_dir()).entries()
    _damage(path, how, tmp_path)
    online = Online(settings)
    again = online.papers(["2401.00031"]).papers["2401.00031"]
    assert again == first and online.sent == 1 and services.count() == 2
    assert path.is_file() and not path.is_symlink()  # replaced by a sound record
    assert Online(settings).papers(["2401.00031"]) and services.count() == 2  # which is used next time
    if how == "link":
        assert "Prompt Pools" in (tmp_path / "someone-elses.json").read_text()  # never written through


def test_the_cache_is_content_addressed_and_atomic(services, tmp_path):
    settings = _settings(services, tmp_path)
    Online(settings).arxiv_listing("cs.LG", 2)
    (path,) = ResponseCache(settings.online_cache_dir()).entries()
    (request,) = [q for _, q in services.requests]
    assert path.name == cache_name(f"{services.base}{request}")
    assert [p.name for p in settings.online_cache_dir().iterdir()] == [path.name]  # no temp file left
    record = json.loads(path.read_text())
    assert record["url"] == f"{services.base}{request}" and record["format"] == "paperlike-online-cache"


def test_a_cache_folder_that_cannot_be_written_still_fetches(services, tmp_path):
    settings = _settings(services, tmp_path)
    settings.cache_root().write_text("a file of the user's where the cache folder would be")
    assert Online(settings).papers(["2401.00002"]).papers
    assert Online(settings).papers(["2401.00002"]).papers and services.count() == 2  # nothing kept: asked again
    assert settings.cache_root().read_text() == "a file of the user's where the cache folder would be"


def test_concurrent_fetches_share_the_cache(services, tmp_path):
    settings = _settings(services, tmp_path)
    results, errors = [], []

    def fetch() -> None:
        try:
            results.append(Online(settings).papers(["2401.00002", "10.1145/3580305.3599271"]).papers)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(results) == 6
    assert all(r == results[0] for r in results)
    for path in ResponseCache(settings.online_cache_dir()).entries():
        json.loads(path.read_text())  # every record whole
    Online(settings).papers(["2401.00002", "10.1145/3580305.3599271"])
    assert services.count() <= 12


# -- politeness --------------------------------------------------------------------------------


def test_arxiv_requests_are_batched_and_three_seconds_apart(services, tmp_path, monkeypatch):
    monkeypatch.setattr("paperlike.online.arxiv.IDS_PER_REQUEST", 2)
    waits: list[float] = []
    online = Online(_settings(services, tmp_path), cache=None, sleep=waits.append)
    found = online.papers(["2401.00002", "2401.00017", "2401.00031", "2401.00063", "hep-th/9905111"])
    assert len(found.papers) == 5 and services.count("arxiv") == 3
    assert len(waits) == 2 and all(2.5 < w <= 3.0 for w in waits)
    assert all(ua.startswith("paperlike/") for ua in services.user_agents)


def test_the_user_agent_names_the_mailto(services, tmp_path):
    settings = dataclasses.replace(_settings(services, tmp_path), mailto="me@example.org")
    Online(settings, cache=None).papers(["10.1145/3580305.3599271"])
    assert services.user_agents == ["paperlike/0.1.0 (local paper recommender; mailto:me@example.org)"]


def test_python_api_checks_its_arguments(services, tmp_path):
    online = Online(_settings(services, tmp_path))
    with pytest.raises(QueryError):
        online.arxiv_listing("cs.LG", 0)
    with pytest.raises(QueryError):
        online.arxiv_listing("../../etc", 5)
    with pytest.raises(TypeError):
        as_online("yes")  # type: ignore[arg-type]
    assert services.count() == 0


def test_online_errors_are_paperlike_errors():
    from paperlike import OnlineError as exported

    assert exported is OnlineError


def test_online_asks_nothing_when_the_library_has_the_papers(services, tmp_path, hash_index_copy):
    known = tmp_path / "known.txt"
    known.write_text("autodistil\nLLM-Pruner: On the Structural Pruning of Large Language Models\n")
    assert _run("rank", known, "--online", "--index-dir", hash_index_copy, "--include-known").exit_code == 0
    result = _run("similar", "autodistil", "--online", "--index-dir", hash_index_copy)
    assert result.exit_code == 0 and "Papers like: AutoDistil" in result.stdout
    assert services.count() == 0


def test_rank_batch_of_a_fetched_listing_in_python(services, hash_index_dir):
    rec = Recommender.load(hash_index_dir, embedder=HashingEmbedder())
    listing = Online().arxiv_listing("cs.LG", 4)
    assert listing.source == "arXiv cs.LG (latest 4)" and len(listing) == 4
    published = [p.year for p in listing.papers]
    assert published == [2024] * 4
    ranking = rank_batch(rec, listing, k=2, remember=False)
    assert len(ranking) == 2 and ranking.total == 4


@pytest.mark.parametrize("value, seconds", [("2.5", 2.5), ("0", 15.0), ("-3", 15.0), ("soon", 15.0), ("", 15.0), ("inf", 15.0)])
def test_the_timeout_setting(value, seconds):
    assert Settings.from_env({"PAPERLIKE_HTTP_TIMEOUT": value}).http_timeout == seconds
    defaults = Settings.from_env({})
    assert defaults.arxiv_api == "https://export.arxiv.org/api/query" and defaults.crossref_api == "https://api.crossref.org"


def test_an_answer_declaring_an_unknown_encoding(tmp_path):
    from paperlike.errors import CorpusError
    from paperlike.online.arxiv import parse_arxiv_answer
    from paperlike.readers import read_corpus

    bogus = b'<?xml version="1.0" encoding="bogus"?><feed xmlns="http://www.w3.org/2005/Atom"/>'
    with pytest.raises(OnlineError, match=r"not well-formed XML \(unknown encoding: bogus\)"):
        parse_arxiv_answer(bogus)
    saved = tmp_path / "listing.xml"
    saved.write_bytes(bogus)
    with pytest.raises(CorpusError, match="unknown encoding: bogus"):
        read_corpus(saved)


def test_damaged_answers_give_papers_or_one_online_error():
    """Recorded answers with random bytes changed: each is read, or refused with an OnlineError;
    no other exception ever escapes (the CLI would show it as a bug)."""
    import random

    from paperlike.online.arxiv import parse_arxiv_answer
    from paperlike.online.crossref import parse_crossref_work

    rnd = random.Random(24)
    feed = (FIXTURES / "arxiv_records.xml").read_bytes()
    work = json.dumps(json.loads((FIXTURES / "crossref_works.json").read_text())["10.1145/3580305.3599271"]).encode()
    outcomes = {"read": 0, "refused": 0}
    for original, parse in ((feed, parse_arxiv_answer), (work, lambda b: parse_crossref_work(b, "10.1/x"))):
        for _ in range(150):
            data = bytearray(original)
            for _ in range(rnd.randint(1, 8)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
            try:
                parse(bytes(data))
                outcomes["read"] += 1
            except OnlineError:
                outcomes["refused"] += 1
    assert outcomes["read"] and outcomes["refused"]
