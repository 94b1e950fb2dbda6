"""``paperlike rank`` / :func:`paperlike.service.incoming.rank_batch`: new papers against a library."""

from __future__ import annotations

import csv
import io
import json
import math

import bibtexparser
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from conftest import tree_snapshot, write_jsonl
from paperlike.cli import cli
from paperlike.cli.rank import RANK_METHODS
from paperlike.embedding import HashingEmbedder
from paperlike.errors import CorpusError, ModelMismatchError, QueryError, UnknownPaperError
from paperlike.records import Corpus, Paper
from paperlike.search.stream import STREAM_METHODS
from paperlike.service import incoming as batch_mod
from paperlike.service.incoming import rank_batch
from paperlike.service.recommender import Recommender

_NEW = [
    ("distil-small", "Distilling large language models into small students", "We distil a large teacher model into a small student with few-shot data and task-agnostic training."),
    ("robot-hands", "Dexterous robot hands from human videos", "A robot learns contact-rich manipulation policies from videos of human hands."),
    ("prune-llm", "Structured pruning of large language models", "We prune attention heads and layers of a large language model and recover with tuning."),
    ("sea-birds", "Migration routes of sea birds", "We track albatross flights over the southern ocean with GPS loggers for three seasons."),
    ("continual", "Continual learning without forgetting", "A method for continual learning that avoids catastrophic forgetting across tasks."),
]  # fmt: skip
NEW = [Paper(*fields) for fields in _NEW]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def rec(hash_index_dir) -> Recommender:
    return Recommender.load(hash_index_dir, embedder=HashingEmbedder())


@pytest.fixture
def batch_file(tmp_path):
    return write_jsonl(tmp_path / "today.jsonl", [p.to_dict() for p in NEW])


def _brute_force(rec: Recommender, papers: list[Paper], positions: list[int]) -> tuple[list, list, np.ndarray]:
    """The hybrid score the long way: reciprocal-rank fusion (k=60) of the mean of the 3 best
    cosines and of the 3 best TF-IDF cosines, one pair at a time, divided by 2/61."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    emb = HashingEmbedder()
    lib = [rec.index.vector(p) for p in positions]
    lib_texts = [p.text for p in rec.index.papers_at(positions)]
    texts = [p.text for p in papers]
    tf = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(lib_texts + texts).toarray()
    dense, lexical = [], []
    for i, paper in enumerate(papers):
        v = emb.embed_batch([paper.text])[0]
        cosines = sorted((float(np.dot(v, w)) for w in lib), reverse=True)
        dense.append(sum(cosines[:3]) / min(3, len(cosines)))
        row = tf[len(lib) + i]
        lex = sorted((float(np.dot(row, tf[j])) for j in range(len(lib))), reverse=True)
        lexical.append(sum(lex[:3]) / min(3, len(lex)))

    def ranks(values):  # 1 = best; ties share their average rank
        return [sum(v > x for v in values) + (sum(v == x for v in values) + 1) / 2 for x in values]

    fused = [1 / (60 + a) + 1 / (60 + b) for a, b in zip(ranks(dense), ranks(lexical))]
    return dense, lexical, np.array(fused) * 61 / 2


def test_order_and_scores_match_a_brute_force_computation(rec):
    ranking = rank_batch(rec, NEW)
    _, _, expected = _brute_force(rec, NEW, list(range(rec.index.count)))
    order = sorted(range(len(NEW)), key=lambda i: (-expected[i], i))
    assert [r.id for r in ranking] == [NEW[i].id for i in order]
    assert [r.rank for r in ranking] == [1, 2, 3, 4, 5]
    for r in ranking:
        assert r.score == pytest.approx(expected[[p.id for p in NEW].index(r.id)], abs=1e-5)
    # The bird paper shares nothing with 75 ML papers: it comes last.
    assert ranking[-1].id == "sea-birds"


def test_lexical_method_and_the_hybrid_scale(rec):
    _, lexical, _ = _brute_force(rec, NEW, list(range(rec.index.count)))
    ranking = rank_batch(rec, NEW, method="lexical", why=False)
    assert all(r.score == pytest.approx(lexical[[p.id for p in NEW].index(r.id)], abs=1e-6) for r in ranking)
    # A paper first by both the model and the words scores 1.0; a batch of one paper is first on both.
    assert rank_batch(rec, NEW[:1])[0].score == pytest.approx(1.0)
    assert all(0 < r.score <= 1.0 for r in rank_batch(rec, NEW))


def test_nearest_and_cosine_are_the_true_nearest_library_papers(rec):
    ranking = rank_batch(rec, NEW, nearest=3)
    vectors = rec.index.all_vectors()
    for r in ranking:
        cos = vectors @ HashingEmbedder().embed_batch([r.paper.text])[0]
        best = np.argsort(-cos, kind="stable")[:3]
        assert [n.id for n in r.nearest] == [rec.index.ids[p] for p in best]
        assert r.cosine == pytest.approx(float(cos[best[0]]), abs=1e-5)
        assert [n.cosine for n in r.nearest] == sorted((n.cosine for n in r.nearest), reverse=True)
        # Why: words of the new paper, no stop words or bare numbers, at most 5.
        assert r.why is not None and len(r.why.terms) <= 5
        assert all(t in r.paper.text.lower() and t not in ENGLISH_STOP_WORDS and not t.isdigit() for t in r.why.terms)
    distil = next(r for r in ranking if r.id == "distil-small")
    assert "student" in distil.why.terms or "students" in distil.why.terms


@pytest.mark.parametrize("method", ["max", "centroid", "dense"])
def test_dense_methods_match_brute_force(rec, method):
    vectors = rec.index.all_vectors()
    expected = {}
    for p in NEW:
        cos = np.sort(vectors @ HashingEmbedder().embed_batch([p.text])[0])[::-1]
        if method == "max":
            expected[p.id] = cos[0]
        elif method == "dense":
            expected[p.id] = cos[:3].mean()
        else:
            centre = vectors.mean(axis=0)
            expected[p.id] = float(HashingEmbedder().embed_batch([p.text])[0] @ (centre / np.linalg.norm(centre)))
    ranking = rank_batch(rec, NEW, method=method, why=False)
    assert [r.id for r in ranking] == sorted(expected, key=lambda i: (-expected[i], [p.id for p in NEW].index(i)))
    assert all(r.score == pytest.approx(expected[r.id], abs=1e-5) for r in ranking)
    assert all(r.why is None for r in ranking)


def test_svm_method_is_arxiv_sanity_lites_classifier_on_the_vectors(rec):
    """Library papers positive, the batch negative (as arxiv-sanity-lite: every other paper)."""
    from sklearn.svm import LinearSVC

    stream = HashingEmbedder().embed_batch([p.text for p in NEW])
    x = np.vstack([rec.index.all_vectors(), stream])
    y = np.r_[np.ones(rec.index.count), np.zeros(len(NEW))]
    clf = LinearSVC(class_weight="balanced", C=0.1, max_iter=10000, tol=1e-6).fit(x, y)
    expected = dict(zip((p.id for p in NEW), clf.decision_function(stream)))
    ranking = rank_batch(rec, NEW, method="svm")
    assert [r.id for r in ranking] == sorted(expected, key=lambda i: -expected[i])
    assert all(r.score == pytest.approx(expected[r.id], abs=1e-6) for r in ranking)
    # With --like, the other library papers are negatives too.
    liked = rank_batch(rec, NEW, method="svm", like=["crossing-the-human-robot-embodiment-gap"])
    assert liked[0].id == "robot-hands"


def test_like_targets_only_the_chosen_papers(rec):
    liked = rec.find("crossing-the-human-robot-embodiment-gap")
    ranking = rank_batch(rec, NEW, like=["crossing-the-human-robot-embodiment-gap"])
    assert ranking.target.startswith("1 chosen paper(s): crossing-the-human-robot-embodiment-gap")
    assert all([n.id for n in r.nearest] == [rec.index.ids[liked]] for r in ranking)
    # Against the whole library the robot paper is not first; against the robot paper it is.
    assert rank_batch(rec, NEW)[0].id != "robot-hands"
    assert ranking[0].id == "robot-hands"
    # Titles and unique prefixes name papers too, as in 'similar'.
    by_title = rank_batch(rec, NEW, like=["AutoDistil"])
    assert by_title.results[0].nearest[0].id == "autodistil"


def test_theme_targets_only_the_theme_papers(hash_index_copy):
    rec = Recommender.load(hash_index_copy, embedder=HashingEmbedder())  # computing themes saves them: a copy
    themes = rec.themes(n=4)
    theme = max(themes.themes, key=lambda t: t.size)
    members = {m.id for m in theme.papers}
    ranking = rank_batch(rec, NEW, theme=theme, nearest=5)  # a Theme of an explicit set (issue #13)
    assert ranking.target.startswith(f"theme {theme.id} ")
    assert all(n.id in members for r in ranking for n in r.nearest)
    assert all(len(r.nearest) == min(5, len(members)) for r in ranking)
    with pytest.raises(QueryError, match="no theme"):
        rank_batch(rec, NEW, theme="quantum chemistry")


def test_bad_targets(rec):
    with pytest.raises(QueryError, match="not both"):
        rank_batch(rec, NEW, theme="t1", like=["autodistil"])
    with pytest.raises(UnknownPaperError):
        rank_batch(rec, NEW, like=["no-such-paper-here"])
    with pytest.raises(QueryError, match="unknown rank method"):
        rank_batch(rec, NEW, method="magic")
    for k in (0, -1, 1.5, True):
        with pytest.raises(QueryError, match="k must be"):
            rank_batch(rec, NEW, k=k)


def test_papers_already_in_the_library_are_left_out_and_named(rec):
    lib = rec.paper("autodistil")
    same_title = Paper("x1", lib.title.upper() + " ", "A different abstract.")
    same_arxiv = Paper("x2", "Some other title entirely here", "abstract", arxiv_id=(lib.arxiv_id or "") + "v3")
    batch = Corpus(NEW + [same_title] + ([same_arxiv] if lib.arxiv_id else []), "b.jsonl")
    ranking = rank_batch(rec, batch)
    assert [r.id for r in ranking] == [r.id for r in rank_batch(rec, NEW)]
    assert [(p.id, lib_id) for p, lib_id in ranking.known] == [("x1", "autodistil")] + (
        [("x2", "autodistil")] if lib.arxiv_id else []
    )
    assert ranking.total == len(batch.papers)
    marked = rank_batch(rec, batch, include_known=True)
    assert len(marked) == len(batch.papers)
    assert {r.id: r.in_library for r in marked if r.in_library} == {p.id: "autodistil" for p, _ in ranking.known}
    assert next(r for r in marked if r.id == "x1").nearest[0].id == "autodistil"


def test_an_explicit_different_id_with_the_same_title_is_another_paper(rec):
    lib = rec.paper("autodistil")
    other = Paper("smith2024", lib.title, "Another paper with the same title.")
    ranking = rank_batch(rec, Corpus([other], "b.bib", explicit_ids=frozenset({"smith2024"})))
    assert ranking.known == [] and [r.id for r in ranking] == ["smith2024"]


def test_empty_and_one_paper_batches(rec, tmp_path):
    empty, one = rank_batch(rec, []), rank_batch(rec, NEW[:1])
    assert len(empty) == 0 and empty.total == 0 and empty.to_dicts() == []
    assert len(one) == 1 and one[0].rank == 1 and math.isfinite(one[0].score)
    with pytest.raises(CorpusError, match="empty"):
        rank_batch(rec, write_jsonl(tmp_path / "empty.jsonl", []))
    with pytest.raises(QueryError, match="a list of Paper records"):
        rank_batch(rec, ["not a paper"])  # type: ignore[list-item]


def test_hostile_text_in_the_batch(rec, tmp_path):
    nasty = [
        Paper(
            "ansi",
            "\x1b[31mRed\x1b[0m title with {braces} and \\emph{latex}",
            "Abstract with \x00 NUL, \u202e RTL, 😀 and <script>alert(1)</script>.",
        ),
        Paper("stop", "the of and a", "the of and"),
        Paper("long", "Distillation " * 5, "word " * 20000),
        Paper("quotes", 'A "quoted" title, with commas; and \u2028 separators', "Lines\r\nand\ttabs \\ backslashes % percent"),
    ]
    ranking = rank_batch(rec, NEW + nasty)
    assert sorted(r.id for r in ranking) == sorted(p.id for p in NEW + nasty)
    assert all(math.isfinite(r.score) and math.isfinite(r.cosine) for r in ranking)
    json.loads(json.dumps(ranking.to_dicts()))
    path = write_jsonl(tmp_path / "nasty.jsonl", [p.to_dict() for p in nasty])
    result = run("rank", path, "--index-dir", rec.directory)
    assert result.exit_code == 0, result.output
    # The reader turned control characters into spaces: nothing reaches the terminal raw.
    assert "\x1b" not in result.stdout and "\x00" not in result.stdout
    bib = run("rank", path, "--index-dir", rec.directory, "--format", "bibtex")
    assert bib.exit_code == 0, bib.output
    assert len(bibtexparser.parse_string(bib.stdout).entries) == len(nasty)


def test_cli_table(batch_file, hash_index_dir):
    result = run("rank", batch_file, "--index-dir", hash_index_dir, "-k", 3)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"5 papers of {batch_file}, best 3 shown, ranked against the library (75 papers)"
    assert lines[1].split() == ["rank", "score", "cosine", "id", "title"]
    rows = [line for line in lines[2:] if line[:4].strip().isdigit()]
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]
    assert sum(line.strip().startswith("like: ") for line in lines) == 3
    assert sum(line.strip().startswith("why: ") for line in lines) == 3


def test_cli_json_shape(batch_file, hash_index_dir):
    result = run("rank", batch_file, "--index-dir", hash_index_dir, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == len(NEW)
    assert [d["rank"] for d in data] == list(range(1, len(NEW) + 1))
    assert [d["score"] for d in data] == sorted((d["score"] for d in data), reverse=True)
    for d in data:
        assert {"rank", "id", "title", "score", "cosine", "nearest", "why", "in_library"} <= set(d)
        assert isinstance(d["score"], float) and -1.0 <= d["cosine"] <= 1.0
        assert len(d["nearest"]) == 3 and set(d["nearest"][0]) == {"id", "title", "cosine"}
        assert set(d["why"]) == {"terms", "query_sentence", "result_sentence"}
        assert d["in_library"] is None


def test_cli_bibtex_and_csv_in_rank_order(batch_file, hash_index_dir):
    order = [d["id"] for d in json.loads(run("rank", batch_file, "--index-dir", hash_index_dir, "--json").stdout)]
    bib = run("rank", batch_file, "--index-dir", hash_index_dir, "--format", "bibtex", "-k", 4)
    assert bib.exit_code == 0, bib.output
    entries = bibtexparser.parse_string(bib.stdout).entries
    assert [e.key for e in entries] == order[:4]
    assert entries[0]["title"] == next(p.title for p in NEW if p.id == order[0])
    table = run("rank", batch_file, "--index-dir", hash_index_dir, "--format", "csv")
    assert table.exit_code == 0, table.output
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [r["id"] for r in rows] == order
    assert rows[0]["abstract"] == next(p.abstract for p in NEW if p.id == order[0])


def test_cli_names_papers_already_in_the_library(tmp_path, hash_index_dir):
    rec = Recommender.load(hash_index_dir)
    known = rec.paper("tame")
    path = write_jsonl(tmp_path / "b.jsonl", [p.to_dict() for p in NEW] + [{"title": known.title, "abstract": "x"}])
    result = run("rank", path, "--index-dir", hash_index_dir, "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == len(NEW)
    assert "1 of the 6 papers" in result.stderr and "(= tame)" in result.stderr
    marked = run("rank", path, "--index-dir", hash_index_dir, "--include-known")
    assert "[in library: tame]" in marked.stdout


def test_cli_reads_any_format_and_format_in(tmp_path, hash_index_dir):
    bib = tmp_path / "colleague.txt"
    bib.write_text("@article{k1, title={Distilling language models into students}, abstract={Teacher and student.}}\n")
    result = run("rank", bib, "--index-dir", hash_index_dir, "--format-in", "bibtex", "--json")
    assert result.exit_code == 0, result.output
    assert [d["id"] for d in json.loads(result.stdout)] == ["k1"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.jsonl"], "Error: corpus file not found: "),
        (["."], "Error: corpus path is a directory: "),
        (["bad.jsonl"], "Error: no paper could be read from "),
        (["today.jsonl", "--theme", "t1", "--like", "autodistil"], "Error: give a theme or papers to be like, not both"),
        (["today.jsonl", "--like", "no-such-paper-here"], "Error: no paper with id or title 'no-such-paper-here'"),
        (["today.jsonl", "-k", "0"], "Error: Invalid value for '-k'"),
        (["today.jsonl", "--method", "magic"], "Error: Invalid value for '--method'"),
        (["today.jsonl", "--format-in", "word"], "Error: Invalid value for '--format-in'"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, hash_index_dir, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "today.jsonl", [p.to_dict() for p in NEW])
    (tmp_path / "bad.jsonl").write_text("not json\n{also not\n")
    result = run("rank", *args, "--index-dir", hash_index_dir)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_model_mismatch_is_an_error(hash_index_dir):
    class Other(HashingEmbedder):
        def identity(self) -> dict:
            return {"name": "other", "version": "9", "dim": self.dim}

    with pytest.raises(ModelMismatchError):
        rank_batch(Recommender.load(hash_index_dir, embedder=Other()), NEW)


def test_big_library_path_gives_the_same_scores_when_candidates_cover_the_library(rec, monkeypatch):
    plain = rank_batch(rec, NEW)
    monkeypatch.setattr(batch_mod, "LEXICAL_TARGETS_CAP", 10)
    monkeypatch.setattr(batch_mod, "LEXICAL_CANDIDATES", rec.index.count)
    capped = rank_batch(rec, NEW)
    assert [(r.id, round(r.score, 6)) for r in capped] == [(r.id, round(r.score, 6)) for r in plain]
    monkeypatch.setattr(batch_mod, "LEXICAL_CANDIDATES", 5)
    assert sorted(r.id for r in rank_batch(rec, NEW)) == sorted(p.id for p in NEW)


def test_k_to_frame_and_html(rec):
    pytest.importorskip("pandas")
    ranking = rank_batch(rec, NEW, k=3)
    assert [r.id for r in ranking] == [r.id for r in rank_batch(rec, NEW)][:3]
    assert len(rank_batch(rec, NEW, k=99)) == len(NEW)
    frame = ranking.to_frame()
    assert list(frame.columns) == ["rank", "id", "title", "score", "cosine", "nearest", "why", "in_library", "url"]
    assert frame["id"].tolist() == [r.id for r in ranking]
    assert "<table>" in ranking._repr_html_()


def test_progress_bar_for_big_batches(rec, capsys):
    many = [Paper(f"p{i}", f"Paper number {i} on distillation", f"Abstract {i} about students.") for i in range(70)]
    rank_batch(rec, many, progress=True, why=False)
    assert "Embedding the batch" in capsys.readouterr().err
    rank_batch(rec, many[:10], progress=True, why=False)
    assert "Embedding the batch" not in capsys.readouterr().err


def test_cli_method_choices_are_the_library_methods_and_the_public_name():
    import paperlike

    assert RANK_METHODS == STREAM_METHODS
    assert paperlike.rank_batch is rank_batch


def test_rank_does_not_change_the_index(hash_index_copy, batch_file):
    before = tree_snapshot(hash_index_copy)
    assert run("rank", batch_file, "--index-dir", hash_index_copy).exit_code == 0
    # Derived files only: the BM25 arrays, the rank cache of batch vectors (tests/test_rank_reuse.py)
    # and the log of papers shown, for --unseen (tests/test_triage.py).
    before = {f: v for f, v in before.items() if not f.startswith(".paperlike-rank-cache/")}
    after = tree_snapshot(hash_index_copy)
    assert {f: after.get(f) for f in before} == before
    assert all(
        f.startswith(("lexical-", ".paperlike-rank-cache/", "triage-seen.json", ".triage.lock")) for f in set(after) - set(before)
    )
    assert "triage-marks.json" not in after
    assert run("rank", batch_file, "--index-dir", hash_index_copy, "--no-remember").exit_code == 0
    assert tree_snapshot(hash_index_copy) == after


def test_rank_help_stays_light_and_the_command_module_imports_no_numeric_library():
    import ast
    import subprocess
    import sys

    from paperlike.cli import rank as module

    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] in ("numpy", "faiss", "sklearn", "scipy", "torch")}
    probe = "import sys; from paperlike.cli import cli\ntry: cli.main(['rank', '--help'])\nexcept SystemExit: pass\n"
    probe += "print(sorted(m for m in ('torch', 'faiss', 'sklearn', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] in ("[]", "['numpy']")
