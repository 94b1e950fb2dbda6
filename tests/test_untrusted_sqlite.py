"""A zotero.sqlite is untrusted (issue 23 §2): a file whose "tables" are views, virtual tables,
tables of other shapes or tables with computed columns is a one-line error, never a query that
runs forever; the work of a read is bounded; Ctrl-C, SIGTERM and SIGHUP stop a read that runs
inside SQLite, and its private copy of the library is removed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, tree_snapshot
from paperlike.errors import CorpusError
from paperlike.readers import read_corpus, sqlite_guard
from test_zotero import SCHEMA, _sample

# A query that never ends: every row of a recursive view is the next number.
FOREVER = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT "
COLUMNS = {
    **sqlite_guard.EXPECTED,
    "items": ("itemID", "itemTypeID", "key"),
    "itemTypes": ("itemTypeID", "typeName"),
}
GENEROUS = 120  # seconds: "must finish", never a timing assertion


def _forever_view(name: str) -> str:
    cols = ", ".join(f"{'x' if i == 0 else repr('journalArticle')} AS {c}" for i, c in enumerate(COLUMNS[name]))
    return f"CREATE VIEW {name} AS {FOREVER}{cols} FROM r"


def _library_with(path: Path, table: str, replacement: str) -> Path:
    """A real Zotero library (the sample's papers) whose ``table`` is replaced by ``replacement``."""
    _sample(path).commit()
    con = sqlite3.connect(path)
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.executescript(replacement)
    con.commit()
    con.close()
    return path


def _in_time(func, *args):
    """Run func(*args) in a thread; fail (not hang) if it has not finished in GENEROUS seconds."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = func(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(GENEROUS)
    assert not worker.is_alive(), f"still reading after {GENEROUS} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


HOSTILE = {
    **{f"{t} a recursive view": (t, _forever_view(t), f"{t} is a view, not a table") for t in COLUMNS},
    **{
        f"{t} without its columns": (t, f"CREATE TABLE {t} (something, other)", f"{t} has no column")
        for t in ("items", "itemData", "itemDataValues", "fields", "creators", "collections", "tags")
    },
    "items a virtual table": (
        "items",
        "CREATE VIRTUAL TABLE items USING fts5(itemID, itemTypeID, key)",
        "items is a virtual table",
    ),
    "values computed on each read": (  # 100 MB a row
        "itemDataValues",
        "CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, seed, value AS (printf('%.*c', 100000000, 'x')))",
        "itemDataValues has generated columns",
    ),
    "a trigger in place of a table": (
        "tags",
        "CREATE TABLE t (x); CREATE TRIGGER tags AFTER INSERT ON t BEGIN SELECT 1; END",
        "tags is a trigger, not a table",
    ),
}


@pytest.mark.parametrize("table, replacement, problem", HOSTILE.values(), ids=list(HOSTILE))
def test_a_hostile_database_is_a_one_line_error(tmp_path, table, replacement, problem):
    path = _library_with(tmp_path / "zotero.sqlite", table, replacement)
    with pytest.raises(CorpusError) as info:
        _in_time(read_corpus, path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a Zotero database ({problem}") and "\n" not in message
    assert message.endswith("); give the zotero.sqlite of your Zotero data folder")


@pytest.mark.parametrize("command", ["rank", "add", "index build --corpus"])
def test_the_cli_says_so_in_one_line_with_exit_2(tmp_path, hash_index_copy, command):
    hostile = tmp_path / "zotero.sqlite"
    con = sqlite3.connect(hostile)  # 32 KB of views named like Zotero's tables, nothing else
    con.executescript(";".join(_forever_view(t) for t in COLUMNS))
    con.commit()
    con.close()
    before = tree_snapshot(hash_index_copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args = [*command.split(), str(hostile), "--index-dir", str(hash_index_copy)]
    done = subprocess.run([sys.executable, "-m", "paperlike", *args], capture_output=True, text=True, timeout=GENEROUS, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"Error: {hostile}: not a Zotero database (items is a view, not a table); give the zotero.sqlite of your Zotero data folder"
    )
    assert tree_snapshot(hash_index_copy) == before


def test_zotero_7s_combined_fields_view_is_never_read(tmp_path):
    # Zotero 7 has a view fieldsCombined (fields + customFields); a hostile one would recurse forever.
    path = _sample(tmp_path / "zotero.sqlite").commit()
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE customFields (customFieldID INTEGER PRIMARY KEY, fieldName TEXT, label TEXT);"
        "INSERT INTO customFields VALUES (1000, 'shortTitle', 'Short');"
        f"CREATE VIEW fieldsCombined AS {FOREVER}x AS fieldID, 'title' AS fieldName FROM r"
    )
    con.commit()
    con.close()
    assert [p.title for p in _in_time(read_corpus, path).papers][0] == "Distilling the Knowledge in a Neural Network"


def test_the_work_of_a_read_is_bounded(tmp_path, monkeypatch):
    """A query that runs forever inside real-looking tables stops at the budget: with the shape
    checks switched off, the recursive views are read, and the read ends as an error in time."""
    path = tmp_path / "zotero.sqlite"
    con = sqlite3.connect(path)
    con.executescript(";".join(_forever_view(t) for t in ("items", "itemTypes", "itemData", "itemDataValues", "fields")))
    con.commit()
    con.close()
    from paperlike.readers import zotero

    monkeypatch.setattr(zotero, "checked_tables", lambda con, src: {"items", "itemTypes", "itemData", "itemDataValues", "fields"})
    with pytest.raises(CorpusError, match=r"reading this database takes too long .*not a Zotero database"):
        _in_time(read_corpus, path)


def test_a_real_library_is_far_inside_the_budget(tmp_path, monkeypatch):
    path = _sample(tmp_path / "zotero.sqlite").commit()
    monkeypatch.setattr(sqlite_guard, "_STEP", 100)  # a tiny library: count its work finely
    monkeypatch.setattr(sqlite_guard, "_FLOOR_STEPS", 0)  # only the allowance per byte is left
    assert len(read_corpus(path).papers) == 4
    monkeypatch.setattr(sqlite_guard, "_STEPS_PER_BYTE", 0)
    with pytest.raises(CorpusError, match="takes too long"):
        read_corpus(path)


# A paperlike whose shape checks and budget are switched off, reading views that never end:
# the read runs inside SQLite until a signal comes.
_ENDLESS_READ = textwrap.dedent(
    """
    import sys
    from paperlike.readers import sqlite_guard, zotero
    sqlite_guard._FLOOR_STEPS = 10**18
    zotero.checked_tables = lambda con, src: {"items", "itemTypes", "itemData", "itemDataValues", "fields"}
    from paperlike.cli import main
    sys.argv = ["paperlike", "rank", sys.argv[1], "--index-dir", sys.argv[2]]
    main()
    """
)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_stops_a_read_inside_sqlite_and_removes_the_private_copy(tmp_path, hash_index_dir, signum, code):
    path = tmp_path / "zotero.sqlite"
    con = sqlite3.connect(path)
    con.executescript(";".join(_forever_view(t) for t in ("items", "itemTypes", "itemData", "itemDataValues", "fields")))
    con.commit()
    con.close()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _ENDLESS_READ, str(path), str(hash_index_dir)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + GENEROUS
        while not any(p.name.startswith("paperlike-zotero-") for p in tmp.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, "the read never started"
            time.sleep(0.05)
        time.sleep(1.0)  # inside SQLite's endless query by now
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=GENEROUS)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert list(tmp.iterdir()) == []  # the private copy of the library is gone
    assert "Traceback" not in err


def test_schema_sql_is_the_one_zotero_tests_use():
    assert "CREATE TABLE items" in SCHEMA  # the hostile files above replace tables of this schema
