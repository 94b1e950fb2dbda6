"""``paperlike serve``'s resource policy: a read-only server writes nothing beside its index, a
page on another site cannot make it compute theme sets or maps, what it computes is bounded,
a removed index stays removed, and slow clients are cut off."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import socket
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from paperlike.storage.lexical import lexical_folder  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from paperlike.web.backend import read_generation  # noqa: E402
from paperlike.web.connections import GuardedH11Protocol, OncePerMinute, quiet_accept_errors  # noqa: E402
from paperlike.web.generations import DERIVED_KEPT  # noqa: E402
from paperlike.web.policy import MAX_HEAVY_PENDING  # noqa: E402
from serve_support import build_serve_index, client  # noqa: E402

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8000"}
# What a page on another site makes a browser send (an <img>, a form, a fetch, a link).
FOREIGN = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another port or subdomain of the same site
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed frame
    {"Referer": "http://evil.example/page.html"},
    {"Referer": "http://127.0.0.1:9999/other-local-app"},
]
# Every request that computes a theme set or a map.
EXPENSIVE = [
    "/api/themes",
    "/api/themes?n=4",
    "/api/theme?name=t1",
    "/api/map",
    "/api/map?n=3",
    "/api/similar?q=distillation&theme=t1",
    "/api/export?format=bibtex&theme=t1",
    "/themes?n=5",
    "/theme?name=t1",
]


def folder_state(directory: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under ``directory`` (files and folders) with its mode, mtime and content hash."""
    out = {}
    for p in sorted([directory, *directory.rglob("*")]):
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(directory))] = (st.st_mode, st.st_mtime_ns, digest)
    return out


@contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """The folder and its files made read-only (as a read-only mount would be; root ignores it,
    so the tests also compare the folder's state before and after)."""
    paths = [directory, *directory.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
    try:
        yield
    finally:
        for p in reversed(paths):
            p.chmod(stat.S_IMODE(modes[p]))


@pytest.fixture
def bare_index(tmp_path):
    """An index as built, without a saved BM25 folder: a server has to build it to answer."""
    directory = build_serve_index(tmp_path / "index")
    assert not lexical_folder(directory, read_generation(directory)).exists()
    return directory


def test_a_read_only_server_writes_nothing_beside_its_index(bare_index):
    with read_only(bare_index):
        before = folder_state(bare_index)
        app = create_app(bare_index)
        http = client(app)
        answered = [http.get(f"/api/themes?n={n}", headers=SAME_ORIGIN).status_code for n in range(2, 27)]
        answered += [http.get(path, headers=SAME_ORIGIN).status_code for path in EXPENSIVE]
        answered += [http.get(path).status_code for path in ("/?q=student+teacher", "/paper?id=evil-img", "/api/text?q=rare")]
        after = folder_state(bare_index)
    assert answered == [200] * len(answered)
    assert after == before  # no theme set, BM25 folder or .verified.json written
    # Kept in memory instead, a bounded number per generation.
    assert 0 < len(app.state.library.current().derived) <= DERIVED_KEPT


def test_an_editable_server_still_saves_theme_sets(bare_index):
    http = client(create_app(bare_index, allow_edits=True))
    assert http.get("/api/themes?n=3", headers=SAME_ORIGIN).status_code == 200
    assert any((bare_index / "themes").glob("*.json"))


def test_cross_site_requests_compute_no_themes_or_maps(tmp_path):
    directory = build_serve_index(tmp_path / "index")
    before = folder_state(directory)
    app = create_app(directory)
    http = client(app)
    for headers in FOREIGN:
        for path in EXPENSIVE:
            r = http.get(path, headers=headers)
            assert r.status_code == 403, (path, headers, r.text[:200])
            assert "another site asked this server to compute" in r.text
    assert len(app.state.library.current().derived) == 0  # nothing was computed
    assert folder_state(directory) == before
    # The refusal page links to the same page on this server, which computes it.
    page = http.get("/themes?n=5", headers=FOREIGN[0]).text
    assert 'href="/themes?n=5"' in page
    # What exists is served cross-site: after this server's own page computed the themes.
    assert http.get("/api/themes?n=4", headers=SAME_ORIGIN).status_code == 200
    assert http.get("/api/themes?n=4", headers=FOREIGN[0]).status_code == 200
    assert http.get("/api/themes?n=6", headers=FOREIGN[0]).status_code == 403
    # Cheap requests are answered whoever sends them (a browser keeps another site from reading them).
    assert http.get("/api/paper?id=evil-img", headers=FOREIGN[0]).status_code == 200


def test_heavy_work_beyond_the_cap_is_refused_at_once(tmp_path):
    app = create_app(build_serve_index(tmp_path / "index"))
    http = client(app)
    app.state.workers.heavy_pending = MAX_HEAVY_PENDING  # as if that many were running or waiting
    r = http.get("/api/themes?n=3", headers=SAME_ORIGIN)
    assert r.status_code == 503 and "busy with" in r.json()["error"]
    assert len(app.state.library.current().derived) == 0
    app.state.workers.heavy_pending = 0
    assert http.get("/api/themes?n=3", headers=SAME_ORIGIN).status_code == 200


def test_a_removed_index_stays_removed_and_comes_back(tmp_path):
    directory = build_serve_index(tmp_path / "index")
    app = create_app(directory, allow_edits=True)
    http = client(app)
    first = http.get("/api/info").json()["generation"]
    shutil.rmtree(directory)
    token = http.get("/api/csrf").json()["csrf_token"]
    for path in ["/", "/?q=distillation", "/paper?id=evil-img", "/themes", "/map", "/add", *EXPENSIVE, "/api/info"]:
        r = http.get(path, headers=SAME_ORIGIN)
        assert r.status_code == 503 and "is gone" in r.text, (path, r.status_code)
    r = http.post("/api/add", files={"file": ("x.jsonl", b'{"id": "x", "title": "X"}\n')}, headers={"X-CSRF-Token": token})
    assert r.status_code == 503
    assert not directory.exists()  # no request made any part of it again
    # An index built there again is served (a new generation).
    build_serve_index(directory)
    app.state.library.wait_idle()
    again = http.get("/api/info")
    assert again.status_code == 200 and again.json()["generation"] != first


# -- slow clients ------------------------------------------------------------------------------


@contextmanager
def live(app, monkeypatch, header_timeout: float, max_connections: int) -> Iterator[int]:
    """``app`` served as ``paperlike serve`` serves it (its uvicorn settings), on a loopback port."""
    import uvicorn

    from paperlike.web.app import _UVICORN, bind

    monkeypatch.setattr(GuardedH11Protocol, "header_timeout", header_timeout)
    monkeypatch.setattr(GuardedH11Protocol, "max_connections", max_connections)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, **_UVICORN))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _closed_by_server(sock: socket.socket, within: float = 15.0) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(100) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_requests_whose_headers_never_finish_are_closed(tmp_path, monkeypatch):
    import httpx

    app = create_app(build_serve_index(tmp_path / "index"))
    with live(app, monkeypatch, header_timeout=1.0, max_connections=512) as port:
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            for i, s in enumerate(slow):
                partial = [b"", b"GET / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "][i % 3]
                s.sendall(partial)
            assert httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=30).status_code == 200
            assert all(_closed_by_server(s) for s in slow)
            assert httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=30).status_code == 200
        finally:
            for s in slow:
                s.close()


def test_connections_beyond_the_cap_are_closed_at_once(tmp_path, monkeypatch):
    import httpx

    app = create_app(build_serve_index(tmp_path / "index"))
    # A header time-out far longer than the wait below: only the cap can close a connection.
    with live(app, monkeypatch, header_timeout=600.0, max_connections=5) as port:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        extra = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        try:
            assert all(_closed_by_server(s) for s in extra)
            assert not any(_closed_by_server(s, within=0.5) for s in held)
        finally:
            for s in held + extra:
                s.close()
        deadline = time.time() + 15
        while time.time() < deadline:  # the server notices the closed ones
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=30).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer again after the held connections closed")


def test_accept_errors_are_logged_once_a_minute(caplog, monkeypatch):
    """What asyncio's accept loop reports per retry when out of file descriptors."""
    now = [0.0]
    added = OncePerMinute(clock=lambda: now[0])
    logger = logging.getLogger("asyncio")
    monkeypatch.setattr(logger, "filters", [])  # only this one (an in-process `serve` may have added its own)
    logger.addFilter(added)
    loop = asyncio.new_event_loop()
    listener = socket.socket()
    try:
        context = {
            "message": "socket.accept() out of system resource",
            "exception": OSError(24, os.strerror(24)),
            "socket": listener,
        }
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            for _ in range(1000):
                loop.call_exception_handler(context)
            now[0] += 61
            for _ in range(1000):
                loop.call_exception_handler(context)
    finally:
        logger.removeFilter(added)
        loop.close()
        listener.close()
    records = [r for r in caplog.records if r.name == "asyncio"]
    assert len(records) == 2 and added.dropped == 1998
    assert records[0].exc_info is not None and records[1].exc_info is None  # one traceback in all


def test_serve_installs_the_accept_error_filter_once():
    first = quiet_accept_errors()
    assert quiet_accept_errors() is first
    assert sum(isinstance(f, OncePerMinute) for f in logging.getLogger("asyncio").filters) == 1


def test_a_theme_set_is_not_saved_into_a_removed_index(tmp_path):
    """The service's own guard, for a removal during a computation: no themes folder made."""
    from paperlike import Recommender
    from paperlike.embedding import HashingEmbedder

    directory = build_serve_index(tmp_path / "index")
    rec = Recommender.load(directory, embedder=HashingEmbedder())
    rec.index.all_vectors()
    rec.index.papers_at(range(rec.index.count))  # what the computation reads, read before the removal
    (directory / "manifest.json").unlink()
    rec.themes(n=3, save=True)
    assert not (directory / "themes").exists()
