"""Fast id lookups: the ranking shortlist of big exact indexes, and the caches behind BM25 scores,
explanations and LaTeX decoding, each checked against the exact (or former) computation.

The shortlist is only built above 50,000 papers in use; here it is forced onto a corpus of
2,000 synthetic papers with small shortlist sizes, so that it really leaves papers out.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from conftest import random_unit_vectors, write_jsonl
from paperlike.embedding import HashingEmbedder
from paperlike.readers import read_corpus
from paperlike.records import Theme, ThemePaper, Why
from paperlike.search import lexical as lexical_module
from paperlike.search import ranker
from paperlike.search.explain import Explainer, explain, split_sentences
from paperlike.search.lexical import WORD
from paperlike.search.scoring import pool_stats, stats_without
from paperlike.search.shortlist import DenseShortlist
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.stopwords import is_stop_word
from paperlike.text import _Decoded, plain_text

TOPICS = [
    "graph neural networks message passing node classification",
    "query optimization join ordering cardinality estimation database",
    "user study interface touch gesture interaction design",
    "recommender systems collaborative filtering implicit feedback",
    "information retrieval ranking relevance feedback query expansion",
    "privacy differential noise federated learning clients",
    "crowdsourcing workers labels quality aggregation",
    "spatial index trajectories nearest neighbour road networks",
]
FILLER = "we propose method results show novel approach evaluate data model system performance paper".split()


def _synthetic(n: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        main, other = rng.sample(TOPICS, 2)
        words = main.split() * 3 + rng.sample(other.split(), 3) + rng.sample(FILLER, 6) + [f"term{rng.randrange(400)}"]
        rng.shuffle(words)
        cut = rng.randrange(5, 12)
        title = " ".join(words[:5]).capitalize()
        abstract = " ".join(words[:cut]).capitalize() + ". " + " ".join(words[cut:]).capitalize() + "."
        records.append({"id": f"p{i}", "title": title, "abstract": abstract})
    return records


def synthetic_index(directory, embedder, n: int = 2000):
    """An index of ``n`` synthetic papers (see :func:`_synthetic`) in ``directory / "index"``."""
    corpus = read_corpus(write_jsonl(directory / "papers.jsonl", _synthetic(n)))
    build_index(corpus, embedder, directory / "index")
    return directory / "index"


@pytest.fixture(scope="module")
def big_dir(tmp_path_factory):
    return synthetic_index(tmp_path_factory.mktemp("shortlist"), HashingEmbedder())


@pytest.fixture
def small_lists(monkeypatch):
    """A shortlist that leaves most of the 2,000 papers out."""
    monkeypatch.setattr(ranker, "SHORTLIST_DENSE", 60)
    monkeypatch.setattr(ranker, "SHORTLIST_LEXICAL", 40)


def _pair(big_dir):
    exact, fast = Recommender.load(big_dir), Recommender.load(big_dir)
    assert fast.use_shortlist(min_papers=0) and fast._shortlist is not None
    return exact, fast


def test_cosine_statistics_are_those_of_all_other_papers():
    vectors = random_unit_vectors(3000, 24, seed=1)
    shortlist = DenseShortlist.build(vectors)
    assert shortlist is not None
    q = vectors[7]
    cosines = vectors.astype(np.float64) @ q.astype(np.float64)
    left_out = np.array([7, 19, 2999])
    mean, std = shortlist.cosine_stats(q, cosines[left_out])
    kept = np.delete(cosines, left_out)
    assert mean == pytest.approx(kept.mean(), abs=1e-14)
    assert std == pytest.approx(kept.std(), rel=1e-12)
    # The exact ranking's own statistics come from float32 cosines: the same to rounding.
    rounded = np.delete((vectors @ q).astype(np.float64), left_out)
    assert (mean, std) == pytest.approx((rounded.mean(), rounded.std()), rel=1e-6)
    assert shortlist.cosine_stats(q, cosines) is None  # nothing left


def test_statistics_without_some_papers_are_the_pools():
    scores = np.random.default_rng(4).exponential(30, size=5000).astype(np.float32)
    mask = np.ones(5000, dtype=bool)
    mask[[3, 4, 4999]] = False
    assert stats_without(scores, np.flatnonzero(~mask)) == pytest.approx(pool_stats(scores, mask), rel=1e-12)
    assert stats_without(scores[:2], np.array([0, 1])) is None


def test_the_nearest_by_codes_hold_the_true_nearest():
    vectors = random_unit_vectors(3000, 24, seed=2)
    shortlist = DenseShortlist.build(vectors)
    found = set(shortlist.nearest(vectors[0], 100).tolist())
    assert set(np.argsort(-(vectors @ vectors[0]))[:10].tolist()) <= found
    again = DenseShortlist.build(vectors)  # deterministic: the same vectors, the same codes
    assert all(np.array_equal(again.nearest(v, 50), shortlist.nearest(v, 50)) for v in vectors[:20])
    assert DenseShortlist.build(vectors[:100]) is None  # too few vectors to train the codes


def test_a_shortlist_is_only_built_for_big_exact_indexes(big_dir):
    rec = Recommender.load(big_dir)
    assert rec.use_shortlist() is False and rec._shortlist is None  # 2,000 < 50,000 papers
    assert rec.use_shortlist(min_papers=2001) is False


@pytest.mark.parametrize(
    "options",
    [{}, {"mode": "dense"}, {"mode": "lexical"}, {"diverse": True}, {"k": 25}],
    ids=["hybrid", "dense", "lexical", "diverse", "k25"],
)
def test_shortlist_answers_score_each_paper_as_the_exact_ranking(big_dir, small_lists, options):
    exact, fast = _pair(big_dir)
    options = {"k": 10, "why": True, **options}
    mode = options.get("mode", "hybrid")
    overlap = []
    for paper_id in [f"p{i}" for i in range(0, 2000, 283)]:
        want = {r.id: r for r in exact.similar(paper_id, **options)}
        got = fast.similar(paper_id, **options)
        assert len(got) == options["k"] and paper_id not in [r.id for r in got]
        assert all(a.score >= b.score for a, b in zip(got, got[1:])) or options.get("diverse")
        overlap.append(len(want.keys() & {r.id for r in got}) / options["k"])
        every = {r.id: r for r in exact.similar(paper_id, k=2000, mode=mode)}
        for r in got:
            # Whatever the shortlist returns carries the exact ranking's score, cosine and why.
            assert r.cosine == pytest.approx(every[r.id].cosine, abs=1e-6)
            if mode == "lexical":
                assert r.score == every[r.id].score  # BM25's own scores, bit for bit
            else:
                assert r.score == pytest.approx(every[r.id].score, abs=1e-6)
            if r.id in want:
                assert r.why == want[r.id].why
    assert np.mean(overlap) >= 0.9
    if mode == "lexical":
        assert overlap == [1.0] * len(overlap)  # lexical mode needs no cosine to rank: exact


def test_with_generous_lists_the_answers_are_the_exact_ones(big_dir):
    exact, fast = _pair(big_dir)  # 700 + 300 of 2,000 papers
    for paper_id in [f"p{i}" for i in range(0, 2000, 251)]:
        want, got = exact.similar(paper_id, k=10, why=True), fast.similar(paper_id, k=10, why=True)
        assert [r.id for r in got] == [r.id for r in want] and [r.why for r in got] == [r.why for r in want]
        assert [r.score for r in got] == pytest.approx([r.score for r in want], abs=1e-6)
    text = "graph neural networks for query optimization"
    assert [r.id for r in fast.similar_to_text(text, k=10)] == [r.id for r in exact.similar_to_text(text, k=10)]
    like = fast.like(["p1", "p2"], k=10, unlike=["p3"])
    assert [r.id for r in like] == [r.id for r in exact.like(["p1", "p2"], k=10, unlike=["p3"])]


def test_themes_and_long_lists_are_ranked_over_every_paper(big_dir, small_lists):
    exact, fast = _pair(big_dir)
    members = [ThemePaper(f"p{i}", "", 1.0, True) for i in range(0, 2000, 7)]
    theme = Theme("t1", "a theme", None, members, [], np.zeros(exact.index.dim, np.float32))
    for options in ({"theme": theme}, {"k": ranker.SHORTLIST_MAX_K + 1}):
        want = [(r.id, r.score) for r in exact.similar("p5", **options)]
        assert [(r.id, r.score) for r in fast.similar("p5", **options)] == want


# -- BM25 and explanations -------------------------------------------------------------------


def test_bm25_scores_add_each_occurrence_in_query_order(big_dir):
    lex = Recommender.load(big_dir).lexical()
    terms = np.concatenate([lex.paper_terms(3), lex.paper_terms(3)[:5], lex.paper_terms(8)])
    expected = np.zeros(lex.count, dtype=np.float32)
    for term in terms:  # the former loop, one column per occurrence
        lo, hi = lex.indptr[term], lex.indptr[term + 1]
        expected[lex.indices[lo:hi]] += lex.data[lo:hi]
    assert np.array_equal(lex.scores_for_terms(terms), expected)
    merged = lex.scores_for_terms(terms, merge_repeats=True)
    np.testing.assert_allclose(merged, expected, rtol=1e-6)
    assert not lex.scores_for_terms(np.zeros(0, dtype=np.int64)).any()


def test_word_terms_are_kept_and_equal_a_fresh_tokenisation(big_dir, monkeypatch):
    lex = Recommender.load(big_dir).lexical()
    words = ["graph", "Graphs", "the", "networks", "graph", "zzzunknown", "İstanbul".lower(), "query"]
    fresh = []
    for w in words:  # one word at a time, as tokenised for the index
        tokens = lexical_module._tokenize([w], lex.settings)
        inverse = {i: t for t, i in tokens.vocab.items()}
        ids = tokens.ids[0]
        fresh.append(lex.vocab.get(inverse[ids[0]]) if len(ids) == 1 else None)
    assert lex.word_terms(words) == fresh
    assert lex.word_terms(words) == fresh  # from the cache now
    monkeypatch.setattr(lexical_module, "WORD_CACHE_SIZE", 3)  # full: cleared, still right
    assert lex.word_terms(words[::-1]) == fresh[::-1] and len(lex._word_cache) <= len(words)


def _former_why(lex, query_text: str, position: int, result_text: str, n_terms: int = 5) -> Why:
    """The explanation computed word by word, the slow way (the reference for the vectorised one)."""

    def terms_with_words(text):
        words = list(dict.fromkeys(w.lower() for w in WORD.findall(text)))
        return [(t, w) for w, t in zip(words, lex.word_terms(words)) if t is not None]

    def idf(term):
        df = int(lex.indptr[term + 1] - lex.indptr[term])
        return math.log(1 + (lex.count - df + 0.5) / (df + 0.5))

    def weight(term):
        lo, hi = lex.indptr[term], lex.indptr[term + 1]
        col = lex.indices[lo:hi]
        hit = np.searchsorted(col, position)
        return float(lex.data[lo + hit]) if hit < len(col) and col[hit] == position else 0.0

    query_sentences = split_sentences(query_text) or [query_text]
    qterms = [terms_with_words(s) for s in query_sentences]
    surface: dict[int, str] = {}
    for pairs in qterms:
        for term, word in pairs:
            surface.setdefault(term, word)
    # Key terms: no word of no topic, and BM25 weight x (1 + ln uses of the term in the query).
    uses: dict[int, int] = {}
    for sentence in query_sentences:
        for word in (w.lower() for w in WORD.findall(sentence)):
            term = lex.word_terms([word])[0]
            if term is not None:
                uses[term] = uses.get(term, 0) + 1
    doc_terms = set(int(t) for t in lex.paper_terms(position))
    shared = sorted(
        ((weight(t) * (1 + math.log(uses[t])), w, t) for t, w in surface.items() if t in doc_terms and not is_stop_word(w)),
        key=lambda x: (-x[0], x[1]),
    )
    best = (0.0, 0, 0)
    result_sentences = split_sentences(result_text) or [result_text]
    for j, sentence in enumerate(result_sentences):
        rterms = {t for t, _ in terms_with_words(sentence)}
        for i, pairs in enumerate(qterms):
            score = sum(idf(t) for t, _ in pairs if t in rterms)
            if score > best[0]:
                best = (score, i, j)
    terms = tuple(w for _, w, _ in shared[:n_terms])
    return Why(terms, query_sentences[best[1]], result_sentences[best[2]]) if best[0] else Why(terms, "", "")


def test_explanations_are_the_former_ones(hash_index_dir):
    rec = Recommender.load(hash_index_dir)
    lex, index = rec.lexical(), rec.index
    texts = [p.text for p in index.papers()]
    for q in range(0, index.count, 7):
        hits = [(p, texts[p]) for p in range(index.count) if p != q][q % 5 :: 9]
        got = explain(lex, texts[q], hits)
        assert got == [_former_why(lex, texts[q], p, t) for p, t in hits]
        assert got[:3] == [Explainer(lex, texts[q]).why(p, t) for p, t in hits[:3]]
    hostile = "Ünïcödé İstanbul ŞEHİR. $x^2$ {\\em brace}! 42 -- the"
    assert explain(lex, hostile, [(0, texts[0])]) == [_former_why(lex, hostile, 0, texts[0])]
    assert explain(lex, texts[0], []) == []


# -- decoded LaTeX ---------------------------------------------------------------------------


def test_decoded_latex_is_kept_within_its_budget():
    kept = _Decoded(budget=1800)
    for i in range(150):
        kept.put(f"source {i:03d}", f"text {i:02d}")  # 18 characters each
    assert kept.get("source 000") is None and kept.get("source 149") == "text 149"
    assert kept._chars <= 1800
    kept.put("x" * 20, "y" * 20)  # over a hundredth of the budget: not kept
    assert kept.get("x" * 20) is None
    latex = "Szemer\\'{e}di's lemma costs 10\\% of {\\em this} $x$"
    assert plain_text(latex) == plain_text(latex) == "Szemerédi's lemma costs 10% of this $x$"


def test_decode_texts_decodes_the_papers_with_markup(tmp_path):
    records = [
        {"id": "a", "title": "Plain", "abstract": "nothing to decode"},
        {"id": "b", "title": "Caf\\'{e} {T}heory", "abstract": "fine"},
        {"id": "c", "title": "Plain too", "abstract": "costs $5 and {\\em more}"},
    ]
    build_index(read_corpus(write_jsonl(tmp_path / "p.jsonl", records)), HashingEmbedder(), tmp_path / "i")
    index = Recommender.load(tmp_path / "i").index
    assert index.decode_texts() == 2
    assert index.decode_texts(budget=10) == 0
    assert [p.text for p in index.papers_at([1])] == ["Café Theory. fine"]


def test_concurrent_lookups_through_a_shortlist_answer_as_one_at_a_time(big_dir, small_lists, monkeypatch):
    import threading

    exact, fast = _pair(big_dir)
    queries = [f"p{i}" for i in range(0, 2000, 50)]
    expected = {q: fast.ask([q], 10, why=True).to_dict() for q in queries}
    monkeypatch.setattr(lexical_module, "WORD_CACHE_SIZE", 50)  # the word cache is cleared under them
    fast.lexical()._word_cache.clear()
    failures: list[str] = []

    def worker(offset: int) -> None:
        for q in queries[offset:] + queries[:offset]:
            if fast.ask([q], 10, why=True).to_dict() != expected[q]:
                failures.append(q)

    threads = [threading.Thread(target=worker, args=(i * 10,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_duplicates_and_empty_abstracts_tie_as_in_the_exact_ranking(tmp_path, small_lists):
    records = _synthetic(700, seed=9)
    twin = {"title": "Graph neural networks", "abstract": "message passing on graphs for node classification"}
    records += [{"id": f"twin{i}", **twin} for i in range(20)]
    records += [{"id": f"bare{i}", "title": f"Bare title number {i}", "abstract": ""} for i in range(10)]
    build_index(read_corpus(write_jsonl(tmp_path / "p.jsonl", records)), HashingEmbedder(), tmp_path / "i")
    exact, fast = _pair(tmp_path / "i")
    for query in ("twin3", "bare2", "p17"):
        for mode in ("hybrid", "dense", "lexical"):
            want, got = exact.similar(query, k=15, mode=mode), fast.similar(query, k=15, mode=mode)
            assert [r.id for r in got] == [r.id for r in want]
            assert [r.score for r in got] == pytest.approx([r.score for r in want], abs=2e-6)


def test_topical_mode_through_the_shortlist_gives_the_exact_answers(big_dir):
    # Each pool paper's neighbours come from the codes, re-scored, not from a scan of every
    # vector (search/shortlist.py): the same answers, scores within a small share.
    exact, fast = _pair(big_dir)
    for paper_id in [f"p{i}" for i in range(0, 2000, 251)]:
        want, got = exact.similar(paper_id, k=10, mode="topical"), fast.similar(paper_id, k=10, mode="topical")
        assert [r.id for r in got] == [r.id for r in want]
        assert [r.score for r in got] == pytest.approx([r.score for r in want], rel=1e-2)
        plain = exact.similar(paper_id, k=10)
        assert all(t.score >= p.score for t, p in zip(want, plain))  # a bonus on hybrid's scores
    assert [r.id for r in exact.similar("p7", k=10, mode="topical")] != [r.id for r in exact.similar("p7", k=10)]
