"""Reading a Zotero library straight from zotero.sqlite (issue #13 §4), on databases built here
with the tables of Zotero's public schema (resource/schema/userdata.sql, Zotero 5+)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import count_example
from paperlike.errors import CorpusError
from paperlike.export import export_papers
from paperlike.readers import read_corpus, read_zotero

SCHEMA = """
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT, display INT DEFAULT 1);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT,
    UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex), UNIQUE (itemID, orderIndex));
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL, parentCollectionID INT DEFAULT NULL,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (collectionID, itemID));
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL, PRIMARY KEY (itemID, tagID));
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
"""

TYPES = ["journalArticle", "conferencePaper", "preprint", "book", "attachment", "note", "thesis"]
FIELDS = [
    "title", "abstractNote", "date", "url", "DOI", "publicationTitle", "proceedingsTitle", "volume", "issue",
    "pages", "publisher", "extra", "archiveID", "repository", "university", "ISBN", "place",
]  # fmt: skip


class Library:
    """A small Zotero database, written the way Zotero stores items (EAV rows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.con = sqlite3.connect(path)
        self.con.executescript(SCHEMA)
        self.con.executemany("INSERT INTO itemTypes (itemTypeID, typeName) VALUES (?, ?)", enumerate(TYPES, 1))
        self.con.executemany("INSERT INTO fields (fieldID, fieldName) VALUES (?, ?)", enumerate(FIELDS, 1))
        self.con.executemany("INSERT INTO creatorTypes VALUES (?, ?)", [(1, "author"), (2, "editor")])
        self.next_item = 1

    def item(self, kind: str, creators=(), tags=(), collections=(), key: str | None = None, **values) -> int:
        item_id = self.next_item
        self.next_item += 1
        self.con.execute(
            "INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, ?, 1, ?)",
            (item_id, TYPES.index(kind) + 1, key or f"KEY{item_id:05d}"),
        )
        for name, value in values.items():
            self.con.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
            (value_id,) = self.con.execute("SELECT valueID FROM itemDataValues WHERE value = ?", (value,)).fetchone()
            self.con.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, FIELDS.index(name) + 1, value_id))
        for order, (first, last, mode, role) in enumerate(creators):
            self.con.execute(
                "INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)", (first, last, mode)
            )
            (creator,) = self.con.execute(
                "SELECT creatorID FROM creators WHERE firstName IS ? AND lastName IS ? AND fieldMode IS ?", (first, last, mode)
            ).fetchone()
            self.con.execute("INSERT INTO itemCreators VALUES (?, ?, ?, ?)", (item_id, creator, role, order))
        for tag in tags:
            self.con.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (tag,))
            self.con.execute("INSERT INTO itemTags SELECT ?, tagID, 0 FROM tags WHERE name = ?", (item_id, tag))
        for collection in collections:
            self.con.execute("INSERT INTO collectionItems (collectionID, itemID) VALUES (?, ?)", (collection, item_id))
        return item_id

    def collection(self, cid: int, name: str, parent: int | None = None) -> int:
        self.con.execute(
            "INSERT INTO collections (collectionID, collectionName, parentCollectionID, libraryID, key) VALUES (?, ?, ?, 1, ?)",
            (cid, name, parent, f"C{cid:07d}"),
        )
        return cid

    def commit(self) -> Path:
        self.con.commit()
        return self.path


def _sample(path: Path) -> Library:
    lib = Library(path)
    reading = lib.collection(1, "Reading")
    distil = lib.collection(2, "Distillation", parent=reading)
    thesis = lib.collection(3, "Thesis")
    lib.item(
        "journalArticle",
        creators=[("Geoffrey", "Hinton", 0, 1), ("Oriol", "Vinyals", 0, 1), ("Ed", "Itor", 0, 2)],
        tags=["distillation", "to read"],
        collections=[distil, thesis],
        title="Distilling the Knowledge in a Neural Network",
        abstractNote="We compress an ensemble into a single model.",
        date="2015-03-09 March 9, 2015",
        DOI="10.48550/arXiv.1503.02531",
        url="https://example.org/hinton",
        publicationTitle="Journal of Distillation",
        volume="3",
        issue="2",
        pages="1--20",
    )
    lib.item("attachment", title="Full Text PDF")  # not a paper
    lib.item("note", title="my note")  # not a paper
    lib.item(
        "conferencePaper",
        creators=[("Ana", "García", 0, 1)],
        collections=[reading],
        title="Rehearsal for Continual Learning",
        proceedingsTitle="Proceedings of ICML",
        date="2021",
        extra="arXiv: 2101.00001\nCitation Key: garcia2021",
    )
    lib.item(
        "preprint",
        creators=[("", "The Big Lab", 1, 1)],
        title="A Preprint About Scaling Laws",
        archiveID="arXiv:2203.00002",
        repository="arXiv",
        date="2022-03-00 March 2022",
    )
    lib.item("book", creators=[("Ed", "Editor", 0, 2)], title="Collected Papers", ISBN="978-0-00-000000-0", place="Berlin")
    trashed = lib.item("journalArticle", title="A Paper In The Trash")
    lib.con.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (trashed,))
    lib.item("thesis", title="", university="MIT")  # no title: skipped with a note
    return lib


def test_items_with_their_collections_tags_and_bibliographic_fields(tmp_path):
    path = _sample(tmp_path / "zotero.sqlite").commit()
    corpus = read_corpus(path)
    papers = {p.id: p for p in corpus.papers}
    assert list(papers) == [
        "distilling-the-knowledge-in-a-neural",
        "garcia2021",
        "a-preprint-about-scaling-laws",
        "collected-papers",
    ]
    hinton = papers["distilling-the-knowledge-in-a-neural"]
    assert hinton.authors == ("Geoffrey Hinton", "Oriol Vinyals")  # the editor is no author
    assert (hinton.year, hinton.doi, hinton.url) == (2015, "10.48550/arXiv.1503.02531", "https://example.org/hinton")
    assert (hinton.entry_type, hinton.venue) == ("article", "Journal of Distillation")
    assert hinton.fields == (("volume", "3"), ("number", "2"), ("pages", "1--20"))
    assert hinton.tags == ("distillation", "to read") and hinton.collections == ("Reading/Distillation", "Thesis")
    assert hinton.abstract == "We compress an ensemble into a single model."
    garcia = papers["garcia2021"]
    assert (garcia.entry_type, garcia.venue, garcia.arxiv_id, garcia.collections) == (
        "inproceedings",
        "Proceedings of ICML",
        "2101.00001",
        ("Reading",),
    )
    preprint = papers["a-preprint-about-scaling-laws"]
    assert (preprint.arxiv_id, preprint.authors, preprint.year, preprint.field("publisher")) == (
        "2203.00002",
        ("The Big Lab",),
        2022,
        "arXiv",
    )
    book = papers["collected-papers"]
    assert book.authors == ("Ed Editor",) and book.fields == (("address", "Berlin"), ("isbn", "978-0-00-000000-0"))
    assert corpus.skipped == 1 and "(item KEY00008): paper has no title" in corpus.notes[0]
    assert all(p.source == str(path) for p in corpus.papers)


def test_detected_by_content_whatever_the_name(tmp_path):
    path = _sample(tmp_path / "my-library.db").commit()
    assert len(read_corpus(path).papers) == 4
    assert len(read_corpus(path, "zotero").papers) == 4
    assert len(read_zotero(path).papers) == 4


def test_read_while_zotero_holds_its_exclusive_lock_and_nothing_of_its_is_touched(tmp_path):
    folder = tmp_path / "Zotero"
    folder.mkdir()
    path = _sample(folder / "zotero.sqlite").commit()
    # Zotero keeps its database locked exclusively while it runs, in the middle of a write here.
    zotero = sqlite3.connect(path, isolation_level=None)
    zotero.execute("PRAGMA locking_mode = EXCLUSIVE")
    zotero.execute("BEGIN EXCLUSIVE")
    zotero.execute("UPDATE itemDataValues SET value = 'Changed, not committed' WHERE value LIKE 'Distilling%'")
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # why paperlike never opens it in place
        sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("SELECT count(*) FROM items").fetchone()
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    corpus = read_corpus(path)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert corpus.papers[0].title == "Distilling the Knowledge in a Neural Network"  # the committed state
    zotero.execute("ROLLBACK")
    zotero.close()


def test_committed_changes_still_in_the_write_ahead_log_are_read(tmp_path):
    path = tmp_path / "zotero.sqlite"
    lib = _sample(path)
    lib.commit()
    assert lib.con.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    lib.con.execute("PRAGMA wal_autocheckpoint = 0")  # as between two Zotero checkpoints
    lib.item("journalArticle", title="Added Since The Last Checkpoint Of The Log")
    lib.commit()
    assert (tmp_path / "zotero.sqlite-wal").stat().st_size > 0
    titles = [p.title for p in read_corpus(path).papers]
    assert titles[-1] == "Added Since The Last Checkpoint Of The Log"
    lib.con.close()


def test_a_database_that_never_stops_changing_is_a_clean_error(tmp_path, monkeypatch):
    from paperlike.readers import zotero

    path = _sample(tmp_path / "zotero.sqlite").commit()
    ticks = iter(range(1_000))
    monkeypatch.setattr(zotero, "_state", lambda _path: [next(ticks)])
    monkeypatch.setattr(zotero.time, "sleep", lambda _s: None)
    with pytest.raises(CorpusError, match="changed each time it was read .*; try again in a moment"):
        read_corpus(path)


def test_other_sqlite_files_and_wrong_formats_are_clean_errors(tmp_path):
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    with pytest.raises(CorpusError, match=r"an SQLite database but not a Zotero library \(no table items, itemTypes"):
        read_corpus(other)
    text = tmp_path / "papers.csv"
    text.write_text("title,abstract\nA,B\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"papers.csv: not a Zotero database \(no SQLite header\)"):
        read_corpus(text, "zotero")
    zot = _sample(tmp_path / "zotero.sqlite").commit()
    with pytest.raises(CorpusError, match=r"--format bibtex was given but this is not BibTeX; the file looks like a Zotero"):
        read_corpus(zot, "bibtex")


def test_hostile_database_content_is_data(tmp_path):
    lib = Library(tmp_path / "zotero.sqlite")
    loop_a = lib.collection(1, "A\x1b[31m", parent=2)  # a damaged file: parents in a cycle
    lib.collection(2, "B", parent=loop_a)
    lib.item("journalArticle", title="Title\x00 with\ncontrols\u202e", collections=[1], tags=["\x1b[2J"], url="x}, title={Forged")
    lib.item("journalArticle", title=b"\x00binary title")  # a blob is no text: no title, skipped
    path = lib.commit()
    corpus = read_corpus(path)
    (paper,) = corpus.papers
    assert paper.title == "Title with controls\u202e" and paper.collections == ("B/A [31m",) and paper.tags == ("[2J",)
    assert corpus.skipped == 1
    bib = export_papers(corpus.papers, "bibtex")
    assert bib.count("title = ") == 1


def test_collections_and_tags_survive_the_index(tmp_path, hash_index_copy):
    from paperlike.embedding import HashingEmbedder
    from paperlike.service.edits import add_papers
    from paperlike.storage import load_index

    path = _sample(tmp_path / "zotero.sqlite").commit()
    add_papers(hash_index_copy, [read_corpus(path)], embedder=HashingEmbedder())
    stored = {p.id: p for p in load_index(hash_index_copy).papers()}
    hinton = stored["distilling-the-knowledge-in-a-neural"]
    assert hinton.collections == ("Reading/Distillation", "Thesis") and hinton.venue == "Journal of Distillation"
    line = json.loads(export_papers([hinton], "jsonl"))
    assert line["collections"] == ["Reading/Distillation", "Thesis"] and line["fields"]["pages"] == "1--20"
    bib = export_papers([hinton], "bibtex")
    assert bib.startswith("@article{distilling-the-knowledge-in-a-neural,")
    assert "journal = {Journal of Distillation}" in bib and "keywords = {distillation, to read}" in bib


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.0, 1.0), noise=st.binary(max_size=64), flip=st.integers(0, 10_000))
def test_damaged_databases_give_papers_or_a_clean_error(tmp_path, cut, noise, flip):
    count_example("zotero-damaged")
    good = tmp_path / "good.sqlite"
    if not good.exists():
        _sample(good).commit()
    data = bytearray(good.read_bytes())
    data = data[: max(16, int(len(data) * cut))] + bytearray(noise)
    if len(data) > 100:
        data[100 + flip % (len(data) - 100)] ^= 0xFF
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(bytes(data))
    try:
        corpus = read_corpus(bad)
    except CorpusError as exc:
        assert str(bad) in str(exc) and "\n" not in str(exc)
    else:
        assert all(p.title for p in corpus.papers)
