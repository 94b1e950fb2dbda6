"""The CLI stays light: no torch or sentence-transformers unless a text has to be embedded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "sentence_transformers", "transformers")

PROBE = """
import json, sys
from paperlike.cli import cli
try:
    cli.main({args!r})
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "heavy": sorted(m for m in {heavy!r} if m in sys.modules),
                   "faiss": "faiss" in sys.modules, "numpy": "numpy" in sys.modules}}))
"""


def _probe(args, env_dir):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PAPERLIKE_INDEX_DIR": str(env_dir), "HOME": str(env_dir)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["similar", "--help"], ["index", "build", "--help"], ["themes", "--help"]])
def test_help_imports_no_numpy_torch_or_faiss(tmp_path, args):
    result = _probe(args, tmp_path)
    assert result == {"code": 0, "heavy": [], "faiss": False, "numpy": False}


@pytest.mark.parametrize("args", [["similar", "autodistil", "-k", "3"], ["papers"], ["info"], ["index", "verify"]])
def test_lookups_import_no_torch(hash_index_dir, args):
    result = _probe(args + ["--index-dir", str(hash_index_dir)], hash_index_dir)
    assert result["code"] == 0 and result["heavy"] == []


@pytest.mark.parametrize(
    "args",
    [
        ["similar", "https://arxiv.org/abs/1503.02531v2"],
        ["similar", "10.1145/3292500.3330701"],
        ["papers", "--search", "distil", "--format", "bibtex"],
    ],
)
def test_identifier_lookups_and_records_import_no_torch(hash_index_dir, args):
    result = _probe(args + ["--index-dir", str(hash_index_dir)], hash_index_dir)
    assert result["code"] in (0, 2) and result["heavy"] == []  # the bundled papers have no DOIs: exit 2
