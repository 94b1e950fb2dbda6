"""``paperlike serve`` and the reader's marks: ``POST /api/mark``, ``GET /api/marks``, the pages'
like / not-liked buttons (``POST /mark``), and ranking answers that are never older than a mark."""

from __future__ import annotations

import html
import json
import re
import shutil
import threading

import pytest

pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")

from conftest import tree_snapshot  # noqa: E402
from paperlike import Recommender  # noqa: E402
from paperlike.service.triage import mark_papers  # noqa: E402
from paperlike.storage.triage import MARKS_FILE  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from serve_support import EVIL_IMG, EVIL_SCRIPT, build_serve_index, client, live_server  # noqa: E402

TOKEN = "s3cret-token-for-marks-0123456789"
# An id that would end the form's hidden field and open a script if it were not escaped.
EVIL_ID = 'x"><script>alert(5)</script>'
EVIL_PAPER = {
    "id": EVIL_ID,
    "title": "Knowledge distillation for students <b>bold</b> & teachers",
    "abstract": "Knowledge distillation from a teacher into small students.",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_serve_index(tmp_path_factory.mktemp("serve-marks") / "index", extra=[EVIL_PAPER])


@pytest.fixture
def directory(built, tmp_path):
    return shutil.copytree(built, tmp_path / "index")


@pytest.fixture
def editable(directory):
    app = create_app(directory, allow_edits=True)
    return app, client(app)


def _csrf(http) -> str:
    return http.get("/api/csrf").json()["csrf_token"]


def _mark(http, papers, mark, token=None):
    return http.post("/api/mark", data={"paper": papers, "mark": mark}, headers={"X-CSRF-Token": token or _csrf(http)})


def _similar(http, q="autodistil", k=6) -> list[str]:
    r = http.get("/api/similar", params={"q": q, "k": k})
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["results"]]


def _error(r, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == status and "\n" not in body["error"] and "Traceback" not in r.text
    return body["error"]


def test_a_mark_changes_similar_at_once_and_no_older_answer_is_served(editable, directory):
    app, http = editable
    snap = app.state.library.current()
    assert snap.rec.use_marks  # the served recommender leaves disliked papers out
    before = _similar(http)
    hits = snap.answers.hits
    assert _similar(http) == before and snap.answers.hits == hits + 1  # the memo answers a repeat
    r = _mark(http, before[0], "dislike")
    assert r.status_code == 200, r.text
    title = snap.rec.paper(before[0]).title
    assert r.json()["changes"] == [{"id": before[0], "title": title, "mark": "dislike", "in_library": True}]
    after = _similar(http)
    assert before[0] not in after and after[:5] == before[1:]
    assert app.state.library.current() is snap  # no new generation: the memo key alone moved
    # Free text and refinement answers leave it out too.
    like = http.get("/api/like", params={"paper": "autodistil", "k": 6}).json()
    assert before[0] not in [x["id"] for x in like["results"]]
    # Cleared: the paper comes back, again without a stale answer.
    assert _mark(http, before[0], "clear").json()["changes"][0]["mark"] == "cleared"
    assert _similar(http) == before


def test_a_mark_made_outside_the_server_is_seen_too(editable, directory):
    # `paperlike mark` (or another server process) writes the file: the stamp, not this process's count, moves.
    _, http = editable
    before = _similar(http, "tame")
    mark_papers(Recommender.load(directory), [before[1]], False)
    assert before[1] not in _similar(http, "tame")


def test_marks_lists_every_mark_with_its_record(editable):
    _, http = editable
    assert http.get("/api/marks").json()["marks"] == []
    assert _mark(http, ["tame", "llm-pruner"], "like").status_code == 200
    assert _mark(http, "evil-img", "dislike").status_code == 200
    body = http.get("/api/marks").json()
    assert [(m["mark"], m["paper"]["id"]) for m in body["marks"]] == [
        ("like", "tame"),
        ("like", "llm-pruner"),
        ("dislike", "evil-img"),
    ]
    assert body["marks"][2]["paper"]["title"] == EVIL_IMG and body["generation"]
    # A new mark of a paper replaces its old one.
    _mark(http, "tame", "dislike")
    assert [(m["mark"], m["paper"]["id"]) for m in http.get("/api/marks").json()["marks"]][-1] == ("dislike", "tame")
    assert "takes no parameters" in _error(http.get("/api/marks", params={"all": "1"}), 400)


def test_json_bodies_and_a_bearer_token_work_without_csrf(directory):
    http = client(create_app(directory, allow_edits=True, token=TOKEN))
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert http.post("/api/mark", json={"paper": "tame", "mark": "like"}).status_code == 401
    r = http.post("/api/mark", json={"paper": ["tame", "autodistil"], "mark": "dislike"}, headers=bearer)
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["changes"]] == ["tame", "autodistil"]
    assert len(http.get("/api/marks", headers=bearer).json()["marks"]) == 2


def test_a_read_only_server_refuses_and_writes_nothing(directory):
    http = client(create_app(directory))
    before = tree_snapshot(directory)
    token = _csrf(http)
    assert "read-only" in _error(_mark(http, "tame", "like", token), 403)
    page = http.post("/mark", data={"paper": "tame", "mark": "like", "csrf_token": token})
    assert page.status_code == 403 and "read-only" in page.text
    assert tree_snapshot(directory) == before and not (directory / MARKS_FILE).exists()
    # Marks made elsewhere are still listed, and pages show no buttons.
    mark_papers(Recommender.load(directory), ["tame"], True)
    assert [m["paper"]["id"] for m in http.get("/api/marks").json()["marks"]] == ["tame"]
    paper = http.get("/paper", params={"id": "tame"}).text
    assert 'action="/mark"' not in paper and "mark-state liked" in paper


@pytest.mark.parametrize(
    "headers, status, why",
    [
        ({}, 403, "CSRF token is missing"),
        ({"X-CSRF-Token": "0" * 64}, 403, "CSRF token is missing or stale"),
        ({"X-CSRF-Token": "RIGHT", "Origin": "http://evil.example"}, 403, "Origin http://evil.example"),
        ({"X-CSRF-Token": "RIGHT", "Sec-Fetch-Site": "cross-site"}, 403, "Sec-Fetch-Site: cross-site"),
    ],
)
def test_posts_without_this_sessions_csrf_token_are_refused(editable, directory, headers, status, why):
    _, http = editable
    headers = {k: _csrf(http) if v == "RIGHT" else v for k, v in headers.items()}
    before = tree_snapshot(directory)
    assert why in _error(http.post("/api/mark", data={"paper": "tame", "mark": "like"}, headers=headers), status)
    page = http.post(
        "/mark", data={"paper": "tame", "mark": "like"}, headers={k: v for k, v in headers.items() if k != "X-CSRF-Token"}
    )
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert tree_snapshot(directory) == before


def test_a_token_of_another_session_is_refused(editable, directory):
    _, http = editable
    stolen = _csrf(client(create_app(directory, allow_edits=True)))
    _csrf(http)
    _error(_mark(http, "tame", "like", stolen), 403)
    assert not (directory / MARKS_FILE).exists()


def test_an_unknown_paper_is_named_and_marks_nothing(editable, directory):
    _, http = editable
    assert _mark(http, "tame", "like").status_code == 200
    before = tree_snapshot(directory)
    error = _error(_mark(http, ["autodistil", "no-such-paper-zzz"], "dislike"), 404)
    assert "no-such-paper-zzz" in error
    assert tree_snapshot(directory) == before
    assert [m["paper"]["id"] for m in http.get("/api/marks").json()["marks"]] == ["tame"]


@pytest.mark.parametrize(
    "kwargs, status, message",
    [
        ({"data": {"mark": "like"}}, 400, "missing field 'paper'"),
        ({"data": {"paper": "tame"}}, 400, "missing field 'mark'"),
        ({"data": {"paper": "tame", "mark": "love"}}, 400, "unknown mark 'love'; use one of: like, dislike, clear"),
        ({"data": {"paper": "tame", "mark": "like", "why": "1"}}, 400, "unknown parameter 'why'"),
        ({"data": {"paper": ["tame"] * 51, "mark": "like"}}, 400, "at most 50 values of 'paper'"),
        ({"json": ["tame"]}, 400, "the JSON body must be an object"),
        ({"json": {"paper": {"id": "tame"}, "mark": "like"}}, 400, "field 'paper' must be a string or a list of strings"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "the body is not valid JSON"),
        ({"content": b"paper=tame&mark=like", "headers": {"content-type": "text/plain"}}, 400, "send the fields as a form"),
        ({"json": {"paper": "x" * 300_000, "mark": "like"}}, 413, "the request is too large"),
        ({"data": {"paper": "tame\x00", "mark": "like"}}, 400, "contains a NUL character"),
    ],
)
def test_bad_requests_are_one_line_and_write_nothing(editable, directory, kwargs, status, message):
    _, http = editable
    before = tree_snapshot(directory)
    headers = {"X-CSRF-Token": _csrf(http), **kwargs.pop("headers", {})}
    assert message in _error(http.post("/api/mark", headers=headers, **kwargs), status)
    assert tree_snapshot(directory) == before


def test_a_damaged_marks_file_is_an_error_and_left_as_it_is(editable, directory):
    _, http = editable
    path = directory / MARKS_FILE
    path.write_text('{"format": "paperlike-marks", "marks": "nope"}')
    before = path.read_bytes()
    assert "move it away" in _error(_mark(http, "tame", "like"), 409)
    assert "move it away" in _error(http.get("/api/marks"), 409)
    assert path.read_bytes() == before
    # Rankings and pages go on as if there were no marks.
    assert _similar(http) and http.get("/paper", params={"id": "autodistil"}).status_code == 200


def _form_fields(page: str, paper: str) -> dict[str, str]:
    """The hidden fields of the mark form of ``paper`` on a page."""
    forms = re.findall(r'<form class="mark-form" action="/mark" method="post">(.*?)</form>', page, re.S)
    for form in forms:
        fields = {n: html.unescape(v) for n, v in re.findall(r'name="(\w+)" value="([^"]*)"', form)}
        if fields.get("paper") == paper:
            return fields
    raise AssertionError(f"no mark form for {paper}")


def test_the_paper_page_buttons_mark_and_come_back(editable):
    _, http = editable
    page = http.get("/paper", params={"id": "autodistil", "k": 6}).text
    first = re.findall(r'<li class="result" data-id="([^"]+)"', page)[0]
    fields = _form_fields(page, first)
    assert fields["next"] == "/paper?id=autodistil&k=6"
    r = http.post("/mark", data={**fields, "mark": "dislike"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/paper?id=autodistil&k=6"
    again = http.get(r.headers["location"]).text
    assert f'data-id="{first}"' not in again  # left out of the list at once
    own = _form_fields(again, "autodistil")
    http.post("/mark", data={**own, "mark": "like"})
    liked = http.get("/paper", params={"id": "autodistil"}).text
    article = liked.split("</article>")[0]
    assert "mark-state liked" in article and 'value="like"' not in article and 'value="clear"' in article
    # The paper marked not liked shows so on its own page.
    assert "mark-state disliked" in http.get("/paper", params={"id": first}).text.split("</article>")[0]


def test_the_search_page_has_buttons_and_next_never_leaves_the_server(editable):
    _, http = editable
    page = http.get("/", params={"q": "autodistil"}).text
    fields = _form_fields(page, re.findall(r'<li class="result" data-id="([^"]+)"', page)[0])
    assert fields["next"] == "/?q=autodistil"
    for target in (
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
    ):
        r = http.post("/mark", data={**fields, "mark": "like", "next": target}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", target


def test_hostile_titles_and_queries_are_shown_as_text(editable):
    _, http = editable
    assert _mark(http, ["evil-script", "evil-img"], "like").status_code == 200
    for page in (
        http.get("/paper", params={"id": "evil-script"}).text,
        http.get("/", params={"q": "knowledge distillation students teacher", "k": 20}).text,
        http.get("/", params={"q": '"><script>alert(3)</script>'}).text,
    ):
        assert "<script>alert" not in page and "onerror=alert(1)>" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    evil = http.get("/paper", params={"id": "evil-script"}).text
    assert html.escape(EVIL_SCRIPT, quote=False) in evil and "mark-state liked" in evil
    listed = http.get("/", params={"q": "knowledge distillation students teacher", "k": 20}).text
    assert _form_fields(listed, "evil-img") and 'data-mark="like"' in listed
    # A hostile id stays inside its hidden field, and marking through the form names that paper.
    fields = _form_fields(listed, EVIL_ID)
    assert "<script>alert(5)" not in listed
    assert http.post("/mark", data={**fields, "mark": "dislike"}).status_code == 200
    assert ("dislike", EVIL_ID) in [(m["mark"], m["paper"]["id"]) for m in http.get("/api/marks").json()["marks"]]
    assert "'unsafe-inline'" not in http.get("/paper", params={"id": "evil-script"}).headers["content-security-policy"]


def test_concurrent_marks_all_land(directory):
    app = create_app(directory, allow_edits=True)
    ids = [p.id for p in Recommender.load(directory).index.papers()[:12]]
    results: list[int] = []
    errors: list[str] = []

    def one(base: str, pid: str) -> None:
        try:
            with httpx.Client(base_url=base, timeout=60) as c:
                token = c.get("/api/csrf").json()["csrf_token"]
                results.append(
                    c.post("/api/mark", data={"paper": pid, "mark": "like"}, headers={"X-CSRF-Token": token}).status_code
                )
        except httpx.HTTPError as exc:
            errors.append(repr(exc))

    with live_server(app) as base:
        threads = [threading.Thread(target=one, args=(base, pid)) for pid in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        listed = httpx.get(f"{base}/api/marks").json()["marks"]
    assert errors == [] and results == [200] * len(ids)
    assert sorted(m["paper"]["id"] for m in listed) == sorted(ids)
    assert json.loads((directory / MARKS_FILE).read_text())["format"] == "paperlike-marks"


def test_openapi_and_the_api_page_describe_the_mark_endpoints(editable):
    app, http = editable
    spec = http.get("/api/openapi.json").json()
    assert {r.path for r in app.routes if r.path.startswith("/api/")} == set(spec["paths"])
    post = spec["paths"]["/api/mark"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/x-www-form-urlencoded", "multipart/form-data", "application/json"}
    fields = post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert set(fields) == {"paper", "mark", "csrf_token"} and fields["mark"]["enum"] == ["like", "dislike", "clear"]
    assert spec["paths"]["/api/marks"]["get"]["parameters"] == []
    assert {"MarkChanges", "Marks"} <= set(spec["components"]["schemas"])
    page = http.get("/api").text
    row = page[page.index("<code>/api/mark</code>") :].split("</tr>")[0]
    assert "<code>paper</code>, <code>mark</code>, <code>csrf_token</code> (body)" in row
