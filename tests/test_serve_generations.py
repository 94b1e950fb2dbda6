"""``paperlike serve`` keeps answering while ``paperlike add`` rewrites the index, switches to the
new generation without a restart, and never answers from a mix of two generations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")

from conftest import write_jsonl  # noqa: E402
from paperlike.storage import load_index  # noqa: E402
from paperlike.storage.manifest import MANIFEST  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from serve_support import build_serve_index, client, live_server  # noqa: E402


def _ids_of(directory) -> tuple[str, frozenset[str]]:
    index = load_index(directory)
    return index.manifest["generation"], frozenset(index.ids)


def _add_with_the_cli(directory, src) -> None:
    env = dict(os.environ, PAPERLIKE_MODEL="hashing")
    done = subprocess.run(
        [sys.executable, "-m", "paperlike", "add", str(src), "--index-dir", str(directory), "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_answers_continue_through_adds_and_never_mix_generations(tmp_path):
    directory = build_serve_index(tmp_path / "index")
    generations = dict([_ids_of(directory)])
    app = create_app(directory)
    answers: list[tuple[str, str, frozenset[str]]] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer(base: str, query: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while not stop.is_set():
                try:
                    r = http.get("/api/similar", params={"q": query, "k": 1000, "why": "false"})
                    if r.status_code != 200:
                        failures.append(f"{r.status_code}: {r.text[:200]}")
                        continue
                    body = r.json()
                    answers.append(
                        (
                            body["generation"],
                            r.headers["x-paperlike-generation"],
                            frozenset(x["id"] for x in body["results"]) | {body["paper_id"]},
                        )
                    )
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    with live_server(app) as base:
        threads = [threading.Thread(target=hammer, args=(base, q)) for q in ("autodistil", "tame", "llm-pruner")]
        for t in threads:
            t.start()
        for round_ in range(2):
            time.sleep(0.3)
            new = [
                {
                    "id": f"added-{round_}-{i}",
                    "title": f"Distilling students round {round_} number {i}",
                    "abstract": "A teacher model distils knowledge into a small student.",
                }
                for i in range(3)
            ]
            _add_with_the_cli(directory, write_jsonl(tmp_path / f"new-{round_}.jsonl", new))
            gen, ids = _ids_of(directory)
            generations[gen] = ids
        deadline = time.time() + 30
        while time.time() < deadline and not any(a[0] == gen for a in answers[-5:]):
            time.sleep(0.05)
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(30)
        info = httpx.get(f"{base}/api/info").json()
    assert failures == []
    assert len(generations) == 3 and info["generation"] == gen and info["papers"] == 77 + 6
    seen = {a[0] for a in answers}
    assert seen <= set(generations) and gen in seen, seen
    for generation, header, ids in answers:
        # Every answer lists every other paper of exactly the generation it names: no mix.
        assert header == generation and ids == generations[generation]
    assert app.state.library.switches == 2


def test_a_damaged_new_generation_keeps_the_old_one_serving(tmp_path):
    directory = build_serve_index(tmp_path / "index")
    app = create_app(directory)
    http = client(app)
    before = http.get("/api/info").json()["generation"]
    manifest = json.loads((directory / MANIFEST).read_text())
    broken = dict(
        manifest,
        generation="20990101000000-abcdef",
        files={
            k: {**v, "name": v["name"].replace(manifest["generation"], "20990101000000-abcdef")}
            for k, v in manifest["files"].items()
        },
    )
    (directory / MANIFEST).write_text(json.dumps(broken))
    http.get("/api/info")
    assert app.state.library.wait_idle(30)
    info = http.get("/api/info").json()
    assert info["generation"] == before and "is missing" in info["switching_error"]
    assert http.get("/api/similar", params={"q": "autodistil"}).status_code == 200
    # Once the index is sound again (here: the old manifest back), the error clears.
    (directory / MANIFEST).write_text(json.dumps(manifest))
    http.get("/api/info")
    assert app.state.library.wait_idle(30)
    assert http.get("/api/info").json()["switching_error"] is None
