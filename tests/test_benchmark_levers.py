"""The ranking harness's own levers on small data: what its rows compute is what they say."""

import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import joint_choice  # noqa: E402
import ranking  # noqa: E402


def _unit(rng, n, d=8):
    v = rng.normal(size=(n, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_hub_scores_are_the_mean_cosine_to_the_k_nearest_others():
    V = _unit(np.random.default_rng(0), 40)
    got = ranking.hub_scores(V, 5, rows_at_once=7)
    sims = V @ V.T
    np.fill_diagonal(sims, -np.inf)
    want = np.sort(sims, axis=1)[:, -5:].mean(axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_neighbour_mean_averages_the_neighbours_scores_and_counts_the_query_as_average():
    V = _unit(np.random.default_rng(1), 30)
    k = 4
    ctx = types.SimpleNamespace(neighbours={k: ranking.neighbour_lists(V, k)})
    fused = np.random.default_rng(2).normal(size=30)
    mask = np.ones(30, bool)
    mask[3] = False  # the query paper
    fused[3] = 99.0  # its own score must not count
    pool = np.array([0, 5, 7])
    got = ranking.neighbour_mean(ctx, fused, mask, pool, k)
    sims = V @ V.T
    np.fill_diagonal(sims, -np.inf)
    for row, p in enumerate(pool):
        near = np.argsort(-sims[p])[:k]
        want = np.where(near == 3, 0.0, fused[near]).mean()
        assert abs(got[row] - want) < 1e-9


def test_acm_papers_queries_hide_the_citing_paper_and_keep_its_half():
    papers = [types.SimpleNamespace(id=f"d{i}") for i in range(12)]
    corpus = types.SimpleNamespace(papers=papers)
    extra = [{"doi": "d0", "cited_with_abstract": [f"d{i}" for i in range(1, 8)]}, {"doi": "d8", "cited_with_abstract": ["d9"]}]
    tasks = ranking.tasks_for("acm15k", corpus, extra)
    kinds = [(t.qid, t.kind) for t in tasks]
    assert kinds == [("d0", "paper"), ("papers:d0", "papers"), ("d8", "paper")]  # too few cited for a second
    several = tasks[1]
    assert several.hidden == (0,) and len(several.rows) == 3 and several.dev == tasks[0].dev
    assert sorted(several.rows + several.relevant.tolist()) == list(range(1, 8))


def _raw(per_row):
    """A ranking.py --raw file for one kind: row -> (dev values, test values), one metric."""
    return {"paper": {r: {"dev": [[x] for x in dev], "test": [[x] for x in test]} for r, (dev, test) in per_row.items()}}


def test_joint_choice_takes_the_best_mean_ratio_to_cosine_among_rows_the_product_can_compute(tmp_path):
    common = {"cosine": ([0.5, 0.5], [0.5, 0.5]), "bm25": ([0.4], [0.4]), "tfidf": ([0.4], [0.4]), "tfidf-tok": ([0.4], [0.4])}
    a = {
        **common,
        "product": ([0.6], [0.6]),
        "z cos+tfidf-tok w=0.7": ([0.6], [0.6]),
        "z cos+tfidf-tok w=0.6 +diffuse k=20 l=1.0": ([0.8], [0.7]),  # +60% here, -20% below: mean +20%
        "z cos+tfidf-tok w=0.5": ([0.7], [0.6]),  # +40% here, +10% below: mean +25%, the choice
        "z cos+tfidf-tok+bm25 wc=0.5 wb=0.1 wt=0.4": ([1.0], [1.0]),  # three-way: not a product row
        "z cos+tfidf-tok w=0.7 +prf m=5 b=0.5": ([1.0], [1.0]),  # feedback: not a product row
    }
    b = {**a, "z cos+tfidf-tok w=0.6 +diffuse k=20 l=1.0": ([0.4], [0.4]), "z cos+tfidf-tok w=0.5": ([0.55], [0.5])}
    (tmp_path / "a.json").write_text(json.dumps(_raw(a)))
    (tmp_path / "b.json").write_text(json.dumps(_raw(b)))
    out = subprocess.run(
        [sys.executable, str(BENCH / "joint_choice.py"), f"pwc={tmp_path / 'a.json'}", f"pwc-b={tmp_path / 'b.json'}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "chosen on dev: z cos+tfidf-tok w=0.5 (mean dev ratio to cosine 1.2500)" in out
    assert joint_choice.candidate("topical mode") and not joint_choice.candidate("cosine [all-mpnet-base-v2]")


def test_joint_choice_refuses_an_argument_without_a_set_name_or_a_set_twice():
    for args, says in ((["pwc.json"], "is not SET=PATH"), (["pwc=a.json", "pwc=b.json"], "is given twice")):
        run = subprocess.run([sys.executable, str(BENCH / "joint_choice.py"), *args], capture_output=True, text=True)
        assert run.returncode == 1 and says in run.stderr


def test_two_vector_stores_of_one_process_never_overwrite_each_others_shards(tmp_path):
    from _vector_store import VectorStore
    from paperlike.embedding import HashingEmbedder

    embedder = HashingEmbedder()
    first, second = VectorStore(tmp_path, embedder), VectorStore(tmp_path, embedder)
    first.fill(["graph neural networks"], desc="first")
    second.fill(["protein folding"], desc="second")  # the same second, the same pid, its own first shard
    third = VectorStore(tmp_path, embedder)
    assert third.missing(["graph neural networks", "protein folding"]) == []
    np.testing.assert_allclose(third.get(["protein folding"]), embedder.embed_batch(["protein folding"]), rtol=1e-6)
