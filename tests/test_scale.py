"""What lets a build reach 1M papers in bounded memory (issue #14, "Scale of the rest of the
build"; docs/scale.md): JSON lines read line by line, index files streamed to disk, papers found
through line offsets, the map's PCA from a covariance, themes and BM25 without copies of every
vector or record, and texts not kept on the records. Each keeps the results of the
whole-in-memory code it replaced, and each test fails on that code."""

from __future__ import annotations

import hashlib
import json
import shutil
import tracemalloc
import weakref

import numpy as np
import pytest

from conftest import ROOT, random_unit_vectors
from paperlike.embedding import HashingEmbedder
from paperlike.errors import CorpusError, QueryError
from paperlike.readers import read_corpus, read_jsonl
from paperlike.readers.arxiv import read_arxiv_json
from paperlike.readers.base import decode_text
from paperlike.readers.lines import HEAD_BYTES
from paperlike.records import Corpus, Paper, Seed, paper_text_hash, text_hash
from paperlike.storage.files import atomic_write_stream
from paperlike.storage.index import load_index
from paperlike.storage.line_index import Lines
from paperlike.storage.manifest import read_manifest
from paperlike.storage.writer import HNSW_PARAMS, write_index
from paperlike.viz import projection
from paperlike.viz.projection import TSNE_LIMIT, project_2d

MODEL = {"name": "hashing", "version": "1", "dim": 16}


@pytest.fixture
def no_whole_reads(monkeypatch):
    """Reading a corpus file whole (the bytes-then-text path of every other format) fails."""
    from paperlike.readers import base
    from paperlike.readers import corpus as registry

    def refused(*args, **kwargs):
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(registry, "read_all", refused)
    for name in ("read_all", "read_bytes", "read_text"):
        monkeypatch.setattr(base, name, refused)


def _dicts(corpus: Corpus) -> list[dict]:
    return [p.to_dict() for p in corpus.papers]


# -- JSON lines and the arXiv snapshot, line by line ------------------------------------------------


def test_jsonl_read_line_by_line_is_the_same_corpus(tmp_path, no_whole_reads):
    records = [
        {"id": f"p{i}", "title": f"Paper {i} on line\u2028separators", "abstract": f"Abstract {i}, caf\u00e9."} for i in range(50)
    ]
    records.insert(7, "not json at all")  # a malformed line: skipped with the same note
    text = "\ufeff" + "\r\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records) + "\r\n\n"
    path = tmp_path / "papers.jsonl"
    path.write_bytes(text.encode("utf-8"))
    streamed, whole = read_corpus(path), read_jsonl(path, text=text.lstrip("\ufeff"))
    assert _dicts(streamed) == _dicts(whole) and streamed.notes == whole.notes and streamed.skipped == 1
    assert len(streamed) == 50 and streamed.papers[0].title == "Paper 0 on line separators"  # one line, not two
    assert "papers.jsonl:8: not valid JSON" in streamed.notes[0]  # numbered as in the file


def test_arxiv_snapshot_read_line_by_line_is_the_same_corpus(tmp_path, no_whole_reads):
    fixture = ROOT / "tests" / "fixtures" / "arxiv_metadata.jsonl"
    whole = read_arxiv_json(fixture, fixture.read_text(encoding="utf-8"))
    streamed = read_corpus(fixture)
    assert _dicts(streamed) == _dicts(whole) and streamed.notes == whole.notes
    assert _dicts(read_corpus(fixture, "arxiv-json")) == _dicts(whole)


def test_the_format_is_told_from_the_head_even_when_a_character_is_cut_there(tmp_path, no_whole_reads):
    # A two-byte character straddles the end of the 64 KB head; the file has no telling suffix.
    first = '{"title": "First", "abstract": "' + "a" * (HEAD_BYTES - 33) + '\u00e9"}'
    assert first.encode("utf-8").index("\u00e9".encode()) == HEAD_BYTES - 1
    path = tmp_path / "papers.data"
    path.write_text(first + '\n{"title": "Second", "abstract": "caf\u00e9"}\n', encoding="utf-8")
    corpus = read_corpus(path)
    assert [p.title for p in corpus.papers] == ["First", "Second"] and corpus.papers[0].abstract.endswith("a\u00e9")


def test_a_head_that_cannot_tell_is_read_whole_as_before(tmp_path):
    # 70 KB of blank lines before the first record: the head is blank, so the file is read whole.
    path = tmp_path / "papers.data"
    path.write_text("\n" * 70_000 + '{"title": "Late", "abstract": "x"}\n', encoding="utf-8")
    corpus = read_corpus(path)
    assert [p.title for p in corpus.papers] == ["Late"]


def test_bad_utf8_far_into_a_jsonl_file_names_its_line_as_a_whole_read_does(tmp_path, no_whole_reads):
    path = tmp_path / "papers.jsonl"
    good = "".join(json.dumps({"title": f"Paper {i}", "abstract": "x" * 2000}) + "\n" for i in range(100))
    path.write_bytes(good.encode() + b'{"title": "caf\xe9"}\n')  # beyond the 64 KB head
    message = r"papers.jsonl:101: not valid UTF-8 text; save the file as UTF-8"
    with pytest.raises(CorpusError, match=message):
        read_corpus(path)
    with pytest.raises(CorpusError, match=message):
        decode_text(path.read_bytes(), path)


def test_a_named_format_the_file_is_not_in_still_says_what_it_looks_like(tmp_path):
    path = tmp_path / "refs.txt"
    path.write_text("@article{key, title = {A title}}\n" * 3, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"--format jsonl was given but this is not JSON lines; the file looks like BibTeX"):
        read_corpus(path, "jsonl")


# -- index files streamed to disk -------------------------------------------------------------------


def test_streamed_index_files_have_the_checksums_of_their_bytes(tmp_path, monkeypatch):
    import faiss

    from paperlike.storage import files

    def refused(*args, **kwargs):
        raise AssertionError("a whole file was made in memory")

    real_write_bytes = files.atomic_write_bytes

    def small_files_only(path, data):  # the manifest and the generation record, not the data files
        assert not path.name.startswith(("vectors-", "titles-", "papers-")), f"{path.name} was made in memory whole"
        return real_write_bytes(path, data)

    papers = [Paper(f"p{i}", f"Title {i}", f"Abstract {i} \u2028 caf\u00e9") for i in range(300)]
    vectors = random_unit_vectors(300, 16)
    expected = {}
    for search in ("exact", "hnsw"):
        with monkeypatch.context() as m:
            m.setattr(faiss, "serialize_index", refused)
            m.setattr(files, "atomic_write_bytes", small_files_only)
            manifest = write_index(tmp_path / search, papers, vectors, MODEL, "t", "0" * 64, search=search)
        expected[search] = faiss.serialize_index(load_index(tmp_path / search).faiss_index).tobytes()
        for entry in manifest["files"].values():
            data = (tmp_path / search / entry["name"]).read_bytes()
            assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"]
        index = load_index(tmp_path / search)
        assert index.ids == [p.id for p in papers] and [p.abstract for p in index.papers()] == [p.abstract for p in papers]
        assert np.allclose(index.vectors_at(range(300)), vectors, atol=1e-6)
    # The streamed vectors file is byte for byte what FAISS serialises.
    flat = faiss.IndexFlatIP(16)
    flat.add(vectors)
    vectors_file = read_manifest(tmp_path / "exact")["files"]["vectors"]["name"]
    assert (tmp_path / "exact" / vectors_file).read_bytes() == faiss.serialize_index(flat).tobytes() == expected["exact"]
    # The manifest records the HNSW parameters (a shadowed variable once dropped them), and only for HNSW.
    assert read_manifest(tmp_path / "hnsw")["hnsw"] == HNSW_PARAMS and "hnsw" not in read_manifest(tmp_path / "exact")


def test_atomic_write_stream_counts_what_it_writes_and_leaves_nothing_on_failure(tmp_path):
    def boom(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_stream(tmp_path / "f.bin", boom)
    assert list(tmp_path.iterdir()) == []
    assert atomic_write_stream(tmp_path / "g.bin", lambda fh: fh.writelines([b"ab", b"", b"c"])) == (
        3,
        hashlib.sha256(b"abc").hexdigest(),
    )
    assert (tmp_path / "g.bin").read_bytes() == b"abc"


def test_a_failed_write_leaves_no_file_of_the_new_generation(tmp_path, monkeypatch):
    from paperlike.storage import writer

    papers = [Paper(f"p{i}", f"Title {i}", "x") for i in range(5)]
    write_index(tmp_path, papers, random_unit_vectors(5, 16), MODEL, "t", "0" * 64)
    before = sorted(p.name for p in tmp_path.iterdir())
    real = writer._writers

    def failing_papers_file(*args):
        found = real(*args)
        found["papers"] = lambda fh: (fh.write(b"{}\n"), (_ for _ in ()).throw(OSError(28, "No space left on device")))
        return found

    monkeypatch.setattr(writer, "_writers", failing_papers_file)
    with pytest.raises(OSError, match="No space left"):
        write_index(tmp_path, papers, random_unit_vectors(5, 16, seed=1), MODEL, "t", "1" * 64)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        n for n in before if not n.startswith(".")
    ]
    assert load_index(tmp_path).ids == [p.id for p in papers]


def test_the_build_frees_its_vector_dict_before_writing(tmp_path, monkeypatch):
    from paperlike.service import build
    from paperlike.storage.checkpoints import EmbeddingCache

    class Known(dict):  # a dict that can be watched
        pass

    watched: list[weakref.ref] = []
    real_known, real_write = EmbeddingCache.known, build.write_index

    def known(self):
        found = Known(real_known(self))
        watched.append(weakref.ref(found))
        return found

    def write_index_(*args, **kwargs):
        assert watched and watched[0]() is None, "the vectors by hash are still held while the index is written"
        return real_write(*args, **kwargs)

    monkeypatch.setattr(EmbeddingCache, "known", known)
    monkeypatch.setattr(build, "write_index", write_index_)
    corpus = Corpus([Paper(f"p{i}", f"Paper {i}", f"About topic {i}") for i in range(20)], "t.jsonl")
    report = build.build_index(corpus, HashingEmbedder(), tmp_path / "i")
    assert report.count == 20 and report.embedded == 20
    assert build.build_index(corpus, HashingEmbedder(), tmp_path / "i").reused == 20  # and again from the index


# -- papers found through line offsets ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"a",
        b"a\n",
        b"a\nb",
        b"a\n\nb\n",
        "x\u2028y\nz\n".encode(),
        b"\n".join(b"%d" % i * (i % 9) for i in range(500)),
    ],
)
def test_lines_are_those_of_split(data):
    for scan in (1, 7, 1 << 20):
        lines = Lines(data, scan=scan)
        assert list(lines) == data.split(b"\n") and len(lines) == len(data.split(b"\n"))
    with pytest.raises(IndexError):
        Lines(data)[len(data.split(b"\n"))]
    with pytest.raises(IndexError):
        Lines(data)[-1]


def test_papers_at_does_not_copy_the_papers_file(tmp_path):
    papers = [Paper(f"p{i}", f"Title {i}", f"Abstract {i} " + "word " * 1100) for i in range(2000)]
    write_index(tmp_path, papers, random_unit_vectors(2000, 16), MODEL, "t", "0" * 64)
    index = load_index(tmp_path)
    size = index.manifest["files"]["papers"]["bytes"]
    tracemalloc.start()
    try:
        found = index.papers_at([5, 1999, 0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [p.id for p in found] == ["p5", "p1999", "p0"] and found[0].abstract == papers[5].abstract
    assert size > 10 << 20 and peak < size // 4  # a split copy of the file held all of it, twice
    import re

    assert index.positions_matching(re.compile(rb'"id": "p1[0-9]{3}"')) == list(range(1000, 2000))
    assert [p.id for p in index.papers()] == [p.id for p in papers]


# -- the map's PCA ----------------------------------------------------------------------------------


def test_map_pca_is_scikit_learns_pca():
    from sklearn.decomposition import PCA

    x = random_unit_vectors(TSNE_LIMIT + 1, 32, seed=3)
    ours = projection._pca(x, chunk=4096)
    theirs = PCA(n_components=2, svd_solver="full").fit_transform(x.astype(np.float64))
    assert np.allclose(ours, theirs, atol=1e-8)
    for rows, dim in ((2, 5), (3, 5), (9, 1)):  # fewer rows than dimensions, one dimension
        small = random_unit_vectors(rows, dim, seed=rows).astype(np.float64) if dim > 1 else np.arange(9.0).reshape(9, 1)
        k = min(2, rows, dim)
        expected = np.pad(PCA(n_components=k, svd_solver="full").fit_transform(small), ((0, 0), (0, 2 - k)))
        assert np.allclose(projection._pca(small), expected, atol=1e-8)
    assert not projection._pca(np.ones((5, 3))).any()


def test_a_big_map_is_pca_of_the_distinct_vectors_without_a_float64_copy(monkeypatch):
    from sklearn.decomposition import PCA

    monkeypatch.setattr(projection, "_CHUNK", 1024)  # (8192 rows of 384 floats at 1M papers)
    x = random_unit_vectors(TSNE_LIMIT + 2, 64, seed=5)
    x[100] = x[7]  # a copy: laid out once, then placed on a ring
    tracemalloc.start()
    try:
        coords, method = project_2d(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert method == "PCA" and coords.shape == (len(x), 2) and np.abs(coords).max() == pytest.approx(1.0)
    assert peak < x.nbytes  # a float64 copy of the vectors alone is twice their size
    distinct = np.delete(x, 100, axis=0).astype(np.float64)
    expected = PCA(n_components=2, svd_solver="full").fit_transform(distinct - distinct.mean(axis=0))
    expected = np.insert(expected, 100, expected[7], axis=0)
    expected = expected - expected.mean(axis=0)
    mask = np.ones(len(x), bool)
    mask[[7, 100]] = False
    scale = np.abs(coords[mask]).max() / np.abs(expected[mask]).max()
    assert np.allclose(coords[mask], expected[mask] * scale, atol=1e-6)
    assert np.array_equal(coords, project_2d(x)[0])  # the same vectors, the same map


def _distinct_before(x):
    """The duplicate check the map used before: np.unique of the rounded float64 rows."""
    _, first, inverse = np.unique(np.round(np.asarray(x, np.float64), 6), axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[np.asarray(inverse).ravel()]


def _spread_before(coords, inverse):
    out = coords[inverse].astype(np.float64)
    scale = float(np.ptp(coords, axis=0).max(initial=0.0)) or 1.0
    for group in np.unique(inverse):
        members = np.flatnonzero(inverse == group)
        if len(members) > 1:
            angles = 2 * np.pi * np.arange(len(members)) / len(members)
            out[members] += 0.03 * scale * np.column_stack([np.cos(angles), np.sin(angles)])
    return out


def test_duplicates_are_found_and_spread_as_before():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 8)).astype(np.float32)
    x[rng.integers(0, 300, 60)] = x[rng.integers(0, 300, 60)]  # copies of copies
    x[5, 0], x[6] = 0.0, x[5]
    x[6, 0] = -0.0  # equal as numbers
    x[9] = x[8] + 1e-8  # equal to 6 decimals
    first, inverse = projection._distinct(x, chunk=17)
    before = _distinct_before(x)
    assert np.array_equal(first, before[0]) and np.array_equal(inverse, before[1]) and len(first) < 300
    coords = rng.standard_normal((len(first), 2))
    assert np.array_equal(projection._spread_copies(coords, inverse), _spread_before(coords, inverse))
    bad = x.copy()
    bad[250, 3] = np.inf
    with pytest.raises(QueryError, match="not numbers"):
        projection._distinct(bad, chunk=17)


# -- themes without a copy of every vector ----------------------------------------------------------


def test_themes_cluster_the_vectors_without_copying_them(monkeypatch):
    from paperlike.themes import cluster, compute

    x = random_unit_vectors(5_000, 32, seed=2)
    seen = []
    real_kmeans, real_rows = cluster._kmeans, cluster.rows
    monkeypatch.setattr(
        cluster, "_kmeans", lambda sub, *a, **k: seen.append(("k-means", np.shares_memory(sub, x))) or real_kmeans(sub, *a, **k)
    )
    monkeypatch.setattr(
        compute, "rows", lambda x_, pos: seen.append(("scores", np.shares_memory(got := real_rows(x_, pos), x))) or got
    )
    themes = compute.compute_themes(x, [f"p{i}" for i in range(len(x))], ["t"] * len(x), lambda pos: ["words"] * len(pos), n=3)
    assert seen == [("k-means", True), ("scores", True)]  # x[positions] of every position copied all of x, twice
    assert len(themes) == 3 and sum(t.size for t in themes) >= len(x)
    assert real_rows(x, np.arange(len(x))) is x and np.array_equal(real_rows(x, np.array([0, 2])), x[[0, 2]])
    with_seed = compute.compute_themes(
        x,
        [f"p{i}" for i in range(len(x))],
        ["t"] * len(x),
        lambda pos: ["w"] * len(pos),
        n=3,
        seeds=[Seed("s", "s")],
        embed=lambda texts: x[:1],
    )
    assert seen[-1] == ("scores", False)  # without the seed's papers: a copy of the other rows, as it must be
    assert with_seed


# -- BM25 and texts ----------------------------------------------------------------------------------


def test_bm25_is_built_from_texts_a_chunk_of_records_at_a_time(hash_index_copy, monkeypatch):
    from paperlike.service import Recommender

    for folder in hash_index_copy.glob("lexical-*"):
        shutil.rmtree(folder)
    rec = Recommender.load(hash_index_copy)
    expected = [p.text for p in load_index(hash_index_copy).papers()]
    asked: list[int] = []
    real = rec.index.papers_at
    monkeypatch.setattr(rec.index, "papers", lambda: pytest.fail("every record was parsed and kept"))
    monkeypatch.setattr(rec.index, "papers_at", lambda positions: asked.append(len(positions)) or real(positions))
    assert list(rec.opened.all_texts(chunk=20)) == expected and asked == [20, 20, 20, 15]
    asked.clear()
    lex = rec.lexical()
    assert lex.count == 75 and max(asked) <= 20_000 and rec.similar(rec.index.ids[0], 3)


def test_a_papers_hash_does_not_keep_its_text_on_the_record(tmp_path, monkeypatch):
    from paperlike.records import papers as papers_module

    paper = Paper("x1", "A title unseen before 7f3a", r"An abstract with {\em LaTeX}.")
    digest = paper_text_hash(paper)
    assert "text" not in vars(paper) and digest == text_hash(paper.text)
    made = Paper("x2", "Another title unseen before 7f3a", "Plain.")
    made.text  # noqa: B018 - made before: used, not made again
    monkeypatch.setattr(papers_module, "_make_text", lambda p: pytest.fail("the text was made again"))
    assert paper_text_hash(made) == text_hash(made.text)
    monkeypatch.undo()
    corpus = Corpus([Paper(f"b{i}", f"Build paper {i} 7f3a", f"Abstract {i}") for i in range(10)], "t.jsonl")
    from paperlike.service.build import build_index

    build_index(corpus, HashingEmbedder(), tmp_path / "i")
    assert not any("text" in vars(p) for p in corpus.papers)  # neither hashed nor embedded texts are kept
