"""A local stand-in for the arXiv API and Crossref, serving recorded answers (tests/fixtures/online/).

The arXiv side keeps the entries of ``arxiv_records.xml`` as recorded text and answers
``id_list`` queries (the entries of those ids, in a feed of the arXiv API's shape) and
``search_query=cat:X`` listings (the entries of that category, newest first, ``max_results`` of
them); the Crossref side answers ``/works/{doi}`` with the recorded JSON of ``crossref_works.json``
or arXiv's and Crossref's real 404 (``Resource not found.``). A test can make the next answers
misbehave (:attr:`FakeServices.trouble`): rate limits, slowness, huge, malformed or hostile bodies.

No test touches the internet: the base URLs are pointed here through the settings' environment
variables (``PAPERLIKE_ARXIV_API``, ``PAPERLIKE_CROSSREF_API``).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

FIX = Path(__file__).resolve().parent / "fixtures" / "online"
_ENTRY = re.compile(r"  <entry>.*?</entry>\n", re.DOTALL)
_ID = re.compile(r"<id>http://arxiv\.org/abs/(.+?)(?:v\d+)?</id>")
_CATEGORY = re.compile(r'<category term="([^"]+)"')
_PUBLISHED = re.compile(r"<published>(.+?)</published>")
_FEED_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?{query}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: {title}</title>
  <id>http://arxiv.org/api/recorded</id>
  <updated>2024-01-06T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:itemsPerPage>
"""
# arXiv's answer to an id it cannot read (HTTP 400, an Atom feed with one error entry).
ARXIV_ERROR_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=&amp;id_list=1234.5678&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/recorded-error</id>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.5678</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.5678</summary>
    <updated>2024-01-06T00:00:00-05:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_1234.5678" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
"""


# Ids, DOIs and categories whose answer misbehaves, always (docs/errors.md runs commands that name them).
MAGIC = {
    "2401.99429": "429",
    "2401.99503": "503",
    "2401.99408": "slow",
    "2401.99413": "huge",
    "2401.99200": "html",
    "2401.99201": "malformed",
    "2401.99666": "dtd",
    "2401.99400": "error-entry",
    "2401.99302": "redirect-file",
    "2401.99509": "rate-exceeded",
    "10.5555/429": "429",
    "10.5555/slow": "slow",
    "10.5555/not-json": "not-json",
    "cs.slow": "trickle",
}


def _entries() -> dict[str, tuple[str, list[str], str]]:
    text = (FIX / "arxiv_records.xml").read_text(encoding="utf-8")
    out = {}
    for match in _ENTRY.finditer(text):
        entry = match.group(0)
        arxiv_id = _ID.search(entry).group(1)
        out[arxiv_id] = (entry, _CATEGORY.findall(entry), _PUBLISHED.search(entry).group(1))
    return out


class FakeServices:
    """What the server answers, and what it was asked.

    Attributes:
        requests: ``(service, path and query)`` of every request, in order.
        trouble: ``{"arxiv" | "crossref": kind}``: how the next answers of that service
            misbehave (``"429"``, ``"503"``, ``"slow"``, ``"huge"``, ``"malformed"``, ``"html"``,
            ``"dtd"``, ``"rate-exceeded"``, ``"error-entry"``, ``"trickle"``), until removed.
        user_agents: The User-Agent of every request.
    """

    def __init__(self) -> None:
        self.arxiv = _entries()
        self.crossref = json.loads((FIX / "crossref_works.json").read_text(encoding="utf-8"))
        self.requests: list[tuple[str, str]] = []
        self.user_agents: list[str] = []
        self.trouble: dict[str, str] = {}
        self.slow_seconds = 3.0
        self.lock = threading.Lock()

    def magic(self, service: str, path: str, query: dict[str, list[str]]) -> str | None:
        """The misbehaviour a request asks for by naming a :data:`MAGIC` id, DOI or category."""
        if service == "crossref":
            return MAGIC.get(unquote(path.removeprefix("/crossref/works/")).lower())
        names = [i for part in query.get("id_list", []) for i in part.split(",")]
        names += [q.removeprefix("cat:") for q in query.get("search_query", [])]
        return next((MAGIC[n] for n in names if n in MAGIC), None)

    def count(self, service: str | None = None) -> int:
        return sum(1 for s, _ in self.requests if service is None or s == service)

    def arxiv_answer(self, query: dict[str, list[str]], raw: str) -> tuple[int, str, bytes]:
        ids = [i for part in query.get("id_list", []) for i in part.split(",") if i]
        if ids:
            chosen = [self.arxiv[i][0] for i in ids if i in self.arxiv]
            title = f"search_query=&amp;id_list={','.join(ids)}"
        else:
            search = query.get("search_query", [""])[0]
            category = search.removeprefix("cat:")
            limit = int(query.get("max_results", ["10"])[0])
            found = sorted((v for v in self.arxiv.values() if category in v[1]), key=lambda v: v[2], reverse=True)
            chosen = [v[0] for v in found[:limit]]
            title = f"search_query={search}&amp;id_list=&amp;start=0&amp;max_results={limit}"
        head = _FEED_HEAD.format(query=raw.replace("&", "&amp;"), title=title, total=len(chosen))
        return 200, "application/atom+xml; charset=utf-8", (head + "".join(chosen) + "</feed>\n").encode("utf-8")

    def crossref_answer(self, path: str) -> tuple[int, str, bytes]:
        doi = unquote(path.removeprefix("/crossref/works/")).lower()
        if doi not in self.crossref:
            return 404, "text/plain", b"Resource not found."
        return 200, "application/json", json.dumps(self.crossref[doi]).encode("ascii")


def _trouble(kind: str) -> tuple[int, str, bytes, dict[str, str]]:
    if kind in ("429", "503"):
        return int(kind), "text/plain", b"Too Many Requests", {"Retry-After": "7"}
    if kind == "huge":
        return 200, "application/atom+xml", b"<feed>" + b" " * 6_000_000 + b"</feed>", {}
    if kind == "malformed":
        return (
            200,
            "application/atom+xml",
            b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>cut',
            {},
        )
    if kind == "html":  # a network's login page instead of the answer
        return 200, "text/html", b"<html><body><form>Log in to the hotel wifi</form></body></html>", {}
    if kind == "dtd":  # entities that would expand to gigabytes
        laughs = b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">' + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
        )
        return 200, "application/atom+xml", laughs + b']><feed xmlns="http://www.w3.org/2005/Atom"><title>&i;</title></feed>', {}
    if kind == "rate-exceeded":
        return 200, "text/plain", b"Rate exceeded.", {}
    if kind == "error-entry":
        return 400, "application/atom+xml", ARXIV_ERROR_FEED.encode(), {}
    if kind == "error-entry-200":
        return 200, "application/atom+xml", ARXIV_ERROR_FEED.encode(), {}
    if kind == "redirect-file":  # a redirect to a local file: must never be followed
        return 302, "text/plain", b"", {"Location": "file:///etc/passwd"}
    if kind == "redirect-ftp":  # urllib follows ftp: redirects; paperlike must not
        return 302, "text/plain", b"", {"Location": "ftp://127.0.0.1:1/feed.xml"}
    if kind == "not-json":
        return 200, "application/json", b'{"status": "ok", "message": [' + b"[" * 100_000, {}
    raise ValueError(kind)


def _handler(services: FakeServices) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            service = "crossref" if parts.path.startswith("/crossref/") else "arxiv"
            with services.lock:
                services.requests.append((service, self.path))
                services.user_agents.append(self.headers.get("User-Agent", ""))
            kind = services.trouble.get(service) or services.magic(service, parts.path, parse_qs(parts.query))
            if kind in ("slow", "trickle"):
                self._slow(kind)
                return
            if kind is not None:
                status, ctype, body, headers = _trouble(kind)
            elif service == "crossref":
                status, ctype, body = services.crossref_answer(parts.path)
                headers = {}
            else:
                status, ctype, body = services.arxiv_answer(parse_qs(parts.query), parts.query)
                headers = {}
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _slow(self, kind: str) -> None:
            try:
                if kind == "slow":
                    time.sleep(services.slow_seconds)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                # Headers at once, then one byte now and then: each read is quick, the whole is not.
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml")
                self.end_headers()
                for _ in range(int(services.slow_seconds * 10)):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def fake_services() -> Iterator[tuple[FakeServices, str]]:
    """A running server (127.0.0.1, a free port) and its base URL."""
    services = FakeServices()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(services))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield services, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def point_at(monkeypatch, base: str) -> None:
    """Point paperlike's arXiv and Crossref base URLs at the fake server (and no proxy in between)."""
    monkeypatch.setenv("PAPERLIKE_ARXIV_API", f"{base}/api/query")
    monkeypatch.setenv("PAPERLIKE_CROSSREF_API", f"{base}/crossref")
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
