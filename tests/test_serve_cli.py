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


def _uploads(tmp) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("paperlike-upload-"))


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_server_stopped_mid_upload_leaves_no_upload_folder(tmp_path, how, monkeypatch):
    import json
    import threading

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    directory = build_serve_index(tmp_path / "index")
    proc, base = _start(["--index-dir", str(directory), "--allow-edits"])
    # Big enough that the add is still running when the signal comes.
    big = "".join(
        json.dumps({"id": f"big-{i}", "title": f"Paper {i} on graphs", "abstract": f"Words {i} about graphs and trees."}) + "\n"
        for i in range(60_000)
    ).encode()
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            token = http.get("/api/csrf").json()["csrf_token"]

            def upload() -> None:
                try:
                    http.post("/api/add", files={"file": ("big.jsonl", big)}, headers={"X-CSRF-Token": token})
                except httpx.HTTPError:
                    pass  # the server went away mid-request, as it should

            sender = threading.Thread(target=upload, daemon=True)
            sender.start()
            deadline = time.time() + 60
            while time.time() < deadline and not _uploads(tmp):
                time.sleep(0.02)
            held = _uploads(tmp)
            assert held and held[0].startswith(f"paperlike-upload-{proc.pid}-")  # named with the server's pid
            proc.send_signal(how)
            proc.wait(timeout=60)
            sender.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    if how == signal.SIGTERM:
        assert _uploads(tmp) == []  # removed on the way out
        return
    # SIGKILL cannot clean up: the next paperlike removes the folder of the dead server, once it
    # is older than a write in progress could be.
    left = _uploads(tmp)
    assert left
    old = time.time() - 2 * 3600
    for name in left:
        os.utime(tmp / name, (old, old))
    subprocess.run(
        [sys.executable, "-m", "paperlike", "info", "--index-dir", str(directory)],
        env=dict(os.environ),
        capture_output=True,
        timeout=120,
    )
    assert _uploads(tmp) == []
