"""Who may talk to the server, and which requests it trusts.

- It listens on this machine only, unless ``--allow-remote`` and a token are both given.
- Without a token, the ``Host`` header must name this machine: a web page whose domain was made
  to resolve to 127.0.0.1 (DNS rebinding) is refused, so it cannot read your library.
- With a token, every request but the login page and the static files carries it: as
  ``Authorization: Bearer TOKEN`` (API clients) or the cookie the login page sets (browsers).
  A guessable token is refused at start (:func:`token_bits`), wrong ones are throttled
  (:mod:`.throttle`), and pages shown before login carry nothing of the index.
- A request from another site (:func:`is_cross_site`) is marked so; :mod:`.policy` then gives
  it only the theme sets and maps already computed.
- A POST from another site is refused twice over: its ``Origin`` / ``Sec-Fetch-Site`` headers
  must say same-origin (when the browser sends them), and it must carry the per-session CSRF token
  (an HMAC of the session cookie with a secret made at start-up), which a page on another site
  cannot read. API clients with the bearer token need no CSRF token: browsers never attach it on
  their own.
- Every response forbids inline scripts, framing and sniffing (Content-Security-Policy etc.).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import math
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any

from paperlike.errors import PaperlikeError
from paperlike.settings import ENV_SERVE_TOKEN

from .throttle import Throttle

__all__ = [
    "ServeError",
    "TOKEN_ENV",
    "SESSION_COOKIE",
    "AUTH_COOKIE",
    "CSRF_HEADER",
    "is_local_host",
    "check_bind",
    "Guard",
    "csrf_matches",
]

TOKEN_ENV = ENV_SERVE_TOKEN
SESSION_COOKIE = "paperlike_session"
AUTH_COOKIE = "paperlike_auth"
CSRF_HEADER = "x-csrf-token"
MIN_TOKEN = 16
MIN_TOKEN_BITS = 80
_SESSION = re.compile(r"^[0-9a-f]{32}$")
_LOCAL_NAMES = {"localhost", "localhost.", "127.0.0.1", "::1", "[::1]"}
_PUBLIC_PREFIXES = ("/static/", "/login")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# plotly.js styles its own elements inline; only the map page allows that (scripts stay 'self').
MAP_CSP = CSP.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';")
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class ServeError(PaperlikeError):
    """The server cannot start as asked (an unsafe bind, a port in use, a missing extra), or
    refuses a request (a read-only server, a cross-site POST).

    Attributes:
        status: The HTTP status a refused request gets.
    """

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


def is_local_host(host: str) -> bool:
    """True for names and addresses of this machine only (loopback)."""
    host = host.strip().lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_bits(token: str) -> float:
    """An upper estimate of a token's entropy: its length times the Shannon entropy of its
    characters. Sixteen "a"s have 0 bits, ``secrets.token_urlsafe(24)`` about 150."""
    n = len(token)
    return float(sum(c * math.log2(n / c) for c in Counter(token).values()))


def check_bind(host: str, allow_remote: bool, token: str | None) -> None:
    """Refuse to listen beyond this machine unless explicitly allowed with a token.

    Raises:
        ServeError: A non-local host without ``--allow-remote`` and a token, or a short or
            guessable token (under :data:`MIN_TOKEN_BITS` by :func:`token_bits`).
    """
    if token is not None and len(token) < MIN_TOKEN:
        raise ServeError(
            f"the token is too short ({len(token)} characters); use at least {MIN_TOKEN}, "
            'e.g. python -c "import secrets; print(secrets.token_urlsafe(24))"'
        )
    if token is not None and token_bits(token) < MIN_TOKEN_BITS:
        raise ServeError(
            f"the token is too easy to guess (about {token_bits(token):.0f} bits; at least {MIN_TOKEN_BITS} needed: "
            'repeated or few distinct characters); make one with python -c "import secrets; print(secrets.token_urlsafe(24))"'
        )
    if is_local_host(host):
        return
    if not allow_remote or not token:
        raise ServeError(
            f"refusing to listen on '{host}': other machines could reach your library; to allow it, give "
            f"--allow-remote and --token TOKEN (or ${TOKEN_ENV}), or use --host 127.0.0.1"
        )


def _hostname(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def csrf_for(secret: bytes, session: str) -> str:
    return hmac.new(secret, f"csrf:{session}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(scope: Mapping[str, Any], given: str | None) -> bool:
    """True when ``given`` is the CSRF token of this request's session."""
    expected = scope.get("state", {}).get("csrf")
    return bool(given and expected and hmac.compare_digest(str(given), expected))


class Guard:
    """ASGI middleware applying the rules in the module docstring.

    Args:
        app: The wrapped app.
        secret: Random bytes made at start-up (CSRF and auth cookies are HMACs with it).
        token: The access token, or None for a local-only server.
    """

    def __init__(self, app: Any, *, secret: bytes, token: str | None):
        self.app = app
        self.secret = secret
        self.token = token
        self.auth_cookie = hmac.new(secret, f"auth:{token}".encode(), hashlib.sha256).hexdigest() if token else None
        self.throttle = Throttle()

    def login_cookie(self) -> str | None:
        """The cookie value that the login page sets once the token was given."""
        return self.auth_cookie

    def token_matches(self, given: str | None) -> bool:
        return bool(self.token and given and hmac.compare_digest(given.encode(), self.token.encode()))

    def _check_bearer(self, given: str | None, client: str) -> tuple[bool, str | None]:
        """``(the bearer token is right, why it was not checked)``; a wrong one is counted."""
        if not self.token or given is None:
            return False, None
        refused = self.throttle.refusal(client)
        if refused is not None:
            return False, refused
        if self.token_matches(given):
            return True, None
        self.throttle.failed(client)
        return False, None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        cookies = _cookies(headers.get("cookie", ""))
        session = cookies.get(SESSION_COOKIE, "")
        fresh = not _SESSION.match(session)
        if fresh:
            session = secrets.token_hex(16)
        state = scope.setdefault("state", {})
        state.update(session=session, csrf=csrf_for(self.secret, session), guard=self)
        client = str((scope.get("client") or ("",))[0])
        state["bearer"], throttled = self._check_bearer(_bearer(headers.get("authorization", "")), client)
        state["cross_site"] = is_cross_site(headers, f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")
        refusal = (429, throttled) if throttled else self._refusal(scope, headers, cookies, path, state)
        if refusal is not None:
            await _refuse(send, path, *refusal)
            return
        set_cookie = fresh and (not path.startswith("/api/") or path == "/api/csrf")

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"content-security-policy", (MAP_CSP if path == "/map" else CSP).encode()), *_HEADERS]
                if set_cookie:
                    extra.append((b"set-cookie", f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(
        self, scope: dict[str, Any], headers: dict[str, str], cookies: dict[str, str], path: str, state: dict[str, Any]
    ) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if not self.token and not is_local_host(_hostname(host)):
            return 421, (
                f"refused: the Host header '{host[:80]}' does not name this machine (a page on another site "
                "cannot reach this server); open http://127.0.0.1:PORT/ instead"
            )
        cookie = cookies.get(AUTH_COOKIE, "")
        # Only the exact login cookie of this server's secret and token counts, never any cookie.
        logged_in = bool(self.auth_cookie and cookie and hmac.compare_digest(cookie, self.auth_cookie))
        state["authenticated"] = not self.token or state["bearer"] or logged_in
        if not state["authenticated"] and not path.startswith(_PUBLIC_PREFIXES):
            return 401, "this server needs its access token: log in at /login, or send Authorization: Bearer TOKEN"
        if scope.get("method", "GET") not in ("GET", "HEAD", "OPTIONS"):
            site = headers.get("sec-fetch-site")
            origin = headers.get("origin")
            expected = f"{scope.get('scheme', 'http')}://{host}"
            if site is not None and site not in ("same-origin", "none"):
                return (
                    403,
                    f"cross-site request refused (Sec-Fetch-Site: {site[:40]}); submit the form from this server's own page",
                )
            if origin is not None and origin != expected:
                return (
                    403,
                    f"cross-site request refused (Origin {origin[:80]} is not {expected[:80]}); submit the form from this server's own page",
                )
        return None


def _origin_of(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme.lower()}://{rest.split('/', 1)[0].split('?', 1)[0].split('#', 1)[0].lower()}" if sep else url


def is_cross_site(headers: Mapping[str, str], own: str) -> bool:
    """True when the browser says another site (or another port) made this request: by
    ``Sec-Fetch-Site``, or an ``Origin`` / ``Referer`` that is not ``own`` (``scheme://host``).
    Requests without any of them (command-line clients, old browsers) are not cross-site."""
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return True
    own = own.lower()
    origin = headers.get("origin")
    if origin is not None and _origin_of(origin) != own:
        return True
    referer = headers.get("referer")
    return bool(referer) and _origin_of(str(referer)) != own


def _bearer(value: str) -> str | None:
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _cookies(header: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a malformed Cookie header is just no cookies
        return {}
    return {k: m.value for k, m in jar.items()}


async def _refuse(send: Any, path: str, status: int, message: str) -> None:
    if path.startswith("/api/"):
        body = json.dumps({"error": message, "type": "ServeError", "status": status}).encode()
        ctype = b"application/json"
    else:
        link = '<p><a href="/login">Log in</a></p>' if status == 401 else ""
        body = (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error {status}</title></head>'
            f"<body><h1>Error {status}</h1><p>{html.escape(message)}</p>{link}</body></html>"
        ).encode()
        ctype = b"text/html; charset=utf-8"
    headers = [
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
        (b"content-security-policy", CSP.encode()),
        *_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
