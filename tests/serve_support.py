"""Helpers for the ``paperlike serve`` tests: a small index with hostile papers, the app, and a
real uvicorn server in a thread (for tests that need concurrency or a browser)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import write_jsonl
from paperlike.embedding import HashingEmbedder
from paperlike.readers import bundled_corpus, read_corpus
from paperlike.service.build import build_index

BASE = "http://127.0.0.1:8000"
EVIL_SCRIPT = "</script><script>alert(1)</script> Distilling evil students"
EVIL_IMG = '<img src=x onerror=alert(1)> Knowledge distillation & "quotes"'
HOSTILE = [
    {
        "id": "evil-script",
        "title": EVIL_SCRIPT,
        "abstract": "A paper about knowledge distillation <b>bold</b> & tricks.",
        "url": "javascript:alert(1)",
        "authors": ["<script>alert(2)</script>"],
        "doi": "10.1234/EVIL.1",
    },
    {
        "id": "evil-img",
        "title": EVIL_IMG,
        "abstract": "Student teacher distillation with <iframe src=//x>.",
        "arxiv_id": "2401.01234",
        "url": "https://example.org/paper?a=1&b=<2>",
    },
]


def build_serve_index(directory: Path, extra: list[dict] | None = None) -> Path:
    """The 75 bundled papers plus the hostile ones, indexed with the hashing embedder."""
    records = [p.to_dict() for p in bundled_corpus().papers] + HOSTILE + (extra or [])
    src = write_jsonl(directory.parent / f"{directory.name}.jsonl", records)
    build_index(read_corpus(src), HashingEmbedder(), directory)
    return directory


def client(app, **kwargs):
    from starlette.testclient import TestClient

    return TestClient(app, base_url=BASE, **kwargs)


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    from paperlike.web.app import bind

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
