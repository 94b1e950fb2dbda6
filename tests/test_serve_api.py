"""``paperlike serve``: the JSON API answers as the CLI does, with the same error contract."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from click.testing import CliRunner  # noqa: E402

from conftest import tree_snapshot  # noqa: E402
from paperlike import Recommender  # noqa: E402
from paperlike.cli import cli  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from serve_support import EVIL_SCRIPT, build_serve_index, client  # noqa: E402


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_serve_index(tmp_path_factory.mktemp("serve") / "index")


@pytest.fixture(scope="module")
def app(index_dir):
    return create_app(index_dir)


@pytest.fixture(scope="module")
def http(app):
    return client(app)


@pytest.fixture(scope="module")
def rec(index_dir):
    return Recommender.load(index_dir)


def _cli_json(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    if args[0] == "similar":  # the CLI's rows each carry the answer's query_kind; the API says it once
        kinds = {row.pop("query_kind") for row in rows}
        assert len(kinds) <= 1
    return rows


def test_similar_by_id_matches_the_cli(http, index_dir, app):
    r = http.get("/api/similar", params={"q": "autodistil", "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "paper" and body["paper_id"] == "autodistil" and body["query_kind"] == "id"
    assert body["generation"] == app.state.library.current().generation == r.headers["x-paperlike-generation"]
    cli_rows = _cli_json("similar", "autodistil", "-k", "5", "--json", "--index-dir", str(index_dir))
    assert body["results"] == cli_rows  # same ids, scores, cosines and why, field for field


def test_similar_reads_queries_as_the_cli_does(http, index_dir):
    # A title prefix of 3 words or more names the paper; several words naming none are free text.
    assert http.get("/api/similar", params={"q": "AutoDistil: Few-shot Task-agnostic"}).json()["paper_id"] == "autodistil"
    text = http.get("/api/similar", params={"q": "distilling a language model into a small student", "k": 3}).json()
    assert text["kind"] == "text" and "searched as free text" in text["note"]
    cli_rows = _cli_json(
        "similar", "distilling a language model into a small student", "-k", "3", "--json", "--index-dir", str(index_dir)
    )
    assert text["results"] == cli_rows
    forced = http.get("/api/text", params={"q": "autodistil", "k": 3, "mode": "lexical"}).json()
    assert forced["kind"] == "text" and forced["mode"] == "lexical"


def test_a_single_word_naming_no_paper_is_free_text_as_in_the_cli(http, index_dir):
    # As `paperlike similar WORD`: a query that names no paper, even one word, is searched as
    # free text with a note (it used to be a 404 here).
    body = http.get("/api/similar", params={"q": "autodistl-zzz", "k": 4}).json()
    assert body["kind"] == "text" and body["paper_id"] is None and "searched as free text" in body["note"]
    result = CliRunner().invoke(cli, ["similar", "autodistl-zzz", "-k", "4", "--json", "--index-dir", str(index_dir)])
    assert result.exit_code == 0 and "searched as free text" in result.stderr
    assert body["results"] == [{k: v for k, v in row.items() if k != "query_kind"} for row in json.loads(result.stdout)]
    # kind=paper (the CLI's --paper) forbids free text: the same query is then a 404.
    assert http.get("/api/similar", params={"q": "autodistl-zzz", "kind": "paper"}).status_code == 404


def test_doi_arxiv_ids_and_urls_name_their_papers(http):
    assert http.get("/api/paper", params={"id": "https://doi.org/10.1234/evil.1"}).json()["id"] == "evil-script"
    assert http.get("/api/paper", params={"id": "arXiv:2401.01234v2"}).json()["id"] == "evil-img"
    assert http.get("/api/paper", params={"id": "https://arxiv.org/abs/2401.01234"}).json()["id"] == "evil-img"
    assert http.get("/api/similar", params={"q": "doi:10.1234/EVIL.1", "k": 2}).json()["paper_id"] == "evil-script"
    assert http.get("/api/similar", params={"q": "2401.01234v3", "k": 2}).json()["paper_id"] == "evil-img"
    liked = http.get("/api/like", params=[("paper", "10.1234/evil.1"), ("not", "arXiv:2401.01234")]).json()
    assert [p["id"] for p in liked["papers"]] == ["evil-script"] and [u["id"] for u in liked["unlike"]] == ["evil-img"]


def test_like_and_unlike_match_the_library(http, rec):
    r = http.get("/api/like", params=[("paper", "autodistil"), ("paper", "llm-pruner"), ("not", "tame"), ("k", "7")])
    body = r.json()
    assert r.status_code == 200 and body["kind"] == "papers"
    assert [p["id"] for p in body["papers"]] == ["autodistil", "llm-pruner"] and [u["id"] for u in body["unlike"]] == ["tame"]
    expected = rec.like(["autodistil", "llm-pruner"], 7, unlike=["tame"], why=True)
    assert [x["id"] for x in body["results"]] == [x.id for x in expected]
    assert not {"autodistil", "llm-pruner", "tame"} & {x["id"] for x in body["results"]}
    # /api/similar with several q and not is the same question.
    again = http.get("/api/similar", params=[("q", "autodistil"), ("q", "llm-pruner"), ("not", "tame"), ("k", "7")]).json()
    assert again["results"] == body["results"]


def test_paper_and_papers(http):
    paper = http.get("/api/paper", params={"id": "tame"}).json()
    assert paper["id"] == "tame" and paper["abstract"]
    page = http.get("/api/papers", params={"limit": 10, "offset": 5}).json()
    assert page["total"] == 77 and len(page["papers"]) == 10
    found = http.get("/api/papers", params={"search": "distil"}).json()
    assert found["total"] >= 3 and all("distil" in (p["id"] + p["title"]).lower() for p in found["papers"])


def test_themes_theme_and_map(http, index_dir, rec):
    themes = http.get("/api/themes", params={"n": 5}).json()
    assert len(themes["themes"]) == 5 and sum(t["size"] for t in themes["themes"]) >= 77
    cli_themes = _cli_json("themes", "-n", "5", "--json", "--index-dir", str(index_dir))
    assert [(t["id"], t["label"], t["size"]) for t in themes["themes"]] == [
        (t["id"], t["label"], t["size"]) for t in cli_themes["themes"]
    ]
    # A theme is named within a set: n (and seed) say which, as -n and --seed do on the CLI.
    first = themes["themes"][0]
    theme = http.get("/api/theme", params={"name": first["id"], "k": 3, "n": 5}).json()
    assert (theme["id"], theme["label"], theme["size"]) == (first["id"], first["label"], first["size"])
    assert len(theme["papers"]) == 3
    seeds = [("seed", "distillation"), ("seed", "continual learning")]
    seeded = http.get("/api/themes", params=seeds).json()
    assert {"distillation", "continual-learning"} <= {t["id"] for t in seeded["themes"]}
    # Asking for other sets in between does not change what the same options mean.
    automatic = http.get("/api/themes").json()
    assert [t["id"] for t in automatic["themes"]] == [
        t["id"] for t in _cli_json("themes", "--json", "--index-dir", str(index_dir))["themes"]
    ]
    again = http.get("/api/theme", params=[("name", "distillation"), *seeds]).json()
    members = {p["id"] for p in again["papers"]}
    assert again["seed"] == "distillation" and len(members) == again["size"]
    assert again["theme_set"] == seeded["theme_set"] and again["theme_set"] != automatic["theme_set"]
    exported = http.get("/api/export", params=[("format", "jsonl"), ("theme", "distillation"), *seeds])
    assert {json.loads(line)["id"] for line in exported.text.splitlines()} == members
    # similar --theme T --seed S: only that theme's papers, as the CLI ranks them.
    within = http.get("/api/similar", params=[("q", "autodistil"), ("theme", "distillation"), *seeds, ("k", "5")]).json()
    cli_rows = _cli_json(
        "similar",
        "autodistil",
        "--theme",
        "distillation",
        "--seed",
        "distillation",
        "--seed",
        "continual learning",
        "-k",
        "5",
        "--json",
        "--index-dir",
        str(index_dir),
    )
    assert within["results"] == cli_rows and {r["id"] for r in within["results"]} <= members
    # A set named on the command line is named the same way here.
    saved = CliRunner().invoke(cli, ["themes", "-n", "5", "--save-as", "five", "--index-dir", str(index_dir)])
    assert saved.exit_code == 0, saved.output
    named = http.get("/api/themes", params={"theme_set": "five"}).json()
    assert [t["id"] for t in named["themes"]] == [t["id"] for t in themes["themes"]] and named["theme_set"]["name"] == "five"
    pytest.importorskip("plotly")
    fig = http.get("/api/map").json()
    assert fig["papers"] == 77 and fig["figure"]["data"] and fig["method"] == rec.map_2d(rec.themes()).attrs["method"]
    assert fig["themes"] == len(automatic["themes"]) and fig["theme_set"] == automatic["theme_set"]
    assert http.get("/api/map", params={"n": 5}).json()["themes"] == 5


def test_exports_match_the_cli(http, index_dir):
    r = http.get("/api/export", params={"format": "bibtex", "ids": "autodistil,tame"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-bibtex")
    result = CliRunner().invoke(cli, ["export", "--format", "bibtex", "--ids", "autodistil,tame", "--index-dir", str(index_dir)])
    assert r.text == result.stdout and "@misc{autodistil" in r.text
    listed = http.get("/api/similar", params={"q": "autodistil", "k": 3, "format": "jsonl"})
    ids = [json.loads(line)["id"] for line in listed.text.splitlines()]
    assert ids == [x["id"] for x in http.get("/api/similar", params={"q": "autodistil", "k": 3}).json()["results"]]


def _error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "type", "status"} and body["status"] == status
    assert "\n" not in body["error"] and "Traceback" not in r.text
    return body


@pytest.mark.parametrize(
    "path, params, status, message",
    [
        (
            "/api/similar",
            {"q": "autodistl-zzz", "kind": "paper"},
            404,
            "no paper with id or title 'autodistl-zzz'; closest: autodistil",
        ),
        ("/api/similar", {"q": "doi:10.9999/no.such.paper"}, 404, "no paper with DOI 10.9999/no.such.paper in this index"),
        ("/api/similar", {"q": "arXiv:2501.99999"}, 404, "no paper with arXiv id 2501.99999 in this index"),
        ("/api/paper", {"id": "https://doi.org/10.9999/nothing"}, 404, "no paper with DOI 10.9999/nothing"),
        ("/api/similar", [("q", "autodistil"), ("q", "autodistl-zzz")], 404, "no paper with id or title 'autodistl-zzz'"),
        ("/api/similar", [("q", "autodistil"), ("q", "x"), ("kind", "text")], 400, "kind=text takes one q"),
        ("/api/similar", {"q": "Language Models", "kind": "paper"}, 409, "'Language Models' starts the titles of 2 papers"),
        ("/api/similar", {"q": "autodistil", "k": "0"}, 400, "k must be a whole number from 1 to 1000 (got '0')"),
        ("/api/similar", {"q": "autodistil", "k": "many"}, 400, "k must be a whole number"),
        ("/api/similar", {"q": "autodistil", "mode": "magic"}, 400, "unknown mode 'magic'; use one of: hybrid, dense, lexical"),
        ("/api/similar", {"q": "autodistil", "kk": "5"}, 400, "unknown parameter 'kk'"),
        ("/api/similar", {}, 400, "missing parameter 'q'"),
        ("/api/similar", {"q": "autodistil", "theme": "quantum chemistry"}, 400, "no theme 'quantum chemistry'"),
        ("/api/text", {"q": "   "}, 400, "missing parameter 'q'"),
        ("/api/like", {"paper": "autodistil", "not": "AutoDistil"}, 400, "'autodistil' is both wanted and not wanted"),
        ("/api/export", {"format": "bibtex", "ids": "autodistil,no-such-paper"}, 400, "unknown paper id(s): no-such-paper"),
        ("/api/export", {"format": "docx"}, 400, "unknown format 'docx'"),
        ("/api/theme", {"name": "quantum chemistry"}, 400, "no theme 'quantum chemistry'"),
        ("/api/themes", {"n": "501"}, 400, "n must be a whole number from 1 to 500"),
        ("/api/themes", {"n": "500"}, 400, "number of themes must be between 1 and 77 (the number of papers), got 500"),
        ("/api/themes", {"theme_set": "nothing-named-so"}, 400, "no theme set named 'nothing-named-so'"),
        ("/api/themes", {"theme_set": "../etc"}, 400, "theme set name '../etc' is not allowed"),
        ("/api/theme", {"name": "t1", "theme_set": "x", "n": "3"}, 400, "theme_set already fixes the theme options"),
        ("/api/similar", {"q": "autodistil", "n": "3"}, 400, "n, seed and theme_set choose the theme set of 'theme'"),
        ("/api/export", {"format": "bibtex", "seed": "x"}, 400, "n, seed and theme_set choose the theme set of 'theme'"),
        ("/api/paper", {"id": "../../../etc/passwd"}, 404, "no paper with id or title '../../../etc/passwd'"),
    ],
)
def test_errors_are_one_line_4xx_and_change_nothing(http, index_dir, path, params, status, message):
    before = tree_snapshot(index_dir)
    body = _error(http.get(path, params=params), status)
    assert message in body["error"]
    after = tree_snapshot(index_dir)
    derived = ("themes/", "lexical-")
    assert {k: v for k, v in after.items() if k in before and not k.startswith(derived)} == {
        k: v for k, v in before.items() if not k.startswith(derived)
    }


def test_error_messages_are_the_cli_messages(http, index_dir):
    # The same message, in the API's words: the CLI's "list all with: paperlike papers" is the
    # API's "GET /api/papers" (tests/test_api_wording.py checks the options' names).
    body = http.get("/api/similar", params={"q": "autodistl-zzz", "kind": "paper"}).json()
    result = CliRunner().invoke(cli, ["similar", "autodistl-zzz", "--paper", "--index-dir", str(index_dir)])
    assert result.stderr.strip().replace("paperlike papers", "GET /api/papers") == f"Error: {body['error']}"
    assert body["suggestions"] and body["type"] == "UnknownPaperError"
    ambiguous = http.get("/api/similar", params={"q": "Language Models", "kind": "paper"}).json()
    assert {c["id"] for c in ambiguous["candidates"]} == {
        "language-models-are-few-shot-learners",
        "language-models-can-solve-computer-tasks",
    }


def test_unknown_routes_and_methods(http):
    _error(http.get("/api/nothing-here"), 404)
    _error(http.post("/api/similar", data={"q": "x"}), 405)
    page = http.get("/nothing-here")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def test_read_only_server_refuses_uploads(http):
    token = http.get("/api/csrf").json()["csrf_token"]
    r = http.post("/api/add", files={"file": ("x.jsonl", b'{"title": "A new paper"}\n')}, headers={"X-CSRF-Token": token})
    assert "read-only" in _error(r, 403)["error"]


def test_openapi_describes_every_api_route(http, app):
    spec = http.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    routes = {r.path for r in app.routes if r.path.startswith("/api/")}
    assert routes == set(spec["paths"])
    # Each GET endpoint's described parameters are exactly the ones it accepts.
    for path, item in spec["paths"].items():
        if "get" not in item:
            continue
        if path in ("/api/csrf", "/api/openapi.json"):
            continue
        error = _error(http.get(path, params={"zz-unknown": "1"}), 400)["error"]
        accepted = error.split("this endpoint takes: ")[1].split(", ") if "takes: " in error else []
        assert "takes" in error and sorted(accepted) == sorted(p["name"] for p in item["get"]["parameters"]), path


def test_hostile_paper_text_in_json_is_data(http):
    paper = http.get("/api/paper", params={"id": "evil-script"})
    assert paper.headers["content-type"] == "application/json" and paper.headers["x-content-type-options"] == "nosniff"
    assert paper.json()["title"] == EVIL_SCRIPT


def test_importing_the_web_package_is_light():
    import subprocess
    import sys

    code = (
        "import sys, paperlike.web, paperlike.cli; "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2', 'torch', 'faiss') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_api_takes_the_library_choices(http):
    # The modes, export formats and query kinds come from the library, not from copies.
    from paperlike.export import EXPORT_FORMATS
    from paperlike.records import MODES

    mode_error = _error(http.get("/api/similar", params={"q": "autodistil", "mode": "x"}), 400)["error"]
    assert mode_error.endswith(f"use one of: {', '.join(MODES)}")
    format_error = _error(http.get("/api/export", params={"format": "x"}), 400)["error"]
    assert format_error.endswith(f"use one of: {', '.join(EXPORT_FORMATS)}")
    spec = http.get("/api/openapi.json").json()
    similar = {p["name"]: p["schema"] for p in spec["paths"]["/api/similar"]["get"]["parameters"]}
    assert similar["mode"]["enum"] == list(MODES) and similar["format"]["enum"] == list(EXPORT_FORMATS)
