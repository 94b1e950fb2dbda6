from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from paperlike.cli import cli
from paperlike.storage.manifest import read_manifest


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _all_commands(group: click.Group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [()] + [p for p, _ in _all_commands(cli)], ids=lambda p: " ".join(p) or "paperlike")
def test_every_command_has_help_with_examples(path):
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Example usage" in result.output
    assert "Usage: " in result.output


def test_similar_table(hash_index_dir):
    result = run("similar", "AutoDistil", "-k", 3, "--index-dir", hash_index_dir)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Papers like: AutoDistil: Few-shot") and lines[0].endswith("[autodistil]")
    assert lines[1].split() == ["rank", "score", "id", "title"]
    assert len(lines) == 5 and lines[2].split()[0] == "1"


def test_similar_json(hash_index_dir):
    result = run("similar", "autodistil", "-k", 5, "--json", "--index-dir", hash_index_dir)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [d["rank"] for d in data] == [1, 2, 3, 4, 5]
    fields = {"rank", "id", "title", "score", "cosine", "why", "year", "authors", "venue", "link", "mmr", "query_kind"}
    assert all(set(d) == fields for d in data)
    assert all(set(d["why"]) == {"terms", "query_sentence", "result_sentence"} for d in data)
    assert "autodistil" not in [d["id"] for d in data]


def test_similar_why_diverse_mode_and_like_these_not_those(hash_index_dir):
    shown = run("similar", "autodistil", "-k", 3, "--why", "--index-dir", hash_index_dir)
    assert shown.exit_code == 0 and shown.stdout.count("why: ") == 3
    for extra in (["--mode", "dense"], ["--mode", "lexical"], ["--diverse"]):
        result = run("similar", "autodistil", "-k", 3, *extra, "--index-dir", hash_index_dir)
        assert result.exit_code == 0, result.output
        assert "(ranking: " in result.stdout.splitlines()[0]
    like = run("similar", "autodistil", "llm-pruner", "--not", "tame", "-k", 4, "--json", "--index-dir", hash_index_dir)
    assert like.exit_code == 0, like.output
    ids = [d["id"] for d in json.loads(like.stdout)]
    assert len(ids) == 4 and not set(ids) & {"autodistil", "llm-pruner", "tame"}


def test_similar_free_text_says_how_it_read_the_query(hash_index_dir):
    result = run("similar", "distilling a language model into a student", "-k", 2, "--index-dir", hash_index_dir)
    assert result.exit_code == 0
    assert "searched as free text" in result.stderr
    assert result.stdout.startswith("Papers like the text: distilling")
    forced = run("similar", "tame", "--text", "-k", 2, "--json", "--index-dir", hash_index_dir)
    assert forced.exit_code == 0 and len(json.loads(forced.stdout)) == 2
    assert forced.stderr == "note: query read as: free text\n"  # --text: said, with no note on other readings


def test_index_build_from_jsonl_then_query(tmp_path):
    corpus = write_jsonl(
        tmp_path / "my_papers.jsonl",
        [
            {
                "id": "kd",
                "title": "Knowledge distillation for small students",
                "abstract": "A teacher model distils knowledge into a student.",
            },
            {"title": "Continual learning without forgetting", "abstract": "Rehearsal keeps old tasks alive."},
            {"title": "Distilling language models", "abstract": "We distil knowledge from a large teacher into a student model."},
        ],
    )
    out = tmp_path / "my-index"
    result = run("index", "build", "--corpus", corpus, "--index-dir", out, "--model", "hashing", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["papers"] == 3 and summary["model"] == "hashing"
    answer = json.loads(run("similar", "kd", "--json", "--index-dir", out).stdout)
    assert answer[0]["id"] == "distilling-language-models"
    info = json.loads(run("info", "--index-dir", out, "--json").stdout)
    assert (info["papers"], info["model"], info["dim"], info["index_dir"]) == (3, "hashing", 384, str(out))
    assert info["corpus"] == str(corpus) and info["built_at"]
    text = run("info", "--index-dir", out).stdout
    assert "papers:      3" in text and "model:       hashing" in text
    assert run("index", "verify", "--index-dir", out).exit_code == 0


def test_info_before_any_index_says_where_it_will_be(monkeypatch, tmp_path):
    monkeypatch.delenv("PAPERLIKE_INDEX_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    result = run("info")
    assert result.exit_code == 0
    assert f"{tmp_path / 'paperlike' / 'index'} (from user data dir)" in result.stdout
    assert "no index yet" in result.stdout


def test_papers_lists_ids(hash_index_dir):
    result = run("papers", "--search", "distil", "--index-dir", hash_index_dir, "--json")
    rows = json.loads(result.stdout)
    assert {"id": "autodistil", "title": rows[0]["title"]} == rows[0] and len(rows) >= 3


def test_verify_reports_damage(hash_index_copy):
    name = read_manifest(hash_index_copy)["files"]["papers"]["name"]
    path = hash_index_copy / name
    path.write_bytes(path.read_bytes().replace(b"AutoDistil", b"AutoDistiL", 1))
    result = run("index", "verify", "--index-dir", hash_index_copy)
    assert result.exit_code == 2
    assert f"{name} is damaged (checksum mismatch)" in result.stderr and "paperlike index build" in result.stderr


def test_index_of_another_model_and_truncated_index_through_the_cli(hash_index_copy, monkeypatch):
    import paperlike.embedding as embed
    import paperlike.service.open_index as recommend  # where the index's model is loaded

    assert run("similar", "tame", "--text", "--index-dir", hash_index_copy).exit_code == 0

    class OtherMiniLM(embed.HashingEmbedder):
        name = "all-MiniLM-L6-v2"

        def identity(self):
            return {"name": self.name, "version": "0.1.0", "dim": 384, "weights_sha256": "f" * 64}

    # The index was built with "hashing"; the model now in use claims to be another one.
    monkeypatch.setattr(recommend, "get_embedder", lambda name=None: OtherMiniLM())
    result = run("similar", "continual learning", "--text", "--index-dir", hash_index_copy)
    assert result.exit_code == 2 and "was built with hashing" in result.stderr
    assert "rebuild with: paperlike index build" in result.stderr

    vectors = hash_index_copy / read_manifest(hash_index_copy)["files"]["vectors"]["name"]
    vectors.write_bytes(vectors.read_bytes()[:1000])
    result = run("similar", "tame", "--index-dir", hash_index_copy)
    assert result.exit_code == 2 and "is truncated or altered" in result.stderr


def test_empty_abstract_note_is_shown_once(tmp_path):
    corpus = write_jsonl(
        tmp_path / "c.jsonl", [{"title": "A"}, {"title": "B", "abstract": ""}, {"title": "C", "abstract": "text"}]
    )
    result = run("index", "build", "--corpus", corpus, "--index-dir", tmp_path / "i", "--model", "hashing")
    assert result.exit_code == 0
    assert result.stderr.count("empty abstract") == 1 and "2 paper(s)" in result.stderr


def test_readme_mentions_every_command():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path, _ in _all_commands(cli):
        assert f"paperlike {' '.join(path)}" in readme, f"README does not show 'paperlike {' '.join(path)}'"
