"""API errors name the API's parameters, not the CLI's options (issue 24: they told callers to
use --text). The library's messages keep the CLI's words; the CLI test beside each checks that."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from click.testing import CliRunner  # noqa: E402

from paperlike.cli import cli  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from paperlike.web.wording import api_wording  # noqa: E402
from serve_support import build_serve_index, client  # noqa: E402

CLI_OPTION = re.compile(r"(?<![\w-])--?[a-z][\w-]*")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_serve_index(tmp_path_factory.mktemp("wording") / "index")


@pytest.fixture(scope="module")
def http(index_dir):
    return client(create_app(index_dir))


# (API request, status, the API's wording, the CLI command giving the same error, the CLI's wording)
CASES = [
    (
        {"q": "Language Models", "kind": "paper"},
        409,
        "give one of these ids, a longer title, or kind=text to search it as free text",
        ["similar", "Language Models", "--paper"],
        "or --text to search it as free text",
    ),
    (
        {"q": ["autodistil", "nosuchpaper"]},
        404,
        "(to search free text, give it as one q with kind=text)",
        ["similar", "autodistil", "nosuchpaper"],
        '(to search free text, quote it: paperlike similar "autodistil nosuchpaper")',
    ),
    (
        {"q": "autodistil", "not": "autodistil"},
        400,
        "drop it from the papers or from the 'not' parameter",
        ["similar", "autodistil", "--not", "autodistil"],
        "drop it from the papers or from --not",
    ),
    (
        {"q": "nosuchpaper-zzz", "kind": "paper"},
        404,
        "list all with: GET /api/papers",
        ["similar", "nosuchpaper-zzz", "--paper"],
        "list all with: paperlike papers",
    ),
]


@pytest.mark.parametrize(("params", "status", "api_words", "cli_args", "cli_words"), CASES)
def test_api_errors_use_parameter_names(http, index_dir, params, status, api_words, cli_args, cli_words):
    r = http.get("/api/similar", params=params)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert api_words in error
    assert not CLI_OPTION.search(error.replace("-shot", "")), error  # no --flag (titles may hold "Few-shot")
    shown = CliRunner().invoke(cli, [*cli_args, "--index-dir", str(index_dir)])
    assert shown.exit_code == 2 and cli_words in shown.stderr


@pytest.mark.parametrize(
    ("cli", "api"),
    [
        ("or --text to search", "or kind=text to search"),
        ("free text with --text", "free text with kind=text"),
        ("use --paper", "use kind=paper"),
        ("a title with --text-like words --textual", "a title with --text-like words --textual"),  # not an option name
        ("seed 'x'; describe it, e.g. --seed 'NAME=words'", "seed 'x'; describe it, e.g. seed 'NAME=words'"),
    ],
)
def test_wording_table(cli, api):
    assert api_wording(cli) == api
