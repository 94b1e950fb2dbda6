"""Safety and robustness: no unsafe loading, fields are data, huge inputs, long queries."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from conftest import ROOT, write_jsonl
from paperlike.cli import cli
from paperlike.storage import load_index

UNSAFE = re.compile(
    r"^\s*(import|from)\s+(c?pickle|dill|joblib|shelve|marshal)\b"
    r"|\bpickle\.loads?\("
    r"|allow_pickle\s*=\s*True"
    r"|\btorch\.load\((?![^)]*weights_only\s*=\s*True)",
    re.MULTILINE,
)


def _unsafe_lines(text: str) -> list[str]:
    return [m.group(0).strip() for m in UNSAFE.finditer(text)]


def test_the_scanner_catches_unsafe_loading():
    assert _unsafe_lines("import pickle\nx = pickle.load(f)\n") == ["import pickle", "pickle.load("]
    assert _unsafe_lines("np.load(p, allow_pickle=True)") == ["allow_pickle=True"]
    assert _unsafe_lines("torch.load(path)") == ["torch.load("]
    assert _unsafe_lines("torch.load(path, weights_only=True)") == []


def test_no_source_file_loads_with_pickle():
    files = sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    assert len(files) >= 8
    found = {str(f.relative_to(ROOT)): hits for f in files if (hits := _unsafe_lines(f.read_text(encoding="utf-8")))}
    assert found == {}


def test_a_10_mb_abstract_builds_and_answers(tmp_path):
    corpus = write_jsonl(
        tmp_path / "big.jsonl",
        [
            {"title": "A very long paper", "abstract": "gradient descent converges slowly " * 330_000},
            {"title": "A short paper", "abstract": "Gradient descent with momentum."},
            {"title": "Unrelated", "abstract": "Protein folding in cells."},
        ],
    )
    assert corpus.stat().st_size > 10_000_000
    index_dir = tmp_path / "i"
    result = CliRunner().invoke(
        cli, ["index", "build", "--corpus", str(corpus), "--index-dir", str(index_dir), "--model", "hashing", "-q"]
    )
    assert result.exit_code == 0, result.output
    answer = CliRunner().invoke(cli, ["similar", "a-very-long-paper", "-k", "1", "--json", "--index-dir", str(index_dir)])
    assert json.loads(answer.stdout)[0]["id"] == "a-short-paper"


def test_free_text_query_of_any_length(hash_index_dir):
    long_query = "continual learning without catastrophic forgetting " * 20_000  # ~1 MB
    result = CliRunner().invoke(cli, ["similar", long_query, "--text", "-k", "3", "--json", "--index-dir", str(hash_index_dir)])
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 3


def test_invalid_utf8_file_is_a_clean_error_naming_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"title": "fine"}\n{"title": "\xff\xfe broken"}\n')
    result = CliRunner().invoke(cli, ["index", "build", "--corpus", str(path), "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 2 and result.stderr.strip() == f"Error: {path}:2: not valid UTF-8 text; save the file as UTF-8"


def test_paper_fields_are_never_used_as_paths(tmp_path):
    corpus = write_jsonl(
        tmp_path / "c.jsonl",
        [
            {"id": "../../escape", "title": "../../../etc/passwd", "abstract": "$(rm -rf /); `id`"},
            {"id": "/abs/path", "title": "<script>alert(1)</script>", "abstract": "x"},
        ],
    )
    index_dir = tmp_path / "deep" / "i"
    result = CliRunner().invoke(
        cli, ["index", "build", "--corpus", str(corpus), "--index-dir", str(index_dir), "--model", "hashing"]
    )
    assert result.exit_code == 0
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.parts[:2] == ("deep", "i") or p.name == "c.jsonl" for p in written)
    index = load_index(index_dir)
    assert index.ids == ["../../escape", "/abs/path"]
    answer = CliRunner().invoke(cli, ["similar", "../../escape", "--json", "--index-dir", str(index_dir)])
    assert json.loads(answer.stdout)[0]["title"] == "<script>alert(1)</script>"
