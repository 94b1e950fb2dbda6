"""Hybrid ranking, BM25, windows for long texts, "like these, not those", MMR and explanations.

All on small data with the hashing embedder; each ranking is checked against a brute-force
answer computed here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import random_unit_vectors
from paperlike.embedding import HashingEmbedder
from paperlike.errors import QueryError
from paperlike.records.search_options import SearchOptions
from paperlike.search.lexical import build_lexical, load_or_build_lexical
from paperlike.search.scoring import fuse, mmr, rocchio, score_all, top_k, zscore
from paperlike.service import Recommender
from paperlike.service.ranking import rank_vector

# Benchmark-only variants (RRF, windows) live beside the benchmarks that measure them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _variants import rrf  # noqa: E402
from _windows import pool_windows, split_windows  # noqa: E402

DOCS = [
    "The lottery ticket hypothesis: sparse trainable subnetworks exist in dense networks.",
    "Grokking: generalization long after overfitting on small algorithmic datasets.",
    "Knowledge distillation compresses a large teacher model into a small student model.",
    "Lottery tickets for pruning: finding winning tickets early in training.",
    "Continual learning without forgetting using replay buffers.",
]


@pytest.fixture
def rec(hash_index_copy):
    return Recommender.load(hash_index_copy)


# -- BM25 --------------------------------------------------------------------------------------


def test_bm25_scores_match_bm25s_itself():
    import bm25s

    from paperlike.search.lexical import _tokenize

    lex = build_lexical(DOCS)
    retriever = bm25s.BM25()
    retriever.index(_tokenize(DOCS, lex.settings), show_progress=False)
    for query in ["lottery tickets in distillation", "forgetting replay", "grokking overfitting networks"]:
        tokens = _tokenize([query], lex.settings)
        words = {i: w for w, i in tokens.vocab.items()}
        expected = retriever.get_scores([words[i] for i in tokens.ids[0]])
        np.testing.assert_allclose(lex.scores(query), expected, rtol=1e-6)


@pytest.mark.parametrize("chunk", [1, 2, 3, 20_000])
def test_bm25_matrix_built_a_chunk_at_a_time_is_bm25s_own_bit_for_bit(chunk):
    import bm25s

    from paperlike.search.lexical import _tokenize

    texts = [*DOCS, "", "the of and", DOCS[0], "Lottery lottery LOTTERY tickets", "x1 !!"]
    lex = build_lexical(iter(texts), chunk=chunk)  # a generator, as the index gives them
    tokens = _tokenize(texts, lex.settings)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    theirs, word = retriever.scores, {i: w for w, i in tokens.vocab.items()}
    assert lex.count == len(texts) and len(lex.vocab) == len(theirs["indptr"]) - 1
    for column in range(len(theirs["indptr"]) - 1):
        ours = lex.vocab[word[column]]
        a, b = slice(*theirs["indptr"][column : column + 2]), slice(*lex.indptr[ours : ours + 2])
        np.testing.assert_array_equal(lex.indices[b], theirs["indices"][a])
        np.testing.assert_array_equal(lex.data[b], theirs["data"][a])
    own = {i: w for w, i in lex.vocab.items()}
    assert [[own[int(t)] for t in lex.paper_terms(i)] for i in range(len(texts))] == [
        [word[t] for t in ids] for ids in tokens.ids
    ]


def test_bm25_of_texts_without_a_single_term_matches_nothing():
    lex = build_lexical(["", "the of and", "a"], chunk=2)
    assert lex.count == 3 and lex.vocab == {} and not np.any(lex.scores("the lottery"))
    assert len(lex.paper_terms(2)) == 0


def test_bm25_drops_the_empty_token_older_bm25s_versions_give_empty_texts(monkeypatch):
    from types import SimpleNamespace

    from paperlike.search import lexical

    # bm25s 0.2 tokenised an empty text as "" (a vocabulary entry without a matrix column).
    given = SimpleNamespace(ids=[[0], [1, 0, 2], [2]], vocab={"": 0, "lotteri": 1, "ticket": 2})
    monkeypatch.setattr(lexical, "_tokenize", lambda texts, settings: given)
    lex = build_lexical(["", "lottery tickets", "tickets"])
    assert lex.vocab == {"lotteri": 0, "ticket": 1} and lex.count == 3
    assert [lex.paper_terms(i).tolist() for i in range(3)] == [[], [0, 1], [1]]
    assert lex.indices.tolist() == [1, 1, 2] and lex.indptr.tolist() == [0, 1, 3]


def test_bm25_of_no_texts_at_all():
    lex = build_lexical(iter([]))
    assert lex.count == 0 and lex.vocab == {} and len(lex.scores("anything")) == 0


def test_bm25_ranks_the_rare_term_first_and_ignores_unknown_words():
    lex = build_lexical(DOCS)
    scores = lex.scores("grokking zzzunknownzzz")
    assert int(np.argmax(scores)) == 1 and np.count_nonzero(scores) == 1
    assert not np.any(lex.scores("zzzunknownzzz the of"))


def test_an_indexed_papers_own_terms_score_it_highest():
    lex = build_lexical(DOCS)
    for i in range(len(DOCS)):
        assert int(np.argmax(lex.scores_for_terms(lex.paper_terms(i)))) == i


def test_lexical_index_is_saved_checked_and_rebuilt_when_damaged(tmp_path):
    from paperlike.records import Paper
    from paperlike.storage.writer import write_index

    calls = []

    def texts():
        calls.append(1)
        return DOCS

    # Derived files are saved into a live index only (storage.writer.write_derived).
    papers = [Paper(f"d{i}", text, "") for i, text in enumerate(DOCS)]
    vectors = random_unit_vectors(len(DOCS), 8, seed=1)
    gen = write_index(tmp_path, papers, vectors, {"name": "hashing", "version": "1", "dim": 8}, "t", "x")["generation"]
    first = load_or_build_lexical(tmp_path, gen, len(DOCS), texts)
    again = load_or_build_lexical(tmp_path, gen, len(DOCS), texts)
    assert len(calls) == 1
    np.testing.assert_array_equal(first.data, again.data)
    # Flip a byte: the checksum catches it and the index is rebuilt, never used damaged.
    data = tmp_path / f"lexical-{gen}" / "data.npy"
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 0xFF
    data.write_bytes(bytes(raw))
    fixed = load_or_build_lexical(tmp_path, gen, len(DOCS), texts)
    assert len(calls) == 2
    np.testing.assert_array_equal(fixed.data, first.data)
    meta = json.loads((tmp_path / f"lexical-{gen}" / "meta.json").read_text())
    assert set(meta["sha256"]) >= {"data.npy", "vocab.json"}
    # Valid JSON of the wrong shape is damage too: rebuilt, not a crash.
    (tmp_path / f"lexical-{gen}" / "meta.json").write_text("[]")
    assert load_or_build_lexical(tmp_path, gen, len(DOCS), texts).count == len(DOCS)


def test_an_index_write_removes_old_bm25_folders_but_never_the_users(hash_index_copy):
    from paperlike.readers import bundled_corpus
    from paperlike.service.build import build_index
    from paperlike.storage.manifest import read_manifest

    rec = Recommender.load(hash_index_copy)
    rec.similar("autodistil", k=3)  # builds lexical-<gen>
    old = hash_index_copy / f"lexical-{read_manifest(hash_index_copy)['generation']}"
    assert old.is_dir()
    (hash_index_copy / "lexical-notes").mkdir()
    killed_save = hash_index_copy / f".tmp-{old.name}.x1"  # left by a killed save of that generation
    killed_save.mkdir()
    build_index(bundled_corpus(), HashingEmbedder(), hash_index_copy)
    assert not old.exists() and not killed_save.exists()
    assert (hash_index_copy / "lexical-notes").is_dir()


def test_a_corpus_without_terms_answers_instead_of_crashing(tmp_path):
    from conftest import write_jsonl
    from paperlike.readers import read_corpus
    from paperlike.service.build import build_index

    src = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "title": "The A"}, {"id": "b", "title": "Is it?"}])
    build_index(read_corpus(src), HashingEmbedder(), tmp_path / "i")
    rec = Recommender.load(tmp_path / "i")
    assert [r.id for r in rec.similar("a", k=5)] == ["b"]
    assert rec.similar("a", k=5, mode="lexical") == []
    assert rec.similar("a", k=5, why=True)[0].why.terms == ()


# -- fusion ------------------------------------------------------------------------------------


def test_zscore_fusion_is_scale_free():
    from paperlike.search.scoring import DENSE_WEIGHT

    rng = np.random.default_rng(0)
    dense, lexical = rng.normal(size=50), rng.exponential(size=50)
    base = fuse(dense, lexical)
    # Rescaling either side (BM25 grows with query length) changes nothing.
    np.testing.assert_allclose(fuse(dense * 3 + 1, lexical * 100), base, atol=1e-9)
    w = DENSE_WEIGHT
    expected = w * (dense - dense.mean()) / dense.std() + (1 - w) * (lexical - lexical.mean()) / lexical.std()
    np.testing.assert_allclose(base, expected, atol=1e-12)


def test_fusion_statistics_ignore_masked_papers():
    dense = np.array([0.9, 0.5, 0.1, 0.3])
    lexical = np.array([100.0, 1.0, 0.0, 2.0])
    mask = np.array([False, True, True, True])
    expected = 0.3 * zscore(dense[1:]) + 0.7 * zscore(lexical[1:])
    np.testing.assert_allclose(fuse(dense, lexical, mask=mask, dense_weight=0.3)[1:], expected)


def test_a_side_with_no_signal_leaves_the_other_in_charge():
    dense = np.array([0.2, 0.9, 0.5])
    fused = fuse(dense, np.zeros(3))
    assert list(np.argsort(-fused)) == list(np.argsort(-dense))


def test_rrf_matches_the_formula():
    a, b = np.array([3.0, 2.0, 1.0]), np.array([1.0, 3.0, 2.0])
    np.testing.assert_allclose(rrf(a, b), [1 / 61 + 1 / 63, 1 / 62 + 1 / 61, 1 / 63 + 1 / 62])


def test_top_k_matches_a_brute_force_sort_with_ties_by_position():
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=300), 1)  # many ties
    for k in (1, 5, 50, 300, 400):
        expected = sorted(range(300), key=lambda i: (-scores[i], i))[:k]
        assert top_k(scores, k) == expected
    assert top_k(scores, 10, exclude=[expected[0]])[0] == expected[1]


def test_score_all_modes_and_errors():
    dense, lexical = np.array([0.1, 0.2]), np.array([3.0, 0.0])
    assert list(score_all("dense", dense, None)) == [0.1, 0.2]
    assert list(score_all("lexical", dense, lexical)) == [3.0, 0.0]
    with pytest.raises(ValueError):
        score_all("fancy", dense, lexical)
    with pytest.raises(ValueError):
        score_all("hybrid", dense, None)


def brute_tfidf(lex) -> np.ndarray:
    """Unit TF-IDF rows of every paper, the slow way: Python counts of each paper's stems and
    pairs of consecutive stems, pairs in at least 2 papers, (1 + ln tf) * smooth idf."""
    from collections import Counter

    bags = []
    for p in range(lex.count):
        t = lex.paper_terms(p).tolist()
        bags.append(Counter([(a,) for a in t] + list(zip(t, t[1:]))))
    df = Counter(f for bag in bags for f in bag)
    features = sorted(f for f, d in df.items() if d >= 2 or len(f) == 1)  # every stem; pairs of 2+ papers
    column = {f: j for j, f in enumerate(features)}
    x = np.zeros((lex.count, len(features)))
    for p, bag in enumerate(bags):
        for f, tf in bag.items():
            if f in column:
                x[p, column[f]] = (1 + np.log(tf)) * (np.log((1 + lex.count) / (1 + df[f])) + 1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def test_hybrid_ranking_matches_brute_force_on_the_index(rec):
    results = rec.similar("autodistil", k=8)
    pos = rec.find("autodistil")
    vectors = rec.index.all_vectors()
    dense = vectors @ vectors[pos]
    x = brute_tfidf(rec.lexical())
    tfidf = x @ x[pos]
    mask = np.ones(len(dense), bool)
    mask[pos] = False
    from paperlike.search.scoring import HYBRID_DENSE_WEIGHT

    w = HYBRID_DENSE_WEIGHT["paper"]
    fused = w * zscore(dense, mask) + (1 - w) * zscore(tfidf, mask)
    expected = sorted((i for i in range(len(dense)) if i != pos), key=lambda i: (-fused[i], i))[:8]
    assert [r.id for r in results] == [rec.index.ids[i] for i in expected]
    assert [r.cosine for r in results] == pytest.approx([float(dense[i]) for i in expected], abs=1e-6)


def test_tfidf_side_matches_brute_force_for_papers_and_text(rec):
    lex = rec.lexical()
    x = brute_tfidf(lex)
    for positions in ([0], [3], [1, 7, 20]):
        query = sum(x[p] for p in positions)
        query = query / np.linalg.norm(query)
        np.testing.assert_allclose(lex.tfidf_paper_scores(positions), x @ query, atol=1e-6)
    # A free text: its stems and pairs, weighted as a paper's would be.
    text = rec.index.papers_at([5])[0].text
    np.testing.assert_allclose(lex.tfidf_text_scores(text), x @ x[5], atol=1e-6)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_answers_and_never_returns_the_query(rec, mode):
    results = rec.similar("autodistil", k=5, mode=mode)
    assert results and "autodistil" not in [r.id for r in results]
    assert all(a.score >= b.score for a, b in zip(results, results[1:]))


def test_unknown_mode_is_a_query_error(rec):
    with pytest.raises(QueryError, match="unknown ranking mode"):
        rec.similar("autodistil", mode="magic")


# -- windows -----------------------------------------------------------------------------------


class _Words:
    """Tokens are words; a tiny limit so windows show up on short texts."""

    max_seq_length = 12  # 10 tokens per window


def test_a_text_that_fits_is_one_window_and_unchanged():
    assert split_windows("a b c", _Words) == ["a b c"]
    assert split_windows("x " * 10, _Words) == ["x " * 10]


def test_windows_cover_the_whole_text_with_half_overlap():
    words = [f"w{i}" for i in range(27)]
    windows = split_windows(" ".join(words), _Words)
    assert all(len(w.split()) == 10 for w in windows)
    assert windows[0].split()[0] == "w0" and windows[-1].split()[-1] == "w26"
    covered = {t for w in windows for t in w.split()}
    assert covered == set(words)
    starts = [words.index(w.split()[0]) for w in windows]
    assert starts == [0, 5, 10, 15, 17]


def test_windows_follow_the_models_tokens_when_it_has_a_tokenizer():
    class Chars:
        max_seq_length = 10  # 8 tokens

        @staticmethod
        def token_spans(text):
            return [(i, i + 1) for i, c in enumerate(text) if c != " "]

    assert split_windows("abcdefgh", Chars) == ["abcdefgh"]
    assert split_windows("abcdefghijklmnopqrst", Chars) == ["abcdefgh", "efghijkl", "ijklmnop", "mnopqrst"]


def test_pooled_windows_are_the_normalised_mean():
    v = random_unit_vectors(5, 8)
    pooled = pool_windows(v, [2, 1, 2])
    expected = np.stack([v[0] + v[1], v[2], v[3] + v[4]])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(pooled, expected, atol=1e-6)
    with pytest.raises(ValueError):
        pool_windows(v, [2, 2])


# -- like these, not those ---------------------------------------------------------------------


def test_rocchio_moves_towards_positives_and_away_from_negatives():
    v = random_unit_vectors(3, 16, seed=3)
    q = rocchio(v[:2], v[2:])
    expected = v[:2].mean(0) - 0.5 * v[2]
    np.testing.assert_allclose(q, expected / np.linalg.norm(expected), atol=1e-6)
    assert abs(np.linalg.norm(rocchio(v[:1])) - 1) < 1e-6


def test_like_these_not_those(rec):
    liked = ["autodistil", "llm-pruner"]
    results = rec.like(liked, k=10, unlike=["tame"], mode="dense")
    ids = [r.id for r in results]
    assert not set(ids) & {"autodistil", "llm-pruner", "tame"}
    vectors = rec.index.all_vectors()
    pos = [rec.find(p) for p in liked]
    q = rocchio(vectors[pos], vectors[[rec.find("tame")]])
    scores = vectors @ q
    expected = sorted((i for i in range(len(scores)) if i not in pos + [rec.find("tame")]), key=lambda i: (-scores[i], i))
    assert ids == [rec.index.ids[i] for i in expected[:10]]
    # The negative pushes its near neighbours down compared with asking without it.
    without = [r.id for r in rec.like(liked, k=10, mode="dense")]
    assert ids != without


def test_like_rejects_a_paper_both_wanted_and_not(rec):
    with pytest.raises(QueryError, match="both wanted and not"):
        rec.like(["autodistil", "llm-pruner"], unlike=["AutoDistil"])
    with pytest.raises(QueryError, match="at least one paper"):
        rec.like([])


# -- diversity ---------------------------------------------------------------------------------


def test_mmr_skips_a_near_duplicate():
    v = np.array([[1.0, 0.0], [0.999, 0.0447], [0.6, 0.8], [0.999, -0.0447]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    rel = np.array([1.0, 0.95, 0.7, 0.0])
    # Relevance order 0, 1, 2, 3 but 1 is nearly 0: MMR takes 2 second.
    assert mmr([0, 1, 2, 3], rel, v, 2, lam=0.5) == [0, 2]
    assert mmr([0, 1, 2, 3], rel, v, 3, lam=1.0) == [0, 1, 2]


def test_diverse_results_are_less_alike_than_plain_ones(rec):
    plain = rec.similar("autodistil", k=5)
    diverse = rec.similar("autodistil", k=5, diverse=True)
    vectors = rec.index.all_vectors()

    def mean_pairwise(results):
        v = vectors[[rec.find(r.id) for r in results]]
        sims = v @ v.T
        return (sims.sum() - np.trace(sims)) / (len(v) * (len(v) - 1))

    assert plain[0].id == diverse[0].id
    assert mean_pairwise(diverse) <= mean_pairwise(plain)


def test_diverse_drops_near_copies_that_plain_ranking_keeps(tmp_path):
    from conftest import write_jsonl
    from paperlike.readers import read_corpus
    from paperlike.service.build import build_index

    base = "knowledge distillation of a large teacher model into a small student model for language tasks"
    records = [{"id": "query", "title": "Distillation", "abstract": base}]
    records += [{"id": f"copy{i}", "title": "Distillation", "abstract": base + f" v{i}"} for i in range(4)]
    records += [
        {"id": "other", "title": "Student models", "abstract": "small student model trained by a teacher on vision tasks"}
    ]
    records += [
        {"id": f"far{i}", "title": f"Far {i}", "abstract": f"unrelated words about topic {i} gardening"} for i in range(6)
    ]
    build_index(read_corpus(write_jsonl(tmp_path / "p.jsonl", records)), HashingEmbedder(), tmp_path / "i")
    rec = Recommender.load(tmp_path / "i")
    plain = [r.id for r in rec.similar("query", k=3, mode="dense")]
    diverse = [r.id for r in rec.similar("query", k=3, mode="dense", diverse=True)]
    assert set(plain) <= {"copy0", "copy1", "copy2", "copy3"}
    assert diverse[0] == plain[0] and "other" in diverse


def test_hnsw_candidates_cover_a_theme_and_match_exact_on_a_larger_index(tmp_path):
    from paperlike.records import Paper
    from paperlike.storage.writer import write_index

    n, dim = 3000, 32
    vectors = random_unit_vectors(n, dim, seed=5)
    papers = [Paper(f"p{i}", f"Paper {i}", f"word{i % 97} topic{i % 13}") for i in range(n)]
    model = {"name": "hashing", "version": "1", "dim": dim}
    write_index(tmp_path / "exact", papers, vectors, model, "t", "x", search="exact")
    write_index(tmp_path / "hnsw", papers, vectors, model, "t", "x", search="hnsw")
    exact, approx = Recommender.load(tmp_path / "exact"), Recommender.load(tmp_path / "hnsw")
    got = [r.id for r in approx.similar("p0", k=10, mode="dense")]
    want = [r.id for r in exact.similar("p0", k=10, mode="dense")]
    assert len(set(got) & set(want)) >= 9  # recall@10 of the approximate index
    # Restricted to papers far from the query (as a theme can be): all of them are still scored.
    far = frozenset(int(i) for i in np.argsort(vectors @ vectors[0])[:20])
    for rec in (exact, approx):
        for mode in ("dense", "hybrid"):
            opts = SearchOptions(10, mode=mode, within=far)
            results = rank_vector(rec.opened, vectors[0], lambda: rec.lexical().paper_terms(0), opts, frozenset({0}))
            assert len(results) == 10 and {rec.find(r.id) for r in results} <= far


# -- why ---------------------------------------------------------------------------------------


def test_why_names_shared_terms_and_a_sentence_of_each(rec):
    results = rec.similar("autodistil", k=5, why=True)
    query_text = rec.paper("autodistil").text.lower()
    lex = rec.lexical()
    for r in results:
        assert r.why is not None
        result_text = rec.paper(r.id).text
        result_terms = set(lex.paper_terms(rec.find(r.id)).tolist())
        for term in r.why.terms:
            # Shown as the query's word; matched after stemming ("sharing" ~ "shared").
            assert term in query_text and lex.word_terms([term])[0] in result_terms
        if r.why.result_sentence:
            assert r.why.result_sentence in result_text
            assert r.why.query_sentence in rec.paper("autodistil").text
    assert any(r.why.terms for r in results)
    assert results[0].to_dict()["why"]["terms"] == list(results[0].why.terms)


def test_why_for_free_text_prefers_rare_terms():
    from paperlike.search.explain import explain

    lex = build_lexical(DOCS)
    (why,) = explain(lex, "Pruning with lottery tickets. The model is small.", [(3, DOCS[3])])
    assert why.terms[0] in ("lottery", "tickets", "pruning")
    assert why.query_sentence == "Pruning with lottery tickets."
    assert why.result_sentence == DOCS[3]


def test_without_why_no_explanation_is_computed(rec):
    assert all(r.why is None for r in rec.similar("autodistil", k=3))


# -- approximate search --------------------------------------------------------------------------


def test_an_hnsw_index_answers_like_the_exact_one(tmp_path, hash_index_dir):
    from paperlike.readers import bundled_corpus
    from paperlike.service.build import build_index
    from paperlike.storage import load_index
    from paperlike.storage.writer import choose_search

    build_index(bundled_corpus(), HashingEmbedder(), tmp_path / "hnsw", search="hnsw")
    approx = Recommender.load(tmp_path / "hnsw")
    assert not approx.index.exact and approx.index.manifest["faiss_index"] == "IndexHNSWFlat"
    exact = Recommender.load(hash_index_dir)
    for mode in ("hybrid", "dense", "lexical"):
        got = [(r.id, round(r.score, 5)) for r in approx.similar("autodistil", k=10, mode=mode)]
        want = [(r.id, round(r.score, 5)) for r in exact.similar("autodistil", k=10, mode=mode)]
        assert got == want, mode  # 75 papers: every paper is a candidate, so the same answer
    np.testing.assert_allclose(load_index(tmp_path / "hnsw").all_vectors(), exact.index.all_vectors())
    assert choose_search(199_999) == "exact" and choose_search(200_000) == "hnsw" and choose_search(5, "hnsw") == "hnsw"


def test_an_add_keeps_an_hnsw_index_approximate(tmp_path):
    from conftest import write_jsonl
    from paperlike.readers import bundled_corpus, read_corpus
    from paperlike.service.build import build_index
    from paperlike.service.edits import add_papers
    from paperlike.storage import load_index

    build_index(bundled_corpus(), HashingEmbedder(), tmp_path / "i", search="hnsw")
    src = write_jsonl(tmp_path / "new.jsonl", [{"id": "grok", "title": "Grokking explained", "abstract": "Late generalization."}])
    add_papers(tmp_path / "i", [read_corpus(src)], embedder=HashingEmbedder())
    index = load_index(tmp_path / "i")
    assert index.count == 76 and not index.exact


@pytest.mark.parametrize("chunk", [1, 3, 17])
def test_tfidf_built_a_chunk_at_a_time_is_the_one_pass_index_bit_for_bit(chunk):
    from paperlike.search.tfidf import build_tfidf

    rng = np.random.default_rng(4)
    lengths = rng.integers(0, 30, size=60)  # some papers without a single term
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    terms = rng.zipf(1.6, size=int(offsets[-1])).clip(1, 40).astype(np.int32) - 1  # shared words and pairs
    whole = build_tfidf(terms, offsets, 40, chunk=10_000)
    parts = build_tfidf(terms, offsets, 40, chunk=chunk)
    for name in ("data", "indices", "indptr", "keys", "idf"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name)), name
    assert len(whole.keys) > 40  # word pairs made it in
