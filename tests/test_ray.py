"""Builds on a Ray cluster (``--engine ray``): same index as a local build, resume after a kill,
the real model, and the errors of a missing extra or an unreachable cluster.

A local Ray cluster of 2 CPUs is started once for the session (``ray.init(num_cpus=2)``); the
tests that use it are marked ``slow``. The rest need no cluster.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import ROOT, write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.embedding.engines import LocalEngine, get_engine
from paperlike.embedding.engines.ray_cluster import plan_workers, probe_address, start_local
from paperlike.embedding.engines.ray_engine import RayEngine, worker_error
from paperlike.errors import EngineError, ModelError, ModelMismatchError
from paperlike.readers import bundled_corpus, read_corpus
from paperlike.records import Corpus
from paperlike.service.build import build_index
from paperlike.service.edits import add_papers
from paperlike.storage.index import load_index
from paperlike.storage.manifest import MANIFEST
from paperlike.storage.names import CHECKPOINT_DIR


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster with 2 CPUs for the whole session; yields its address."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _index_files(directory: Path) -> dict:
    index = load_index(directory)
    return {
        "manifest": index.manifest,
        "ids": index.ids,
        "vectors": index.all_vectors(),
        "papers": [p.to_dict() for p in index.papers()],
    }


def _same_index(a: Path, b: Path) -> None:
    """Same papers, same vectors, same manifest (but for the generation and the build time)."""
    x, y = _index_files(a), _index_files(b)
    assert x["ids"] == y["ids"] and x["papers"] == y["papers"]
    assert np.array_equal(x["vectors"], y["vectors"])
    volatile = {"generation", "built_at", "files"}
    assert {k: v for k, v in x["manifest"].items() if k not in volatile} == {
        k: v for k, v in y["manifest"].items() if k not in volatile
    }
    assert set(x["manifest"]) == set(y["manifest"])
    for kind in ("vectors", "titles", "papers"):  # byte-identical files
        assert x["manifest"]["files"][kind]["sha256"] == y["manifest"]["files"][kind]["sha256"]


# --- no cluster needed --------------------------------------------------------------------------


def test_plan_one_actor_per_gpu_else_cpus_shared():
    assert plan_workers([{"CPU": 16, "GPU": 2}, {"CPU": 8, "GPU": 1}], None, "auto").workers == 3
    assert plan_workers([{"CPU": 16, "GPU": 2}], None, "auto").device == "cuda"
    cpu = plan_workers([{"CPU": 16, "GPU": 2}], 4, "cpu")
    assert (cpu.workers, cpu.device, cpu.cpus_per_worker, cpu.gpus_per_worker) == (4, "cpu", 4, 0)
    assert plan_workers([{"CPU": 2}], None, "auto").workers == 2
    assert plan_workers([{"CPU": 2}], 1, "auto").cpus_per_worker == 2
    # 3 actors on two 16-CPU nodes: 10 CPUs each would leave one waiting forever; 8 fit.
    assert plan_workers([{"CPU": 16}, {"CPU": 16}], 3, "auto").cpus_per_worker == 8


@pytest.mark.parametrize(
    "nodes, workers, device, message",
    [
        ([{"CPU": 2}], 3, "auto", "--workers 3, but the Ray cluster has 2 CPUs"),
        ([{"CPU": 8}], None, "cuda", "--device cuda, but the Ray cluster has no GPU"),
        ([{"CPU": 8, "GPU": 1}], 2, "auto", "--workers 2, but the Ray cluster has 1 usable GPUs"),
        ([{"GPU": 1}], None, "cpu", "the Ray cluster has no CPU"),
        ([{"CPU": 4}], 0, "auto", "--workers must be at least 1"),
    ],
)
def test_plan_refuses_what_would_wait_forever(nodes, workers, device, message):
    with pytest.raises(EngineError, match=message):
        plan_workers(nodes, workers, device)


def test_get_engine():
    assert isinstance(get_engine(), LocalEngine) and get_engine("ray").name == "ray"
    engine = RayEngine(address="h:1", workers=3)
    assert get_engine(engine) is engine
    with pytest.raises(EngineError, match="--ray-address and --workers need --engine ray"):
        get_engine("local", workers=2)
    with pytest.raises(EngineError, match="unknown engine 'spark'"):
        get_engine("spark")


def test_a_ray_paperlike_starts_runs_its_workers_at_normal_priority(monkeypatch):
    """Ray's default nice 15 starved the model's actors on a busy machine; one set by the user wins."""

    class FakeRay:
        def init(self, **kwargs):
            self.niceness, self.kwargs = os.environ.get("RAY_worker_niceness"), kwargs

    monkeypatch.delenv("RAY_worker_niceness", raising=False)
    ray = FakeRay()
    start_local(ray, num_cpus=2)
    assert ray.niceness == "0" and ray.kwargs["num_cpus"] == 2
    monkeypatch.setenv("RAY_worker_niceness", "5")
    start_local(ray)
    assert ray.niceness == "5"


def test_nothing_to_embed_needs_no_cluster():
    # Everything reused (a resumed build with all vectors in checkpoints): Ray is not even imported.
    assert RayEngine(address="127.0.0.1:1").embed([], HashingEmbedder()).shape == (0, 384)


def test_missing_ray_extra_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(EngineError, match=r"needs Ray .*pip install 'paperlike\[ray\]'"):
        RayEngine().embed(["a text"], HashingEmbedder())
    result = CliRunner().invoke(cli, ["index", "build", "--engine", "ray", "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: the ray engine needs Ray (ray is not installed); run: pip install 'paperlike[ray]', "
        "or build on this machine with --engine local"
    ]
    assert not (tmp_path / "i").exists()


@pytest.mark.parametrize(
    "address, why",
    [
        ("127.0.0.1:{port}", "connection refused"),
        ("no-such-host.invalid:6379", "unknown host"),
        ("head-node", "is not a Ray address"),
        ("ray://127.0.0.1:{port}", "connection refused"),
    ],
)
def test_bad_address_is_one_line_and_quick(address, why, tmp_path):
    address = address.format(port=_free_port())
    started = time.monotonic()
    with pytest.raises(EngineError, match=why):
        probe_address(address)
    result = CliRunner().invoke(
        cli, ["index", "build", "--engine", "ray", "--ray-address", address, "--index-dir", str(tmp_path / "i")]
    )
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert why in result.stderr and ("--engine local" in result.stderr or "HOST:PORT" in result.stderr)
    assert time.monotonic() - started < 60  # never Ray's minutes of retrying
    assert not (tmp_path / "i").exists()


def test_worker_errors_come_back_as_paperlike_errors():
    class Wrapped(Exception):
        pass

    text = (
        "ray::MapWorker(MapBatches(_EmbedActor)).__init__() ...\nTraceback (most recent call last):\n"
        '  File "ray_engine.py", line 66\nparperlike noise\n'
        "paperlike.errors.ModelMismatchError: the Ray worker on n2 has a different model; install the same\n"
    )
    outer = Wrapped("actor died")
    outer.__cause__ = Exception(text)
    found = worker_error(outer)
    assert isinstance(found, ModelMismatchError) and str(found) == "the Ray worker on n2 has a different model; install the same"
    assert isinstance(worker_error(Exception("paperlike.errors.UnknownPaperError: x")), EngineError)
    assert worker_error(Exception("a Ray bug")) is None


# --- on the session's local Ray cluster ---------------------------------------------------------


@pytest.mark.slow
def test_ray_build_is_the_local_build(ray_cluster, tmp_path):
    corpus = bundled_corpus()
    build_index(corpus, HashingEmbedder(), tmp_path / "local")
    report = build_index(corpus, HashingEmbedder(), tmp_path / "ray", batch_size=8, engine=RayEngine(workers=2))
    assert (report.embedded, report.reused) == (len(corpus), 0)
    _same_index(tmp_path / "local", tmp_path / "ray")
    assert not (tmp_path / "ray" / CHECKPOINT_DIR).exists()  # folded into the index, as locally


@pytest.mark.slow
def test_ray_add_is_the_local_add(ray_cluster, tmp_path, hash_index_dir):
    import shutil

    new = write_jsonl(
        tmp_path / "new.jsonl",
        [
            {"id": f"new-{i}", "title": f"A new paper number {i} on sparse retrieval", "abstract": f"Abstract {i} " * (i + 1)}
            for i in range(12)
        ],
    )
    for name in ("local", "ray"):
        shutil.copytree(hash_index_dir, tmp_path / name)

    local = add_papers(tmp_path / "local", [read_corpus(new)])
    remote = add_papers(tmp_path / "ray", [read_corpus(new)], engine=RayEngine(workers=2), batch_size=4)
    volatile = {"seconds": 0, "generation": None}  # the new generation is named by its time
    assert local.to_dict() | volatile == remote.to_dict() | volatile
    assert remote.embedded == 12
    _same_index(tmp_path / "local", tmp_path / "ray")


@pytest.mark.slow
def test_ray_cli_build_joins_the_cluster(ray_cluster, tmp_path):
    env_auth = {"RAY_AUTH_MODE": "token"}  # the session's cluster uses Ray's default token auth
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "paperlike",
            "index",
            "build",
            "--engine",
            "ray",
            "--ray-address",
            ray_cluster,
            "--workers",
            "2",
            "--batch-size",
            "8",
            "--index-dir",
            str(tmp_path / "ray"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env_auth, "PAPERLIKE_MODEL": "hashing"},
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["engine"] == "ray" and summary["embedded"] == 75
    build_index(bundled_corpus(), HashingEmbedder(), tmp_path / "local")
    _same_index(tmp_path / "local", tmp_path / "ray")


SLOW_BUILD = textwrap.dedent("""
    import sys, time
    from paperlike.readers import bundled_corpus
    from paperlike.embedding import HashingEmbedder
    from paperlike.service.build import build_index
    from paperlike.embedding.engines.ray_engine import RayEngine

    class SlowHashing(HashingEmbedder):
        # Same identity, and so the same checkpoints, as the hashing model; slow enough to be killed.
        def embed_batch(self, texts):
            time.sleep(0.5)
            return super().embed_batch(texts)

    build_index(bundled_corpus(), SlowHashing(), sys.argv[1], batch_size=4,
                engine=RayEngine(address=sys.argv[2], workers=2))
""")


@pytest.mark.slow
def test_killed_ray_build_resumes_from_its_checkpoints(ray_cluster, tmp_path):
    target = tmp_path / "index"
    script = tmp_path / "slow_build.py"
    script.write_text(SLOW_BUILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(target), ray_cluster],
        env={**os.environ, "RAY_AUTH_MODE": "token"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    shards = target / CHECKPOINT_DIR
    deadline = time.monotonic() + 240
    try:
        while not list(shards.glob("*/shard-*.json")):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # a crash, not a clean stop
        proc.wait(timeout=30)
    assert not (target / MANIFEST).exists()  # killed before the index was written
    saved = sum(len(json.loads(p.read_text())["hashes"]) for p in shards.glob("*/shard-*.json"))
    assert 0 < saved < 75

    report = build_index(bundled_corpus(), HashingEmbedder(), target, engine=RayEngine(workers=2))
    assert report.reused >= saved and report.embedded == 75 - report.reused
    build_index(bundled_corpus(), HashingEmbedder(), tmp_path / "local")
    resumed, local = load_index(target), load_index(tmp_path / "local")
    assert resumed.ids == local.ids
    for row, paper in enumerate(bundled_corpus().papers):  # each paper's vector is its own text's
        assert np.array_equal(resumed.vector(row), local.vector(row))
        assert np.array_equal(resumed.vector(row), HashingEmbedder().embed_batch([paper.text])[0])
    assert not shards.exists()


@pytest.mark.slow
def test_hostile_texts_travel_exactly(ray_cluster):
    texts = [
        "",
        "\x00 nul and \x1b[31m escape",
        "lone \ud800 surrogate",
        "emoji \U0001f600 and RTL \u202e",
        "long " * 20000,
        "line\u2028separator\nnewline",
        "tab\tand\r\nCRLF",
    ] * 3
    local = HashingEmbedder().embed_batch(texts)
    remote = RayEngine(workers=2).embed(texts, HashingEmbedder(), batch_size=2)
    assert np.array_equal(local, remote)


@pytest.mark.slow
def test_worker_failure_is_one_line(ray_cluster):
    class Broken(HashingEmbedder):
        def embed_batch(self, texts):
            raise ModelError("the model broke; reinstall it")

    with pytest.raises(ModelError, match="^the model broke; reinstall it$"):
        RayEngine(workers=1).embed(["one", "two"], Broken())


@pytest.mark.slow
@pytest.mark.model
def test_real_model_on_ray_matches_local(ray_cluster, tmp_path):
    from paperlike.embedding import MiniLMEmbedder

    papers = bundled_corpus().papers[:16]
    corpus = Corpus(papers, "bundled[:16]")
    build_index(corpus, MiniLMEmbedder(device="cpu"), tmp_path / "local")
    build_index(corpus, MiniLMEmbedder(), tmp_path / "ray", batch_size=4, engine=RayEngine(workers=2))
    local, remote = load_index(tmp_path / "local"), load_index(tmp_path / "ray")
    assert local.manifest["model"] == remote.manifest["model"] and local.ids == remote.ids
    cosines = np.sum(local.all_vectors() * remote.all_vectors(), axis=1)
    assert cosines.min() >= 0.9999, cosines.min()


def test_ray_extra_is_pinned():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra = project["optional-dependencies"]["ray"]
    assert extra == [next(r for r in project["optional-dependencies"]["dev"] if r.startswith("ray"))]
    assert extra[0].startswith("ray[data]==")
