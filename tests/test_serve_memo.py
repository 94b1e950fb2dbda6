"""``paperlike serve`` keeps recent answers per index generation: the same question is answered
once, concurrent askers wait for one computation, errors are not kept, and an answer never
outlives its generation."""

from __future__ import annotations

import threading
import time

import pytest

from paperlike.web.memo import Memo


def test_memo_keeps_the_most_recent_values():
    memo = Memo(2)
    calls: list[str] = []

    def make(key: str):
        return lambda: calls.append(key) or key.upper()

    assert memo.get("a", make("a")) == "A" and memo.get("b", make("b")) == "B"
    assert memo.get("a", make("a")) == "A"  # a hit: "a" is now the most recent
    assert memo.get("c", make("c")) == "C"  # drops "b", the least recently used
    assert memo.get("a", make("a")) == "A" and memo.get("b", make("b")) == "B"
    assert calls == ["a", "b", "c", "b"] and len(memo) == 2
    assert (memo.hits, memo.misses) == (2, 4)


def test_memo_of_size_zero_keeps_nothing():
    memo = Memo(0)
    calls: list[int] = []
    for _ in range(3):
        memo.get("k", lambda: calls.append(1))
    assert len(calls) == 3 and len(memo) == 0


def test_errors_are_not_kept():
    memo = Memo(4)
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first time")
        return "ok"

    with pytest.raises(ValueError):
        memo.get("k", flaky)
    assert memo.get("k", flaky) == "ok" and memo.get("k", flaky) == "ok" and len(attempts) == 2


def test_concurrent_askers_share_one_computation():
    memo = Memo(4)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        started.set()
        release.wait(10)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    assert started.wait(10)
    time.sleep(0.1)  # the other seven are now waiting for the first
    release.set()
    for t in threads:
        t.join(10)
    assert results == [42] * 8 and calls == [1]


def test_other_keys_are_not_held_up_by_a_slow_one():
    memo = Memo(4)
    release = threading.Event()
    thread = threading.Thread(target=lambda: memo.get("slow", lambda: release.wait(10)))
    thread.start()
    try:
        began = time.perf_counter()
        assert memo.get("fast", lambda: "done") == "done"
        assert time.perf_counter() - began < 5
    finally:
        release.set()
        thread.join(10)


pytest.importorskip("starlette")
pytest.importorskip("httpx")

from paperlike.web import create_app  # noqa: E402
from paperlike.web.answers import MAX_K_KEPT  # noqa: E402
from serve_support import build_serve_index, client  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    app = create_app(build_serve_index(tmp_path_factory.mktemp("memo") / "index"))
    return app, client(app)


def test_the_same_question_is_answered_once_per_generation(served):
    app, http = served
    snap = app.state.library.current()
    params = {"q": "autodistil", "k": 7, "mode": "dense"}
    first = http.get("/api/similar", params=params)
    hits = snap.answers.hits
    second = http.get("/api/similar", params=params)
    assert second.status_code == 200 and second.json() == first.json() and snap.answers.hits == hits + 1
    # The page asks the same question as the API's like endpoint with one paper: one computation.
    page = http.get("/paper", params={"id": "autodistil", "k": 7, "mode": "dense"})
    assert page.status_code == 200
    liked = http.get("/api/like", params={"paper": "autodistil", "k": 7, "mode": "dense"}).json()
    assert [r["id"] for r in liked["results"]] == [r["id"] for r in first.json()["results"]]
    # A differently worded question is another key; an answer is not changed by being served.
    other = http.get("/api/similar", params={**params, "k": 3}).json()
    assert len(other["results"]) == 3 and len(http.get("/api/similar", params=params).json()["results"]) == 7


def test_long_answers_are_not_kept(served):
    app, http = served
    snap = app.state.library.current()
    before = len(snap.answers)
    r = http.get("/api/similar", params={"q": "tame", "k": MAX_K_KEPT + 1, "why": "false"})
    assert r.status_code == 200 and len(r.json()["results"]) == 76
    assert len(snap.answers) == before


def test_errors_are_answered_every_time_and_not_kept(served):
    app, http = served
    snap = app.state.library.current()
    before = len(snap.answers)
    for _ in range(2):
        assert http.get("/api/similar", params={"q": "autodistl-zzz", "kind": "paper"}).status_code == 404
    assert len(snap.answers) == before


def test_an_answer_never_outlives_its_generation(tmp_path):
    from conftest import write_jsonl
    from paperlike.readers import read_corpus
    from paperlike.service.edits import add_papers

    directory = build_serve_index(tmp_path / "index")
    app = create_app(directory)
    http = client(app)
    params = {"q": "distilling students into a teacher", "kind": "text", "k": 5, "mode": "lexical"}
    before = http.get("/api/similar", params=params).json()
    new = [{"id": "brand-new", "title": "Distilling students into a teacher", "abstract": "Students teach a teacher."}]
    add_papers(directory, [read_corpus(write_jsonl(tmp_path / "new.jsonl", new))])
    http.get("/api/info")  # notices the new manifest; the switch runs in the background
    assert app.state.library.wait_idle(60)
    after = http.get("/api/similar", params=params)
    body = after.json()
    assert body["generation"] != before["generation"] and after.headers["x-paperlike-generation"] == body["generation"]
    assert body["results"][0]["id"] == "brand-new" and "brand-new" not in {r["id"] for r in before["results"]}
