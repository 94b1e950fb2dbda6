"""Neighbour-overlap re-ranking of paper queries (search/neighbours.py), checked against the
formula on random data and through the index on synthetic papers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import random_unit_vectors
from paperlike.search.neighbours import NEIGHBOUR_POOL, NEIGHBOUR_RERANK, PAPERS_PER_NEIGHBOUR, exact_neighbours, neighbour_bonus
from paperlike.search.scoring import zscore


def _brute_neighbours(vectors: np.ndarray, positions, k: int) -> list[set[int]]:
    out = []
    for p in positions:
        sims = vectors @ vectors[p]
        order = [i for i in np.argsort(-sims, kind="stable") if i != p]
        out.append(set(order[:k]))
    return out


def test_exact_neighbours_are_the_brute_force_ones_without_the_paper_itself():
    vectors = random_unit_vectors(300, 16, seed=2)
    positions = np.array([0, 5, 299, 17])
    got = exact_neighbours(vectors, positions, 12)
    assert got.shape == (4, 12)
    assert [set(row.tolist()) for row in got] == _brute_neighbours(vectors, positions, 12)
    assert exact_neighbours(vectors[:1], np.array([0]), 5).shape == (1, 0)  # one paper: nobody else


@pytest.mark.parametrize("kind", sorted(NEIGHBOUR_RERANK))
def test_the_pool_is_reordered_by_z_score_plus_weighted_z_count_and_stays_on_top(kind):
    k, weight = NEIGHBOUR_RERANK[kind]
    n = PAPERS_PER_NEIGHBOUR * k + 50
    vectors = random_unit_vectors(n, 24, seed=7)
    query = [3] if kind == "paper" else [3, 9]
    fused = vectors @ vectors[query].mean(axis=0) + np.random.default_rng(1).normal(0, 0.05, n)
    mask = np.ones(n, bool)
    mask[query] = False
    got = neighbour_bonus(fused, mask, None, kind, lambda pos, kk: exact_neighbours(vectors, pos, kk), n)

    order = sorted(np.flatnonzero(mask), key=lambda i: (-fused[i], i))
    pool, best = order[:NEIGHBOUR_POOL], set(order[:k])
    counts = np.array([len(s & best) for s in _brute_neighbours(vectors, pool, k)], dtype=float)
    z = zscore(fused[pool]) + weight * zscore(counts)
    want = [pool[i] for i in sorted(range(len(pool)), key=lambda i: (-z[i], pool[i]))]
    got_order = sorted(np.flatnonzero(mask), key=lambda i: (-got[i], i))
    assert got_order[: len(pool)] == want  # the pool, re-ranked, above every other paper
    assert got_order[len(pool) :] == order[len(pool) :] and np.all(got[order[len(pool) :]] == fused[order[len(pool) :]])
    assert np.all(got[pool] >= fused[pool])  # a bonus, never a penalty
    assert got_order[:10] != order[:10]  # it does change the answer


def test_text_queries_small_corpora_and_identical_papers_are_left_alone():
    vectors = random_unit_vectors(2000, 8, seed=1)
    fused = vectors @ vectors[0]
    mask = np.ones(2000, bool)
    near = lambda pos, kk: exact_neighbours(vectors, pos, kk)  # noqa: E731
    assert neighbour_bonus(fused, mask, None, "text", near, 2000) is fused
    k = NEIGHBOUR_RERANK["paper"][0]
    assert neighbour_bonus(fused, mask, None, "paper", near, PAPERS_PER_NEIGHBOUR * k - 1) is fused
    same = np.repeat(vectors[:1], 2000, axis=0)
    flat = same @ same[0]
    out = neighbour_bonus(flat, mask, None, "paper", lambda pos, kk: exact_neighbours(same, pos, kk), 2000)
    assert np.array_equal(out, flat)  # every score equal: nothing to re-rank, no crash
