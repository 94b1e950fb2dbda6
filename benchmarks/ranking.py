"""Ranking quality: every lever and every cached model in one run per data set, dev and test halves.

    python benchmarks/ranking.py --set pwc      # PwC-areas: paper, short-text and several-paper queries
    python benchmarks/ranking.py --set acm15k   # ACM-CR-15k: the 49 citing papers as queries, and
                                                # three cited papers finding the rest ("papers")
    python benchmarks/ranking.py --set acm      # the whole ACM-CR (96k), where its vectors are cached

Vectors come from the per-text cache (fill it with ``benchmarks/embed_eval.py``); a model whose
vectors do not cover the set is reported as skipped, or (ACM-CR) measured on the papers it covers,
every judged paper included, with the baselines recomputed on that same smaller haystack.

Queries are split once into a dev half and a test half by a hash of their id. Every tuned
parameter (fusion weights, feedback strength, late-interaction weight) is chosen on the dev half
and reported on the test half; the baselines are computed in the same run, on the same queries.
The last column of the test table is a paired bootstrap 95% interval of the row's primary metric
minus plain cosine's (1,000 resamples of the test queries).

Rows:
  cosine             the model's cosine (MiniLM unless named)
  bm25               the product's BM25 (bm25s tokens, stemmed), the query paper's terms as query
  tfidf              scikit-learn TF-IDF cosine: sublinear tf, unigrams + bigrams, English stop words, l2
  bm25-cos           cosine of the product's stored BM25 weight vectors
  tfidf-tok          the product's TF-IDF (paperlike.search.tfidf): the BM25 stems and their pairs, df >= 2
  z cos+X w          weighted z-score fusion (w = dense weight), tuned on dev
  z cos+tfidf-tok+Y wc= wb= wt=
                     three-way z-score fusion (issue 21): wc z(cosine) + wt z(tfidf-tok) + wb z(Y),
                     Y = bm25 or bm25-cos, wt = 1 - wc - wb; (wc, wb) tuned on dev over THREE_WAY
  rrf cos+X          reciprocal-rank fusion
  +prf               pseudo-relevance feedback: the dense query moved towards the centroid of the fused top m
  +nbr k=K l=L       neighbour overlap: z(fused) + L * z(how many of the query's fused top K are
                     among each paper's K nearest papers by cosine)
  +diffuse k=K l=L   diffusion: the fused top 200 re-ranked by z(fused) + L * z(the mean fused score of each
                     one's K nearest papers by cosine)
  +title t=T         z(fused) + T * z(cosine of the papers' titles alone, MiniLM)
  z cos-csls+tfidf-tok w
                     hubness correction (CSLS): cosine minus 0.5 x each paper's mean cosine to its 50
                     nearest, fused with TF-IDF
  z cos-centred+tfidf-tok w
                     the cosine of vectors centred on the corpus mean, fused with TF-IDF
  +late              late interaction over sentence units (mean over query units of the best unit match), re-ranking the fused top 200
  before             the hybrid default before this harness: z-fusion of cosine and BM25, w=0.8
  product            what ``paperlike similar`` does now (paperlike.search.scoring.score_query), through the library's own functions
  topical mode       ``--mode topical``: the product's scores, then the neighbour re-rank of paperlike.search.neighbours
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _late import units  # noqa: E402
from _variants import rrf  # noqa: E402
from _vector_store import VectorStore  # noqa: E402

MODELS = ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2-int8", "all-mpnet-base-v2", "all-mpnet-base-v2-int8")
WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
POOL = 200  # late interaction re-ranks this many
THREE_WAY = [  # (wc, wb, wt) of the three-way fusion: wc and wb on a grid, wt = 1 - wc - wb >= 0
    (wc, wb, round(1 - wc - wb, 2) + 0.0)  # + 0.0: no "-0.0" in a label
    for wc in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    for wb in (0.1, 0.2, 0.3)
    if round(1 - wc - wb, 2) >= 0
]
ACM_PAPERS_MIN = 6  # an ACM-CR citing paper with this many cited abstracts also makes a "papers" query
HUB_K, HUB_A = 50, 0.5  # CSLS: cosine minus HUB_A x each paper's mean cosine to its HUB_K nearest
DIFFUSE_WEIGHTS = (0.25, 0.5, 1.0, 2.0)
NEIGHBOURS = (20, 40, 80)  # neighbour-overlap list lengths tried
POOL_NEIGHBOURS = (40, 80)  # ... and for the pool variant


@dataclass
class Task:
    qid: str
    kind: str  # paper | text | papers
    rows: list[int]  # the query papers (empty for a text query)
    text: str | None
    relevant: np.ndarray  # positions
    area: np.ndarray | None = None  # PwC: positions of the same area (second metric)
    dev: bool = False
    hidden: tuple[int, ...] = ()  # papers left out of the ranking besides the query's own


def is_dev(qid: str) -> bool:
    return int(hashlib.sha256(qid.encode()).hexdigest()[:8], 16) % 2 == 0


def metric_names(set_name: str, kind: str) -> tuple[str, ...]:
    if set_name.startswith("acm"):
        return ("recall@10", "recall@100", "MRR")
    return ("task-P@10", "area-P@10") if kind == "paper" else ("task-P@10",)


def evaluate(scores: np.ndarray, mask: np.ndarray, task: Task, names: tuple[str, ...]) -> list[float]:
    s = np.where(mask, scores, -np.inf)
    k = 100 if "recall@100" in names else 10
    cut = np.argpartition(-s, k)[:k]
    top = cut[np.lexsort((cut, -s[cut]))]
    rel = np.zeros(len(s), bool)
    rel[task.relevant] = True
    out = []
    for name in names:
        if name == "recall@10":
            out.append(rel[top[:10]].sum() / max(rel.sum(), 1))
        elif name == "recall@100":
            out.append(rel[top[:100]].sum() / max(rel.sum(), 1))
        elif name == "MRR":
            best = s[rel].max()
            out.append(1.0 / (1 + int((s > best).sum())))
        elif name == "task-P@10":
            out.append(rel[top[:10]].mean())
        elif name == "area-P@10":
            area = np.zeros(len(s), bool)
            area[task.area] = True
            out.append(area[top[:10]].mean())
    return [float(x) for x in out]


def primary(values: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """One number per query to tune on: recall@100 + MRR for ACM-CR, task-P@10 for PwC."""
    if "MRR" in names:
        return values[:, names.index("recall@100")] + values[:, names.index("MRR")]
    return values[:, 0]


# --- data ------------------------------------------------------------------------------------


def tasks_for(set_name: str, corpus, extra) -> list[Task]:
    pos = {p.id: i for i, p in enumerate(corpus.papers)}
    out: list[Task] = []
    if set_name.startswith("acm"):
        rng = np.random.default_rng(7)
        for q in extra:
            rel = np.array(sorted(pos[d] for d in q["cited_with_abstract"] if d in pos))
            out.append(Task(q["doi"], "paper", [pos[q["doi"]]], None, rel, dev=is_dev(q["doi"])))
            if len(rel) >= ACM_PAPERS_MIN:
                # "Like these": three papers it cites (seeded) find the others; the citing paper
                # itself is left out of the ranking. Same dev/test half as its paper query.
                picked = sorted(rng.choice(rel, 3, replace=False).tolist())
                rest = np.setdiff1d(rel, picked)
                out.append(
                    Task(f"papers:{q['doi']}", "papers", picked, None, rest, dev=is_dev(q["doi"]), hidden=(pos[q["doi"]],))
                )
        return out
    rows = extra
    task = np.array([rows[int(p.id.split("-")[1])]["task_id"] for p in corpus.papers])
    area = np.array([rows[int(p.id.split("-")[1])]["area"] for p in corpus.papers])
    by_task: dict[str, np.ndarray] = {t: np.flatnonzero(task == t) for t in sorted(set(task))}
    by_area: dict[str, np.ndarray] = {a: np.flatnonzero(area == a) for a in sorted(set(area))}
    for i, p in enumerate(corpus.papers):
        rel = by_task[task[i]]
        out.append(Task(p.id, "paper", [i], None, rel[rel != i], by_area[area[i]][by_area[area[i]] != i], dev=is_dev(p.id)))
    rng = np.random.default_rng(7)
    for t, members in by_task.items():
        if len(members) >= 5:
            out.append(Task(f"text:{t}", "text", [], t.replace("-", " "), members, dev=is_dev(f"text:{t}")))
        if len(members) >= 8:
            picked = sorted(rng.choice(members, 3, replace=False).tolist())
            rest = np.setdiff1d(members, picked)
            out.append(Task(f"papers:{t}", "papers", picked, None, rest, dev=is_dev(f"papers:{t}")))
    return out


def tfidf_matrix(texts: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), stop_words="english", min_df=2, dtype=np.float32)
    return vec, vec.fit_transform(texts).tocsr()


def lexical_index(texts: list[str]):
    import paperlike.search.lexical as lexmod

    return lexmod.build_lexical(texts)


# --- scoring ---------------------------------------------------------------------------------


def zfuse(parts: list[tuple[float, np.ndarray]], mask: np.ndarray) -> np.ndarray:
    from paperlike.search.scoring import zscore

    return sum(w * zscore(s, mask) for w, s in parts)


def bm25_vector_cosines(lex, positions) -> np.ndarray:
    """Cosine of every paper's stored BM25 weight vector with the query papers' (each unit
    length, summed): the ``bm25-cos`` row, measured and not used by the product."""
    norms = np.sqrt(np.bincount(lex.indices, weights=np.square(lex.data, dtype=np.float64), minlength=lex.count))
    query: dict[int, float] = {}
    for p in positions:
        terms = np.unique(lex.paper_terms(int(p))).astype(np.int64)
        for t in terms.tolist():
            lo, hi = int(lex.indptr[t]), int(lex.indptr[t + 1])
            # A column lists its papers in ascending order (the build fills them in order).
            weight = float(lex.data[lo + int(np.searchsorted(lex.indices[lo:hi], p))])
            if norms[p] > 0:
                query[t] = query.get(t, 0.0) + weight / norms[p]
    scores = np.zeros(lex.count, dtype=np.float64)
    for t, w in query.items():
        lo, hi = int(lex.indptr[t]), int(lex.indptr[t + 1])
        np.add.at(scores, lex.indices[lo:hi], lex.data[lo:hi] * w)
    size = float(np.sqrt(sum(w * w for w in query.values())))
    return np.divide(scores, norms * size, out=np.zeros_like(scores), where=norms * size > 0)


class Bases:
    """The base scores of one task: cosine per model, BM25, TF-IDF, BM25-vector cosine."""

    def __init__(self, ctx, task: Task):
        n = ctx.n
        self.mask = np.ones(n, bool)
        self.mask[task.rows] = False
        self.mask[list(task.hidden)] = False
        self.qvec: dict[str, np.ndarray] = {}
        self.cos: dict[str, np.ndarray] = {}
        for model, V in ctx.vectors.items():
            if task.kind == "text":
                q = ctx.text_vectors[model][task.text]
            else:
                q = V[task.rows].mean(axis=0)
                q = q / max(np.linalg.norm(q), 1e-12)
            self.qvec[model] = q
            self.cos[model] = V @ q
        lex = ctx.lex
        if task.kind == "text":
            terms = lex.term_ids(task.text)
            self.bm25 = lex.scores_for_terms(terms).astype(np.float64)
            qt = ctx.tfidf_vec.transform([task.text])
        else:
            terms = np.concatenate([lex.paper_terms(r) for r in task.rows])
            self.bm25 = lex.scores_for_terms(terms).astype(np.float64)
            qt = ctx.tfidf[task.rows].sum(axis=0)
        self.tfidf = (
            np.asarray(ctx.tfidf @ np.asarray(qt).ravel()).ravel()
            if task.kind != "text"
            else (ctx.tfidf @ qt.T).toarray().ravel()
        )
        if ctx.hub is not None:
            q = self.qvec[MODELS[0]]
            self.cos_hub = self.cos[MODELS[0]] - HUB_A * ctx.hub
            self.cos_centred = ctx.centred @ unit_rows((q - ctx.centre)[None, :])[0]
            tq = q if task.kind == "text" else unit_rows(ctx.titles[task.rows].mean(axis=0)[None, :])[0]
            self.title_cos = ctx.titles @ tq
        self.bm25cos = bm25_vector_cosines(lex, task.rows) if task.kind != "text" else self.bm25
        self.tfidf_tok = lex.tfidf_paper_scores(task.rows) if task.kind != "text" else lex.tfidf_text_scores(task.text)


class Context:
    def __init__(self, set_name: str, eval_dir, restrict_to_model: str | None = None):
        from paperlike.embedding import get_embedder

        self.set_name = set_name
        corpus, extra = _data.eval_set(set_name, eval_dir)
        self.notes: list[str] = []
        self.stores = {}
        for model in MODELS:
            try:
                self.stores[model] = VectorStore(_data.cache_dir(), get_embedder(model))
            except Exception as exc:  # a model that is not installed is a row skipped, with why
                self.notes.append(f"{model}: skipped ({' '.join(str(exc).split())[:120]})")
        texts_all = [p.text for p in corpus.papers]
        keep = np.ones(len(texts_all), bool)
        if restrict_to_model:
            # ACM-CR with a partially filled model: the papers it has, every judged one included.
            judged = _data.judged_ids(set_name, extra)
            missing = set(self.stores[restrict_to_model].missing(texts_all))
            keep = np.array([t not in missing for t in texts_all])
            lost = [p.id for p, k in zip(corpus.papers, keep) if not k and p.id in judged]
            if lost:
                raise SystemExit(f"{restrict_to_model} lacks {len(lost)} judged papers; fill with embed_eval.py first")
            from paperlike.readers import collect

            corpus = collect([(p.id, p) for p, k in zip(corpus.papers, keep) if k], "subset")
        self.corpus, self.papers = corpus, corpus.papers
        self.n = len(self.papers)
        self.texts = [p.text for p in self.papers]
        self.tasks = tasks_for(set_name, corpus, extra)
        self.vectors: dict[str, np.ndarray] = {}
        self.text_vectors: dict[str, dict[str, np.ndarray]] = {}
        query_texts = sorted({t.text for t in self.tasks if t.text})
        for model, store in self.stores.items():
            left = len(store.missing(self.texts))
            if left:
                self.notes.append(
                    f"{model}: {left} of {self.n} texts not cached; skipped (fill with embed_eval.py --model {model} --set {set_name})"
                )
                continue
            self.vectors[model] = store.get(self.texts)
            if query_texts:
                store.fill(query_texts, desc=f"{model} short queries")
                self.text_vectors[model] = dict(zip(query_texts, store.get(query_texts)))
        started = time.perf_counter()
        self.lex = lexical_index(self.texts)
        self.tfidf_vec, self.tfidf = tfidf_matrix(self.texts)
        self.lexical_seconds = time.perf_counter() - started
        self.units = None
        base = MODELS[0]
        self.hub = self.centre = self.centred = self.titles = None
        if base in self.vectors:
            V = self.vectors[base]
            self.hub = hub_scores(V, HUB_K)
            self.centre = V.mean(axis=0)
            self.centred = unit_rows(V - self.centre)
            titles = [p.title or "" for p in self.papers]
            self.stores[base].fill(sorted(set(titles)), desc=f"{base} titles")
            self.titles = self.stores[base].get(titles)
        self.neighbours = {k: neighbour_lists(self.vectors[base], k) for k in NEIGHBOURS} if base in self.vectors else {}
        if base in self.vectors:
            unit_lists = [units(p.title, p.abstract) for p in self.papers]
            flat = [u for us in unit_lists for u in us]
            if not self.stores[base].missing(flat):
                self.units = (
                    self.stores[base].get(flat),
                    np.repeat(np.arange(self.n), [len(u) for u in unit_lists]),
                    np.cumsum([0] + [len(u) for u in unit_lists]),
                )
            else:
                self.notes.append(f"late interaction: sentence units not cached (embed_eval.py --set {set_name} --units)")


def unit_rows(M: np.ndarray) -> np.ndarray:
    return M / np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-12)


def similarity_blocks(V: np.ndarray, rows_at_once: int = 2048):
    """``(rows, cosines of those papers with every paper)``, a block of rows at a time, each
    paper's cosine with itself -inf (so it is never its own neighbour)."""
    for start in range(0, len(V), rows_at_once):
        sims = V[start : start + rows_at_once] @ V.T
        rows = slice(start, start + len(sims))
        sims[np.arange(len(sims)), np.arange(rows.start, rows.stop)] = -np.inf
        yield rows, sims


def hub_scores(V: np.ndarray, k: int, rows_at_once: int = 2048) -> np.ndarray:
    """Each paper's mean cosine to its ``k`` nearest other papers (CSLS's hubness term)."""
    out = np.empty(len(V))
    for rows, sims in similarity_blocks(V, rows_at_once):
        out[rows] = -np.partition(-sims, k, axis=1)[:, :k].mean(axis=1)
    return out


def late(ctx: Context, task: Task, base: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Late-interaction scores of the fused top POOL (positions, scores)."""
    U, owner, starts = ctx.units
    pool = np.argpartition(-np.where(mask, base, -np.inf), POOL)[:POOL]
    if task.kind == "text":
        return pool, np.zeros(len(pool))
    q = np.concatenate([U[starts[r] : starts[r + 1]] for r in task.rows])
    rows = np.concatenate([np.arange(starts[p], starts[p + 1]) for p in pool])
    sims = U[rows] @ q.T
    lengths = starts[pool + 1] - starts[pool]
    best = np.maximum.reduceat(sims, np.cumsum(np.r_[0, lengths[:-1]]), axis=0)
    return pool, best.mean(axis=1)


def with_late(base: np.ndarray, pool: np.ndarray, late_scores: np.ndarray, weight: float) -> np.ndarray:
    """The pool re-ranked by z(base) + weight * z(late) within the pool, above every other paper."""
    out = np.asarray(base, dtype=np.float64).copy()
    b, s = out[pool], late_scores
    zb = (b - b.mean()) / (b.std() or 1)
    zl = (s - s.mean()) / (s.std() or 1)
    top = out.max() + 1
    out[pool] = top + 100 + zb + weight * zl
    return out


def neighbour_lists(V: np.ndarray, k: int, rows_at_once: int = 2048):
    """Each paper's ``k`` nearest other papers by cosine, as a sparse 0/1 matrix (paper x paper)."""
    from scipy.sparse import csr_matrix

    n = len(V)
    cols = np.empty((n, k), dtype=np.int64)
    for rows, sims in similarity_blocks(V, rows_at_once):
        cols[rows] = np.argpartition(-sims, k, axis=1)[:, :k]
    return csr_matrix((np.ones(n * k, dtype=np.float32), (np.repeat(np.arange(n), k), cols.ravel())), shape=(n, n))


def neighbour_overlap(ctx: Context, fused: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    top = np.argpartition(-np.where(mask, fused, -np.inf), k)[:k]
    wanted = np.zeros(ctx.n, dtype=np.float32)
    wanted[top] = 1
    return np.asarray(ctx.neighbours[k] @ wanted).ravel().astype(np.float64)


def neighbour_mean(ctx: Context, fused: np.ndarray, mask: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """The mean fused score of each pool paper's ``k`` nearest papers, the query papers counted
    as average (0: fused scores are z-scores over the ranked papers)."""
    return np.asarray(ctx.neighbours[k][pool] @ np.where(mask, fused, 0.0)).ravel() / k


def pool_overlap(ctx: Context, fused: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour overlap for the fused top POOL only, each candidate's k nearest papers found
    by brute force at query time (what a product could do without a stored neighbour graph)."""
    V = ctx.vectors[MODELS[0]]
    masked = np.where(mask, fused, -np.inf)
    pool = np.argpartition(-masked, POOL)[:POOL]
    top = np.argpartition(-masked, k)[:k]
    sims = V[pool] @ V.T
    sims[np.arange(len(pool)), pool] = -np.inf
    near = np.argpartition(-sims, k, axis=1)[:, :k]
    return pool, np.isin(near, top).sum(axis=1).astype(np.float64)


def prf(ctx: Context, model: str, bases: Bases, fused: np.ndarray, mask: np.ndarray, m: int, beta: float) -> np.ndarray:
    V = ctx.vectors[model]
    top = np.argpartition(-np.where(mask, fused, -np.inf), m)[:m]
    q = bases.qvec[model] + beta * V[top].mean(axis=0)
    return V @ (q / np.linalg.norm(q))


# --- the run ---------------------------------------------------------------------------------


def run(ctx: Context) -> dict:
    from paperlike.search.scoring import score_all, score_query, zscore

    def topical(kind: str, model: str, cos: np.ndarray, tfidf: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from paperlike.search.neighbours import exact_neighbours, neighbour_bonus

        V = ctx.vectors[model]
        fused = score_query(kind, cos, tfidf, mask, mode="topical")
        return neighbour_bonus(fused, mask, None, kind, lambda pos, k: exact_neighbours(V, pos, k), ctx.n)

    results: dict[str, dict[str, dict[str, list]]] = {}  # kind -> row -> {"dev": [...], "test": [...]}

    def add(kind: str, row: str, task: Task, scores: np.ndarray, mask: np.ndarray) -> None:
        names = metric_names(ctx.set_name, kind)
        results.setdefault(kind, {}).setdefault(row, {"dev": [], "test": []})["dev" if task.dev else "test"].append(
            evaluate(scores, mask, task, names)
        )

    base = MODELS[0]
    lex_sides = ("bm25", "tfidf", "bm25-cos", "tfidf-tok")
    for number, task in enumerate(ctx.tasks):
        b = Bases(ctx, task)
        mask = b.mask
        lexical = {"bm25": b.bm25, "tfidf": b.tfidf, "bm25-cos": b.bm25cos, "tfidf-tok": b.tfidf_tok}
        for model in ctx.vectors:
            tag = "" if model == base else f" [{model}]"
            add(task.kind, f"cosine{tag}", task, b.cos[model], mask)
            for side in lex_sides if model == base else ("tfidf-tok",):
                for w in WEIGHTS:
                    add(
                        task.kind,
                        f"z cos+{side} w={w}{tag}",
                        task,
                        zfuse([(w, b.cos[model]), (1 - w, lexical[side])], mask),
                        mask,
                    )
            if model != base:
                add(task.kind, f"product (its weights){tag}", task, score_query(task.kind, b.cos[model], b.tfidf_tok, mask), mask)
        for side in lex_sides:
            add(task.kind, side, task, lexical[side], mask)
        if base in ctx.vectors:
            cos = b.cos[base]
            add(task.kind, "rrf cos+bm25", task, rrf(np.where(mask, cos, -np.inf), np.where(mask, b.bm25, -np.inf)), mask)
            add(
                task.kind,
                "rrf cos+tfidf-tok",
                task,
                rrf(np.where(mask, cos, -np.inf), np.where(mask, b.tfidf_tok, -np.inf)),
                mask,
            )
            add(task.kind, "before (hybrid: z cos+bm25 w=0.8)", task, score_all("hybrid", cos, b.bm25, mask), mask)
            add(task.kind, "product", task, score_query(task.kind, cos, b.tfidf_tok, mask), mask)
            add(task.kind, "topical mode", task, topical(task.kind, base, cos, b.tfidf_tok, mask), mask)
            for w in WEIGHTS:  # hubness correction (CSLS) and a centred cosine, each fused as the product fuses
                for side, dense in (("cos-csls", b.cos_hub), ("cos-centred", b.cos_centred)):
                    add(task.kind, f"z {side}+tfidf-tok w={w}", task, zfuse([(w, dense), (1 - w, b.tfidf_tok)], mask), mask)
            for w in (0.6, 0.7) if task.kind == "paper" else (0.3, 0.4, 0.5):
                fused = zfuse([(w, cos), (1 - w, b.tfidf_tok)], mask)
                for tw in (0.1, 0.2, 0.3):
                    add(
                        task.kind,
                        f"z cos+tfidf-tok w={w} +title t={tw}",
                        task,
                        zfuse([(1, fused), (tw, b.title_cos)], mask),
                        mask,
                    )
                # Diffusion: the fused top POOL re-ranked by z(score) + l * z(mean score of each
                # one's k nearest papers); the query papers count as average (0).
                pool = np.argpartition(-np.where(mask, fused, -np.inf), POOL)[:POOL]
                for k in ctx.neighbours:
                    spread = neighbour_mean(ctx, fused, mask, pool, k)
                    for lam in DIFFUSE_WEIGHTS:
                        add(
                            task.kind,
                            f"z cos+tfidf-tok w={w} +diffuse k={k} l={lam}",
                            task,
                            with_late(fused, pool, spread, lam),
                            mask,
                        )
                for m, beta in ((5, 0.5), (10, 0.5)):
                    dense2 = prf(ctx, base, b, fused, mask, m, beta)
                    add(
                        task.kind,
                        f"z cos+tfidf-tok w={w} +prf m={m} b={beta}",
                        task,
                        zfuse([(w, dense2), (1 - w, b.tfidf_tok)], mask),
                        mask,
                    )
                for k in ctx.neighbours:
                    overlap = neighbour_overlap(ctx, fused, mask, k)
                    for lam in (0.2, 0.4, 0.8):
                        add(
                            task.kind,
                            f"z cos+tfidf-tok w={w} +nbr k={k} l={lam}",
                            task,
                            zfuse([(1, fused), (lam, overlap)], mask),
                            mask,
                        )
                    if k in POOL_NEIGHBOURS:
                        pool, counts = pool_overlap(ctx, fused, mask, k)
                        for lam in (0.4, 0.8, 1.6):
                            add(
                                task.kind,
                                f"z cos+tfidf-tok w={w} +nbr-pool k={k} l={lam}",
                                task,
                                with_late(fused, pool, counts, lam),
                                mask,
                            )
                if ctx.units is not None and task.kind != "text":
                    pool, ls = late(ctx, task, fused, mask)
                    for lw in (0.25, 0.5, 1.0):
                        add(task.kind, f"z cos+tfidf-tok w={w} +late {lw}", task, with_late(fused, pool, ls, lw), mask)
            # Three-way z fusion (issue 21): the same sum zfuse() makes, each side's z-score computed once.
            z = {"cos": zscore(cos, mask), "tfidf-tok": zscore(b.tfidf_tok, mask)}
            for side in ("bm25", "bm25-cos"):
                z[side] = zscore(lexical[side], mask)
                for wc, wb, wt in THREE_WAY:
                    add(
                        task.kind,
                        f"z cos+tfidf-tok+{side} wc={wc} wb={wb} wt={wt}",
                        task,
                        sum(w * s for w, s in ((wc, z["cos"]), (wt, z["tfidf-tok"]), (wb, z[side]))),
                        mask,
                    )
        if number % 500 == 0:
            print(f"  {number} of {len(ctx.tasks)} queries", file=sys.stderr)
    return results


def summarise(ctx: Context, results: dict) -> dict:
    """Per kind: the tuned choice of every family (on dev), every row's dev and test means, and
    a paired bootstrap interval against cosine on test."""
    out = {}
    rng = np.random.default_rng(0)
    for kind, rows in results.items():
        names = metric_names(ctx.set_name, kind)
        arr = {r: {h: np.array(v[h]) for h in ("dev", "test")} for r, v in rows.items()}
        # Families: a row name without its tuned numbers; the best member on dev stands for it.
        families: dict[str, list[str]] = {}
        for r in arr:
            fam = " ".join(
                part
                for part in r.split(" ")
                if not any(part.startswith(p) for p in ("w=", "wc=", "wb=", "wt=", "m=", "b=", "k=", "l=", "t="))
                and not _is_number(part)
            )
            families.setdefault(fam, []).append(r)
        chosen = {}
        for fam, members in families.items():
            best = max(members, key=lambda r: (primary(arr[r]["dev"], names).mean(), -members.index(r)))
            chosen[fam] = best
        cosine = arr["cosine"]["test"] if "cosine" in arr else None
        table = {}
        for fam, r in chosen.items():
            dev, test = arr[r]["dev"], arr[r]["test"]
            row = {
                "row": r,
                "dev": dict(zip(names, dev.mean(axis=0).round(4).tolist())),
                "test": dict(zip(names, test.mean(axis=0).round(4).tolist())),
            }
            if cosine is not None and len(test):
                d = primary(test, names) - primary(cosine, names)
                boots = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
                row["vs_cosine_95"] = [round(float(np.percentile(boots, 2.5)), 4), round(float(np.percentile(boots, 97.5)), 4)]
            table[fam] = row
        out[kind] = {
            "queries": {"dev": len(next(iter(arr.values()))["dev"]), "test": len(next(iter(arr.values()))["test"])},
            "metrics": names,
            "rows": table,
        }
    return out


def _is_number(part: str) -> bool:
    try:
        float(part)
    except ValueError:
        return False
    return True


def tables(ctx: Context, summary: dict, seconds: float, rows: str = "all", load: float | None = None) -> str:
    """The markdown tables of a run (``rows="readme"``: the product, the baselines and the best
    row of each lever only)."""
    keep = (
        "product",
        "topical mode",
        "before",
        "cosine",
        "bm25",
        "tfidf",
        "tfidf-tok",
        "z cos+tfidf-tok",
        "z cos+tfidf-tok +prf",
        "z cos+tfidf-tok +nbr",
        "z cos+tfidf-tok +late",
        "z cos+tfidf-tok +diffuse",
        "z cos+tfidf-tok +title",
        "z cos-csls+tfidf-tok",
        "z cos-centred+tfidf-tok",
        "rrf cos+tfidf-tok",
    )
    out = []
    for kind, block in summary.items():
        names = block["metrics"]
        q = block["queries"]
        out.append(f"\n{ctx.set_name}, {kind} queries ({q['dev']} dev / {q['test']} test), {ctx.n} papers:\n")
        out.append(
            "| row (parameters chosen on dev) | "
            + " | ".join(f"dev {n}" for n in names)
            + " | "
            + " | ".join(f"test {n}" for n in names)
            + " | test vs cosine, 95% |"
        )
        out.append("| --- " * (2 * len(names) + 2) + "|")
        for fam, row in sorted(block["rows"].items(), key=lambda kv: -sum(kv[1]["test"].values())):
            if rows == "readme" and not (fam.split(" [")[0] in keep or fam.startswith(("cosine [", "product (its weights)"))):
                continue
            ci = row.get("vs_cosine_95")
            name = f"**{row['row']}**" if fam == "product" else row["row"]
            out.append(
                f"| {name} | "
                + " | ".join(f"{row['dev'][n]:.4f}" for n in names)
                + " | "
                + " | ".join(f"{row['test'][n]:.4f}" for n in names)
                + f" | {'' if ci is None else f'{ci[0]:+.4f} .. {ci[1]:+.4f}'} |"
            )
    load = os.getloadavg()[0] if load is None else load
    out.append(f"\nwall {seconds:.0f} s; load {load:.1f}; {os.cpu_count()} CPUs")
    return "\n".join(out)


def write_markdown(path: str, command: str, ctx, summary: dict, seconds: float, load: float | None = None) -> None:
    notes = "".join(f"- {note}\n" for note in ctx.notes)
    Path(path).write_text(
        f"Written by `{command} --markdown ...`.\n\n{notes}{tables(ctx, summary, seconds, rows='readme', load=load)}\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", dest="name", choices=("pwc", "acm15k", "acm"), required=True)
    ap.add_argument("--eval-dir", default=None)
    ap.add_argument(
        "--subset-of", default=None, help="ACM-CR: measure on the papers this model's cache covers (every judged one)"
    )
    ap.add_argument("--json", default=None, help="also write the summary here")
    ap.add_argument("--markdown", default=None, help="also write the README's rows here (docs/readme/ranking-SET.md)")
    ap.add_argument("--raw", default=None, help="also write every row's per-query values here (JSON: kind -> row -> dev/test)")
    ap.add_argument("--from-json", default=None, help="print (and --markdown) the tables of a saved --json run; run nothing")
    opts = ap.parse_args()
    command = f"python benchmarks/ranking.py --set {opts.name}" + (f" --subset-of {opts.subset_of}" if opts.subset_of else "")
    if opts.from_json:
        saved = json.loads(Path(opts.from_json).read_text())
        ctx = types.SimpleNamespace(set_name=saved["set"], n=saved["papers"], notes=saved["notes"])
        seconds, load = saved.get("seconds", 0.0), saved.get("load")
        print(tables(ctx, saved["summary"], seconds, load=load))
        if opts.markdown:
            write_markdown(opts.markdown, command, ctx, saved["summary"], seconds, load)
        return
    started = time.perf_counter()
    ctx = Context(opts.name, _data.eval_dir_from(opts.eval_dir), opts.subset_of)
    if opts.name == "acm15k" or opts.subset_of:
        ctx.notes.append("recall on a subset of ACM-CR is not comparable with recall on the whole 96k: fewer distractors")
    for note in ctx.notes:
        print(f"note: {note}")
    print(f"lexical indexes (BM25 + TF-IDF) built in {ctx.lexical_seconds:.0f} s")
    results = run(ctx)
    summary = summarise(ctx, results)
    if opts.raw:
        Path(opts.raw).write_text(json.dumps(results))
    seconds, load = time.perf_counter() - started, os.getloadavg()[0]
    print(tables(ctx, summary, seconds, load=load))
    if opts.markdown:
        write_markdown(opts.markdown, command, ctx, summary, seconds, load)
    if opts.json:
        Path(opts.json).write_text(
            json.dumps(
                {"set": opts.name, "papers": ctx.n, "notes": ctx.notes, "summary": summary, "seconds": seconds, "load": load},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
