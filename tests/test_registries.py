"""The ranking-mode registry drives every surface: a mode registered here (cosine fused with
BM25, the former hybrid) appears in --help, the CLI's choices, the web form and API, the OpenAPI
document and the answer's score scale, and ranks as its record says, with nothing else edited."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.mode_registry import MODES, SCORE_SCALES, RankingMode, find_mode, register_mode, unregister_mode
from paperlike.search.scoring import fuse

FAKE = RankingMode(
    "cosine-bm25",
    "the model's cosine fused with BM25 (a test mode).",
    "a test scale: 0.8 z(cosine) + 0.2 z(BM25)",
    "score = test scale",
    dense=True,
    lexical="bm25",
)


@pytest.fixture
def fake_mode():
    register_mode(FAKE)
    yield FAKE
    unregister_mode(FAKE.name)


def test_a_registered_mode_appears_in_help_and_is_accepted_by_the_cli(fake_mode, hash_index_copy):
    help_text = CliRunner().invoke(cli, ["similar", "--help"]).output
    assert "cosine-bm25" in help_text and "a test mode" in help_text
    r = CliRunner().invoke(
        cli, ["similar", "autodistil", "--mode", "cosine-bm25", "-k", "3", "--index-dir", str(hash_index_copy)]
    )
    assert r.exit_code == 0, r.output
    assert "score = test scale" in r.output  # the mode's own note under the header
    r = CliRunner().invoke(cli, ["similar", "autodistil", "--mode", "nope", "--index-dir", str(hash_index_copy)])
    assert r.exit_code == 2 and "cosine-bm25" in r.output  # the choices list it


def test_a_registered_mode_ranks_as_its_record_says(fake_mode, hash_index_copy):
    from paperlike.service import Recommender

    rec = Recommender.load(hash_index_copy)
    answer = rec.ask(["autodistil"], k=5, mode="cosine-bm25")
    assert answer.mode == "cosine-bm25" and answer.to_dict()["score_scale"] == FAKE.score_scale
    pos = rec.find("autodistil")
    vectors = rec.index.all_vectors()
    lex = rec.lexical()
    bm25 = lex.scores_for_terms(lex.paper_terms(pos))
    mask = np.ones(rec.index.count, bool)
    mask[pos] = False
    fused = fuse(vectors @ vectors[pos], bm25, mask=mask, dense_weight=0.8)  # no weights given: 0.8
    want = sorted(np.flatnonzero(mask), key=lambda i: (-fused[i], i))[:5]
    assert [r.id for r in answer.results] == [rec.index.ids[i] for i in want]


def test_a_registered_mode_appears_in_the_web_api_and_openapi(fake_mode, hash_index_copy):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from paperlike.web import create_app
    from serve_support import client

    http = client(create_app(hash_index_copy))
    spec = http.get("/api/openapi.json").json()
    enums = [p["schema"].get("enum") for p in spec["paths"]["/api/similar"]["get"]["parameters"] if p["name"] == "mode"]
    assert enums and "cosine-bm25" in enums[0]
    r = http.get("/api/similar", params={"q": "autodistil", "k": 3, "mode": "cosine-bm25"})
    assert r.status_code == 200 and r.json()["mode"] == "cosine-bm25"
    assert "cosine-bm25" in http.get("/").text  # the search form's choices


def test_registry_errors_and_the_built_in_modes():
    assert list(MODES)[:4] == ["hybrid", "dense", "lexical", "topical"]
    assert set(SCORE_SCALES) == set(MODES) and SCORE_SCALES["dense"].startswith("cosine")
    with pytest.raises(ValueError, match="unknown ranking mode 'nope'; known: hybrid, dense, lexical"):
        find_mode("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_mode(find_mode("dense"))
    with pytest.raises(ValueError, match="scores nothing"):
        RankingMode("empty", "", "", None, dense=False, lexical=None)
    with pytest.raises(ValueError, match="lexical side"):
        RankingMode("odd", "", "", None, dense=True, lexical="splade")


# -- export formats -----------------------------------------------------------------------------


def titles_text(papers) -> str:
    """A test format: one title a line."""
    return "".join(p.title + "\n" for p in papers)


@pytest.fixture
def fake_format():
    from paperlike.format_registry import ExportFormat, register_export_format, unregister_export_format

    fmt = register_export_format(
        ExportFormat("titles", "text/plain; charset=utf-8", "txt", "One title a line.", "test_registries:titles_text")
    )
    yield fmt
    unregister_export_format(fmt.name)


def test_a_registered_export_format_reaches_every_command(fake_format, hash_index_copy):
    runner = CliRunner()
    for command in (["export"], ["similar"], ["papers"], ["rank"]):
        assert "titles" in runner.invoke(cli, [*command, "--help"]).output, command
    r = runner.invoke(cli, ["export", "--format", "titles", "--ids", "autodistil", "--index-dir", str(hash_index_copy)])
    assert r.exit_code == 0 and r.stdout.startswith("AutoDistil"), r.output
    r = runner.invoke(cli, ["similar", "autodistil", "-k", "2", "--format", "titles", "--index-dir", str(hash_index_copy)])
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 2, r.output
    r = runner.invoke(cli, ["export", "--format", "nope", "--index-dir", str(hash_index_copy)])
    assert r.exit_code == 2 and "titles" in r.output


def test_a_registered_export_format_is_served_with_its_media_type(fake_format, hash_index_copy):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from paperlike.web import create_app
    from serve_support import client

    http = client(create_app(hash_index_copy))
    r = http.get("/api/export", params={"format": "titles", "ids": "autodistil"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain") and ".txt" in r.headers["content-disposition"]
    assert r.text.startswith("AutoDistil")
    spec = http.get("/api/openapi.json").json()
    enums = [p["schema"].get("enum") for p in spec["paths"]["/api/export"]["get"]["parameters"] if p["name"] == "format"]
    assert enums and "titles" in enums[0]


def test_export_format_registry_errors():
    from paperlike.export import export_papers
    from paperlike.format_registry import EXPORT_FORMATS, find_export_format, register_export_format

    assert list(EXPORT_FORMATS)[:3] == ["bibtex", "jsonl", "csv"]
    with pytest.raises(ValueError, match="unknown export format 'nope'; known: bibtex, jsonl, csv"):
        export_papers([], "nope")
    with pytest.raises(ValueError, match="already registered"):
        register_export_format(find_export_format("csv"))


# -- corpus formats (readers) --------------------------------------------------------------------


def read_pipe(path, text, *, strict=False, **_):
    """A test format: one paper a line, ``title | abstract``."""
    from paperlike.readers.base import collect, paper_from_fields

    entries = [
        (f"{path}:{n}", paper_from_fields(dict(zip(("title", "abstract"), line.split("|", 1))), f"{path}:{n}", str(path)))
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip()
    ]
    return collect(entries, str(path), strict=strict, fmt="pipe")


@pytest.fixture
def fake_reader():
    from paperlike.readers.formats import ReaderFormat, register_reader, unregister_reader

    fmt = register_reader(ReaderFormat("pipe", "a pipe file", (".pipe",), (".pipe",), "test_registries:read_pipe"))
    yield fmt
    unregister_reader(fmt.name)


def test_a_registered_reader_reads_by_extension_and_reaches_every_surface(fake_reader, tmp_path, hash_index_copy):
    corpus = tmp_path / "papers.pipe"
    corpus.write_text("Graph networks for molecules | We study graphs.\nSpeech at scale | We study speech.\n")
    runner = CliRunner()
    for command in (["index", "build"], ["add"], ["rank"]):
        assert "pipe" in runner.invoke(cli, [*command, "--help"]).output, command
    r = runner.invoke(
        cli, ["index", "build", "--corpus", str(corpus), "--index-dir", str(tmp_path / "i"), "--model", "hashing", "-q"]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["papers", "--index-dir", str(tmp_path / "i")])
    assert "Graph networks for molecules" in r.output and "Speech at scale" in r.output
    r = runner.invoke(
        cli,
        [
            "index",
            "build",
            "--corpus",
            str(corpus),
            "--format",
            "pipe",
            "--index-dir",
            str(tmp_path / "j"),
            "--model",
            "hashing",
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output


def test_a_registered_reader_is_offered_and_accepted_by_the_web_app(fake_reader, hash_index_copy):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from paperlike.web import create_app
    from serve_support import client

    http = client(create_app(hash_index_copy, allow_edits=True))
    assert "<option>pipe</option>" in http.get("/add").text
    spec = http.get("/api/openapi.json").json()
    upload = spec["paths"]["/api/add"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "pipe" in upload["properties"]["format"]["enum"]
    token = http.get("/api/csrf").json()["csrf_token"]
    r = http.post(
        "/api/add", files={"file": ("new.pipe", b"A pipe paper on tensors | About tensors.\n")}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 200 and r.json()["added"] == 1, r.text  # the .pipe extension was kept: detected


# -- embedding models --------------------------------------------------------------------------


def load_test_model(spec, device=None):
    """A model of this test, loaded as a plug-in's would be: the hashing model under its own name."""
    from paperlike.embedding import HashingEmbedder

    class Named(HashingEmbedder):
        def identity(self):
            return {**super().identity(), "name": spec.name}

    return Named(dim=spec.dim)


@pytest.fixture
def fake_model():
    from paperlike.model_registry import ModelSpec, register_model, unregister_model

    spec = ModelSpec(
        name="test-hashing-64",
        dim=64,
        max_seq_length=0,
        source="code",
        summary="a model registered by a test",
        load=f"{__name__}:load_test_model",
    )
    register_model(spec)
    yield spec
    unregister_model(spec.name)


def test_a_registered_model_is_listed_loaded_and_built_with(fake_model, tmp_path):
    import json

    from paperlike.embedding import get_embedder
    from paperlike.model_registry import MODEL_NAMES, MODELS, find_model

    assert "test-hashing-64" in MODEL_NAMES and fake_model in list(MODELS) and find_model("TEST-hashing-64") is fake_model
    listed = CliRunner().invoke(cli, ["model", "list", "--json"])
    assert "test-hashing-64" in [row["name"] for row in json.loads(listed.output)]
    assert "test-hashing-64" in " ".join(CliRunner().invoke(cli, ["index", "build", "--help"]).output.split())
    embedder = get_embedder("test-hashing-64")
    assert embedder.dim == 64 and embedder.embed_batch(["a b c"]).shape == (1, 64)
    built = CliRunner().invoke(cli, ["index", "build", "--model", "test-hashing-64", "--index-dir", str(tmp_path / "idx"), "-q"])
    assert built.exit_code == 0, built.output
    from paperlike.storage import load_index

    assert load_index(tmp_path / "idx").model["name"] == "test-hashing-64" and load_index(tmp_path / "idx").dim == 64


def test_an_unregistered_model_is_unknown_again(fake_model):
    from paperlike.embedding import get_embedder
    from paperlike.errors import ModelError
    from paperlike.model_registry import unregister_model

    unregister_model(fake_model.name)
    with pytest.raises(ModelError, match="unknown model 'test-hashing-64'"):
        get_embedder("test-hashing-64")
