"""``paperlike serve`` as a user starts it: a real process, one or several workers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from serve_support import build_serve_index  # noqa: E402


def _start(args: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperlike", "serve", "--port", "0", *args],
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if found:
            return proc, found.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"paperlike serve did not start: {proc.stderr.read()}")


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_command_answers_and_stops(tmp_path, workers):
    directory = build_serve_index(tmp_path / "index")
    proc, base = _start(["--index-dir", str(directory), "--allow-edits", "--workers", str(workers)])
    try:
        # A new connection for every request, so that with several workers any of them may answer.
        with httpx.Client(base_url=base, timeout=60, headers={"Connection": "close"}) as http:
            assert http.get("/api/similar", params={"q": "autodistil", "k": 3}).json()["paper_id"] == "autodistil"
            token = http.get("/api/csrf").json()["csrf_token"]
            # The workers share the key of the CSRF tokens: a token works whichever worker answers.
            for i in range(4):
                new = f'{{"id": "n{workers}-{i}", "title": "A new paper number {i} on distillation", "abstract": "x"}}\n'
                r = http.post("/api/add", files={"file": ("new.jsonl", new.encode())}, headers={"X-CSRF-Token": token})
                assert r.status_code == 200, r.text
            # Every worker switches to the new papers. One that was idle notices on its next request
            # and answers from the old generation until the new one is warm (in the background), so
            # wait for 20 new answers in a row, each on a new connection (all 20 from one of two
            # workers: a chance of 2 in a million); after that no answer goes back.
            deadline = time.time() + 30
            while time.time() < deadline and not all(http.get("/api/info").json()["papers"] == 77 + 4 for _ in range(20)):
                time.sleep(0.2)
            assert all(http.get("/api/info").json()["papers"] == 77 + 4 for _ in range(20))
            assert http.get("/api/paper", params={"id": f"n{workers}-3"}).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) is not None
