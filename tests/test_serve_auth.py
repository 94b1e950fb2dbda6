"""``paperlike serve`` with a token: guesses are throttled, a guessable token is refused, only the
real login cookie logs in, nothing of the index shows before login; and the local-host check,
and the error page's "did you mean" list, take no hostile name or title for something else."""

from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from click.testing import CliRunner  # noqa: E402

from paperlike.cli import cli  # noqa: E402
from paperlike.errors import PaperlikeError  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from paperlike.web import pages as web_pages  # noqa: E402
from paperlike.web.backend import read_generation  # noqa: E402
from paperlike.web.security import AUTH_COOKIE, Guard, check_bind, is_local_host  # noqa: E402
from paperlike.web.throttle import GLOBAL, PER_CLIENT, WINDOW  # noqa: E402
from serve_support import build_serve_index, client  # noqa: E402

TOKEN = "s3cret-token-for-tests-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": "Bearer wrong-token-0123456789abcdef"}
# Two papers sharing a title prefix, their titles markup: an ambiguous query lists both.
PREFIX = "Hostile twins here"  # three words: a title start that names papers (shorter is free text)
TWINS = [
    {"id": "twin-script", "title": f"{PREFIX} <script>alert(9)</script> one", "abstract": "Distillation of twins."},
    {"id": "twin-img", "title": f"{PREFIX} <img src=x onerror=alert(9)> two", "abstract": "Distillation of twins too."},
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_serve_index(tmp_path_factory.mktemp("serve-auth") / "index", TWINS)


def _guard(app) -> Guard:
    """The app's Guard middleware (built on the first request)."""
    client(app).get("/static/style.css")
    layer = app.middleware_stack
    while not isinstance(layer, Guard):
        layer = layer.app
    return layer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def token_app(index_dir):
    app = create_app(index_dir, token=TOKEN)
    clock = FakeClock()
    _guard(app).throttle.clock = clock
    return app, clock


def _from(app, address: str):
    return client(app, client=(address, 40000))


def test_wrong_bearer_tokens_are_throttled_per_address(token_app):
    app, clock = token_app
    guesser = _from(app, "10.0.0.1")
    codes = [guesser.get("/api/info", headers=WRONG).status_code for _ in range(PER_CLIENT)]
    assert codes == [401] * PER_CLIENT
    # Then even the right token is not checked from that address: a guess learns nothing.
    locked = guesser.get("/api/info", headers=BEARER)
    assert locked.status_code == 429 and "too many wrong tokens from your address" in locked.json()["error"]
    assert guesser.get("/api/info", headers=WRONG).status_code == 429
    assert _from(app, "10.0.0.2").get("/api/info", headers=BEARER).status_code == 200  # others are not locked out
    clock.now += WINDOW + 1
    assert guesser.get("/api/info", headers=BEARER).status_code == 200


def test_wrong_tokens_from_many_addresses_are_throttled_together(token_app):
    app, clock = token_app
    for i in range(GLOBAL):
        assert _from(app, f"10.1.{i // 250}.{i % 250}").get("/api/info", headers=WRONG).status_code == 401
    fresh = _from(app, "10.2.0.1").get("/api/info", headers=BEARER)
    assert fresh.status_code == 429 and "too many wrong tokens lately" in fresh.json()["error"]
    clock.now += WINDOW + 1
    assert _from(app, "10.2.0.1").get("/api/info", headers=BEARER).status_code == 200


def _login_form(http) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', http.get("/login").text).group(1)


def test_wrong_tokens_on_the_login_form_are_throttled(token_app, monkeypatch):
    app, _ = token_app

    async def no_wait(_seconds: float) -> None:
        return None

    monkeypatch.setattr(web_pages.asyncio, "sleep", no_wait)  # the form's own 1 s pause, not under test
    http = _from(app, "10.3.0.1")
    csrf = _login_form(http)
    for _ in range(PER_CLIENT):
        assert http.post("/login", data={"token": "wrong-guess", "csrf_token": csrf}).status_code == 401
    right = http.post("/login", data={"token": TOKEN, "csrf_token": csrf}, follow_redirects=False)
    assert right.status_code == 429 and AUTH_COOKIE not in right.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "cookie",
    [
        "x",
        "a" * 64,
        "0" * 64,
        TOKEN,  # the token itself is not the cookie
        "not-the-cookie-" + secrets.token_hex(24),
    ],
)
def test_only_the_real_login_cookie_logs_in(index_dir, cookie):
    app = create_app(index_dir, token=TOKEN)
    http = client(app, cookies={AUTH_COOKIE: cookie})
    assert http.get("/api/info").status_code == 401
    assert http.get("/").status_code == 401
    real = client(app, cookies={AUTH_COOKIE: _guard(app).login_cookie()})
    assert real.get("/api/info").status_code == 200


def test_nothing_of_the_index_shows_before_login(index_dir, token_app):
    app, _ = token_app
    generation = read_generation(index_dir)
    http = _from(app, "10.4.0.1")
    csrf = _login_form(http)
    pages = [
        http.get("/login"),
        http.post("/login", data={"token": "wrong-guess", "csrf_token": csrf}),
        http.get("/"),
        http.get("/api/info"),
        http.get("/paper?id=tame"),
        http.get("/themes"),
        http.get("/no-such-page"),
    ]
    for _ in range(PER_CLIENT):
        http.get("/api/info", headers=WRONG)
    pages.append(http.post("/login", data={"token": TOKEN, "csrf_token": csrf}))  # the 429 page
    assert pages[-1].status_code == 429
    for r in pages:
        assert r.status_code in (200, 401, 429), r.status_code
        assert generation not in r.text and " papers" not in r.text and "distil" not in r.text.lower(), r.text[:300]


@pytest.mark.parametrize(
    "token",
    ["a" * 16, "a" * 40, "ab" * 8, "abcabcabcabcabcabc", "0123012301230123", "password12345678", "1111111111111111x"],
)
def test_guessable_tokens_are_refused(token):
    with pytest.raises(PaperlikeError, match="too easy to guess"):
        check_bind("127.0.0.1", False, token)
    with pytest.raises(PaperlikeError, match="too easy to guess"):
        check_bind("0.0.0.0", True, token)


def test_random_tokens_are_accepted():
    for token in (secrets.token_urlsafe(24), secrets.token_hex(16), TOKEN):
        check_bind("0.0.0.0", True, token)


def test_cli_refuses_a_guessable_token_in_one_line(index_dir, monkeypatch):
    monkeypatch.setenv("PAPERLIKE_SERVE_TOKEN", "a" * 16)
    monkeypatch.setattr("paperlike.web.app.run", lambda *args, **kwargs: None)  # never listen, whatever happens
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--index-dir", str(index_dir)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "too easy to guess" in lines[0] and "secrets.token_urlsafe" in lines[0]


LOOKALIKES = [
    "127.0.0.1.nip.io",
    "localhost.evil.example",
    "127.evil.example",
    "127.0.0.1.evil.example",
    "localhostevil.example",
    "localhost.",
    "evil.localhost.example",
    "0x7f.0.0.1",
    "127.0.0.1%2eevil",
]


@pytest.mark.parametrize("host", LOOKALIKES)
def test_names_that_only_look_local_are_not_local(index_dir, host):
    if host != "localhost.":  # the fully qualified "localhost." is this machine
        assert not is_local_host(host)
        r = client(create_app(index_dir)).get("/api/info", headers={"host": f"{host}:8000"})
        assert r.status_code == 421


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_did_you_mean_lists_hostile_titles_as_text(index_dir):
    http = client(create_app(index_dir))
    for path in (f"/?q={PREFIX}", f"/paper?id={PREFIX}"):
        r = http.get(path)
        assert r.status_code == 409, (path, r.status_code)
        parser = _Tags()
        parser.feed(r.text)
        assert not [t for t, _ in parser.tags if t in ("script", "img")]
        assert "<script>alert(9)" not in r.text and "<img src=x onerror" not in r.text
        # Both twins are listed, as escaped text.
        assert "&lt;script&gt;alert(9)&lt;/script&gt; one" in r.text
        assert "&lt;img src=x onerror=alert(9)&gt; two" in r.text
