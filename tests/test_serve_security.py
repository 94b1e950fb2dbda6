"""``paperlike serve`` is safe by default: local bind, Host check, tokens, CSRF, no file-system
paths from requests, hostile paper text shown as text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from click.testing import CliRunner  # noqa: E402

from paperlike.cli import cli  # noqa: E402
from paperlike.errors import PaperlikeError  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from paperlike.web.security import check_bind, is_local_host  # noqa: E402
from serve_support import EVIL_IMG, EVIL_SCRIPT, build_serve_index, client  # noqa: E402

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_serve_index(tmp_path_factory.mktemp("serve-sec") / "index")


@pytest.fixture(scope="module")
def http(index_dir):
    return client(create_app(index_dir))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_local_hosts_are_allowed(host):
    assert is_local_host(host)
    check_bind(host, False, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.org", ""])
def test_non_local_bind_needs_the_flag_and_a_token(host):
    for allow, token in ((False, None), (True, None), (False, TOKEN)):
        with pytest.raises(PaperlikeError, match="refusing to listen on"):
            check_bind(host, allow, token)
    check_bind(host, True, TOKEN)
    with pytest.raises(PaperlikeError, match="token is too short"):
        check_bind(host, True, "short")


def test_cli_refuses_a_non_local_bind_before_listening(index_dir, monkeypatch):
    monkeypatch.delenv("PAPERLIKE_SERVE_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--index-dir", str(index_dir)])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("Error: refusing to listen on '0.0.0.0'")
    monkeypatch.setenv("PAPERLIKE_SERVE_TOKEN", "tiny")
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--allow-remote", "--index-dir", str(index_dir)])
    assert result.exit_code == 2 and "token is too short" in result.stderr


def test_a_port_in_use_is_one_error_line(index_dir):
    from paperlike.web.app import bind

    taken = bind("127.0.0.1", 0)
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", str(taken.getsockname()[1]), "--index-dir", str(index_dir)])
    finally:
        taken.close()
    assert result.exit_code == 2 and "choose another with --port" in result.stderr and "Traceback" not in result.stderr


def test_foreign_host_header_is_refused(http):
    # A page whose domain resolves to 127.0.0.1 (DNS rebinding) must not read the library.
    r = http.get("/api/paper", params={"id": "tame"}, headers={"host": "evil.example:8000"})
    assert r.status_code == 421 and "does not name this machine" in r.json()["error"]
    assert http.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_security_headers(index_dir):
    r = client(create_app(index_dir)).get("/")  # a fresh client: no session cookie yet
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    map_csp = client(create_app(index_dir)).get("/map").headers["content-security-policy"]
    assert "script-src 'self';" in map_csp and "style-src 'self' 'unsafe-inline'" in map_csp  # plotly styles inline
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]


@pytest.fixture
def editable(tmp_path):
    directory = build_serve_index(tmp_path / "index")
    return directory, client(create_app(directory, allow_edits=True))


NEW = b'{"id": "brand-new", "title": "A brand new paper on distilling students", "abstract": "Teachers and students."}\n'


def _csrf(http) -> str:
    return http.get("/api/csrf").json()["csrf_token"]


def test_upload_adds_papers_with_the_session_token(editable):
    directory, http = editable
    token = _csrf(http)
    before = http.get("/api/info").json()["generation"]
    r = http.post("/api/add", files={"file": ("new.jsonl", NEW)}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["added"] == 1 and report["added_ids"] == ["brand-new"] and report["generation"] != before
    assert http.get("/api/paper", params={"id": "brand-new"}).status_code == 200


@pytest.mark.parametrize(
    "headers, why",
    [
        ({}, "CSRF token is missing"),
        ({"X-CSRF-Token": "0" * 64}, "CSRF token is missing or stale"),
        ({"Origin": "http://evil.example"}, "Origin http://evil.example"),
        ({"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: cross-site"),
    ],
)
def test_cross_site_posts_are_refused_and_change_nothing(editable, headers, why):
    from conftest import tree_snapshot

    directory, http = editable
    if "Origin" in headers or "Sec-Fetch-Site" in headers:
        headers = {**headers, "X-CSRF-Token": _csrf(http)}  # even with the right token
    before = tree_snapshot(directory)
    r = http.post("/api/add", files={"file": ("new.jsonl", NEW)}, headers=headers)
    assert r.status_code == 403 and why in r.json()["error"]
    assert tree_snapshot(directory) == before


def test_a_token_from_another_session_is_refused(editable, index_dir):
    _, http = editable
    other = client(create_app(index_dir, allow_edits=True))
    stolen = _csrf(other)
    _csrf(http)
    r = http.post("/api/add", files={"file": ("new.jsonl", NEW)}, headers={"X-CSRF-Token": stolen})
    assert r.status_code == 403


def test_upload_names_never_reach_the_file_system(editable, tmp_path, monkeypatch):
    directory, http = editable
    monkeypatch.chdir(tmp_path)
    r = http.post("/api/add", files={"file": ("../../../../tmp/evil-upload.jsonl", NEW)}, headers={"X-CSRF-Token": _csrf(http)})
    assert r.status_code == 200 and r.json()["added"] == 1
    assert not (tmp_path / "evil-upload.jsonl").exists() and not list(tmp_path.parent.glob("evil-upload*"))
    broken = http.post(
        "/api/add",
        files={"file": ("../secret/broken.jsonl", b"not json\n")},
        data={"strict": "1"},
        headers={"X-CSRF-Token": _csrf(http)},
    )
    body = broken.json()
    assert broken.status_code == 422 and body["error"].startswith("broken.jsonl:1: not valid JSON")
    assert "paperlike-upload" not in body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/..%2f..%2fpyproject.toml",
        "/static/templates/base.html",
        "/static/..",
        "/static/%00",
        "/static/style.css%00.js",
        "/../../etc/passwd",
        "/paper?id=/etc/passwd",
        "/api/export?format=../../etc/passwd",
    ],
)
def test_path_traversal_reads_no_file(index_dir, path):
    status, body = _raw_get(create_app(index_dir), path)
    assert status in (400, 404), (path, status)
    assert b"root:" not in body and b"[build-system]" not in body and b"{% block" not in body


def _raw_get(app, target: str) -> tuple[int, bytes]:
    """Send the path exactly as written (as uvicorn would pass it, percent-decoded), with no
    client normalising ``..`` away first."""
    import asyncio
    from urllib.parse import unquote

    raw_path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


@pytest.mark.parametrize(
    "path",
    [
        "/paper?id=evil-script",
        "/paper?id=evil-img",
        "/?q=distilling+evil+students+knowledge",
        "/?q=evil-script",
        "/paper?id=autodistil&like=evil-script&not=evil-img",
        "/?q=%3Cscript%3Ealert(1)%3C/script%3E+words+here",
        "/paper?id=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
    ],
)
def test_hostile_titles_are_text_on_every_page(http, path):
    page = http.get(path).text
    tags = _tags(page)
    assert not [t for t, a in tags if t == "script"]  # no script at all on these pages
    assert not [a for t, a in tags if t == "img" or any(k.startswith("on") for k in a)]
    assert not [a for t, a in tags if t == "a" and a.get("href", "").lower().startswith("javascript")]
    assert "<script>alert" not in page and "<img src=x" not in page and "<iframe" not in page


def test_hostile_title_is_shown_escaped(http):
    page = http.get("/paper", params={"id": "evil-script"}).text
    h1 = re.search(r'<h1 id="paper-title">(.*?)</h1>', page, re.S).group(1)
    assert h1 == "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; Distilling evil students"
    assert "javascript:alert" not in re.findall(r'href="([^"]*)"', page)
    img = http.get("/paper", params={"id": "evil-img"}).text
    assert "&lt;img src=x onerror=alert(1)&gt; Knowledge distillation &amp; &#34;quotes&#34;" in img
    assert EVIL_SCRIPT not in page and EVIL_IMG not in img
    # A result's byline (authors, year, venue) is text too.
    listed = http.get("/", params={"q": "evil-img"}).text
    assert '<div class="byline">&lt;script&gt;alert(2)&lt;/script&gt;</div>' in listed and "<script>alert(2)" not in listed


def test_token_mode_needs_the_token_everywhere(index_dir):
    app = create_app(index_dir, token=TOKEN)
    http = client(app)
    assert http.get("/api/paper", params={"id": "tame"}).status_code == 401
    assert http.get("/").status_code == 401
    assert http.get("/static/style.css").status_code == 200  # public assets
    # The token works from any Host (it, not the Host header, is what protects a remote server).
    ok = http.get("/api/paper", params={"id": "tame"}, headers={"Authorization": f"Bearer {TOKEN}", "host": "lab-server:8000"})
    assert ok.status_code == 200
    assert (
        http.get("/api/paper", params={"id": "tame"}, headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code
        == 401
    )
    login = http.get("/login")
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', login.text).group(1)
    bad = http.post("/login", data={"token": "nope", "csrf_token": csrf})
    assert bad.status_code == 401
    good = http.post("/login", data={"token": TOKEN, "csrf_token": csrf}, follow_redirects=False)
    assert good.status_code == 303 and "paperlike_auth" in good.headers["set-cookie"]
    assert http.get("/api/paper", params={"id": "tame"}).status_code == 200  # the cookie now authenticates
