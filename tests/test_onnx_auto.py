"""The first hour: the ``auto`` backend exports MiniLM to ONNX by itself, once, so text queries
after the first one start without PyTorch; a failed export is a note, not an error, and is not
retried on every query."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

import paperlike.embedding.onnx as onnx
from paperlike.embedding import MiniLMEmbedder


@pytest.fixture
def notes():
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("paperlike")
    old = (logger.handlers, logger.level, logger.propagate)
    logger.handlers, logger.level, logger.propagate = [Keep()], logging.INFO, False
    yield records
    logger.handlers, logger.level, logger.propagate = old


def test_auto_backend_exports_once_then_uses_onnx(monkeypatch, notes):
    calls = []

    def fake_export(model_dir, target, texts):
        calls.append((target, len(texts)))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"an export")
        return 0.99999

    monkeypatch.setattr(onnx, "export_onnx", fake_export)
    embedder = MiniLMEmbedder()
    assert embedder.planned_backend().startswith("onnx (exported automatically")
    assert embedder.resolved_backend() == "onnx"
    assert calls == [(embedder.onnx_file, 75)]  # checked on the 75 bundled papers, as by hand
    assert any("exporting the model to ONNX once" in n for n in notes)
    assert MiniLMEmbedder().resolved_backend() == "onnx" and len(calls) == 1  # never again
    assert MiniLMEmbedder(backend="torch").resolved_backend() == "torch"


def test_a_failed_export_falls_back_to_torch_with_a_note_and_is_not_retried(monkeypatch, notes):
    calls = []

    def failing_export(model_dir, target, texts):
        calls.append(target)
        raise RuntimeError("exporter exploded\nwith a second line")

    monkeypatch.setattr(onnx, "export_onnx", failing_export)
    embedder = MiniLMEmbedder()
    assert embedder.resolved_backend() == "torch"
    assert onnx.failed_marker(embedder.onnx_file).read_text() == "exporter exploded with a second line"
    assert any("the automatic ONNX export failed (exporter exploded" in n for n in notes)
    assert MiniLMEmbedder().resolved_backend() == "torch" and len(calls) == 1
    assert MiniLMEmbedder().planned_backend().startswith("torch (no ONNX export")


def test_no_export_without_the_onnx_package(monkeypatch, notes):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a))
    monkeypatch.setattr(onnx, "export_onnx", lambda *a: pytest.fail("exported without onnx"))
    assert MiniLMEmbedder().resolved_backend() == "torch"
    assert any("using sentence-transformers (slow to start)" in n for n in notes)


def test_explicit_onnx_backend_never_exports(monkeypatch):
    from paperlike.errors import ModelError

    monkeypatch.setattr(onnx, "export_onnx", lambda *a: pytest.fail("exported for backend=onnx"))
    with pytest.raises(ModelError, match="make it once with: paperlike model export-onnx"):
        MiniLMEmbedder(backend="onnx").resolved_backend()


COLD_QUERY = """
import json, sys, time
started = time.perf_counter()
from paperlike.cli import cli
try:
    cli.main(["similar", "distilling a large language model into a small student", "--text", "-k", "3", "--json"])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "torch": "torch" in sys.modules, "seconds": time.perf_counter() - started}), file=sys.stderr)
"""


@pytest.mark.model
@pytest.mark.slow
def test_first_text_query_exports_and_later_ones_import_no_torch(tmp_path):
    """End to end with the real model, in fresh processes and an empty cache."""
    from paperlike.readers import bundled_corpus
    from paperlike.service.build import build_index

    index = tmp_path / "index"
    build_index(bundled_corpus(), MiniLMEmbedder(backend="torch"), index)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),
        "PAPERLIKE_INDEX_DIR": str(index),
        "PAPERLIKE_CACHE_DIR": str(tmp_path / "cache"),
    }
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", COLD_QUERY], env=env, capture_output=True, text=True, timeout=600)
        runs.append((json.loads(out.stderr.strip().splitlines()[-1]), out.stderr, json.loads(out.stdout)))
    (first, first_err, first_results), (second, second_err, second_results) = runs
    assert first["code"] == 0 and "exporting the model to ONNX once" in first_err
    # No note but how the query was read (no export, no fallback to PyTorch).
    notes = [line for line in second_err.splitlines() if line.startswith("note:") and not line.startswith("note: query read as")]
    assert second["code"] == 0 and not second["torch"] and notes == []
    assert [r["id"] for r in first_results] == [r["id"] for r in second_results]
    print(f"cold text query: first {first['seconds']:.1f} s (with the export), then {second['seconds']:.1f} s")
