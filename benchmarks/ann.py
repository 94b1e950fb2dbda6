"""Exact against approximate search (FAISS HNSW and IVF) at 96k (ACM-CR vectors) and 1M vectors.

The 1M set is synthetic: every ACM-CR vector plus copies of it with small Gaussian noise
(std 0.02 per coordinate, so about cos 0.93 to the original), re-normalised, so the neighbourhood
structure is that of real paper vectors. Queries are 500 corpus vectors with noise of the same
size (they are not in the index). For each index the script prints build time, memory (the index's
serialised size and the process's peak RSS growth), single-query latency p50 / p99 (one query per
call, as the CLI does) and recall@10 against exact search.

Usage::

    python benchmarks/ann.py [--eval-dir ../shared/eval] [--sizes 96k,1m] [--queries 500] [--json]

The ACM-CR vectors come from the embedding cache that ``benchmarks/quality.py`` fills.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import acm_corpus, embed_cached, eval_dir_from  # noqa: E402
from paperlike.embedding import get_embedder  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def noisy(base: np.ndarray, copies: int, rng: np.random.Generator, std: float = 0.02) -> np.ndarray:
    out = np.empty((len(base) * copies, base.shape[1]), dtype=np.float32)
    for c in range(copies):
        block = base + rng.normal(0, std, size=base.shape).astype(np.float32) if c else base
        out[c * len(base) : (c + 1) * len(base)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def measure(name, index, queries, exact_ids, k=10, params=None):

    rows = []
    for setting in params or [None]:
        if setting is not None:
            key, value = setting
            if key == "efSearch":
                index.hnsw.efSearch = value
            else:
                index.nprobe = value
        times = []
        found = np.empty((len(queries), k), dtype=np.int64)
        for i, q in enumerate(queries):
            t = time.perf_counter()
            _, ids = index.search(q.reshape(1, -1), k)
            times.append(time.perf_counter() - t)
            found[i] = ids[0]
        recall = np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact_ids)])
        ms = np.array(times) * 1000
        rows.append(
            {
                "index": name + (f" {setting[0]}={setting[1]}" if setting else ""),
                "recall@10": float(recall),
                "p50_ms": float(np.percentile(ms, 50)),
                "p99_ms": float(np.percentile(ms, 99)),
            }
        )
    return rows


def run(vectors: np.ndarray, queries: np.ndarray, label: str) -> list[dict]:
    import faiss

    n, d = vectors.shape
    out = []
    print(f"\n{label}: {n:,} vectors of dim {d}, {len(queries)} single queries", flush=True)

    def build(name, make):
        rss0 = peak_rss_mb()
        t = time.perf_counter()
        index = make()
        seconds = time.perf_counter() - t
        size = len(faiss.serialize_index(index)) / 2**20
        info = {"build_s": seconds, "index_mb": size, "peak_rss_growth_mb": peak_rss_mb() - rss0}
        print(f"  built {name} in {seconds:.1f} s, {size:.0f} MB", flush=True)
        return index, info

    flat, info = build("IndexFlatIP (exact)", lambda: _flat(vectors))
    _, exact_ids = flat.search(queries, 10)
    for row in measure("exact (IndexFlatIP)", flat, queries, exact_ids):
        out.append(row | info)
    del flat

    hnsw, info = build("HNSW M=32", lambda: _hnsw(vectors, 32, 80))
    for row in measure("HNSW M=32", hnsw, queries, exact_ids, params=[("efSearch", e) for e in (32, 64, 128, 256)]):
        out.append(row | info)
    del hnsw

    nlist = int(4 * np.sqrt(n))
    ivf, info = build(f"IVF{nlist}", lambda: _ivf(vectors, nlist))
    for row in measure(f"IVF{nlist},Flat", ivf, queries, exact_ids, params=[("nprobe", p) for p in (8, 16, 32, 64)]):
        out.append(row | info)
    del ivf
    return out


def _flat(v):
    import faiss

    index = faiss.IndexFlatIP(v.shape[1])
    index.add(v)
    return index


def _hnsw(v, m, ef_construction):
    import faiss

    index = faiss.IndexHNSWFlat(v.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(v)
    return index


def _ivf(v, nlist):
    import faiss

    quantizer = faiss.IndexFlatIP(v.shape[1])
    index = faiss.IndexIVFFlat(quantizer, v.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = v[rng.choice(len(v), size=min(len(v), 64 * nlist), replace=False)]
    index.train(sample)
    index.add(v)
    return index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir")
    ap.add_argument("--sizes", default="96k,1m")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import faiss

    corpus, _ = acm_corpus(eval_dir_from(args.eval_dir))
    base, how = embed_cached([p.text for p in corpus.papers], get_embedder(), "acm-cr-product")
    print(f"ACM-CR vectors: {how}; faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads")
    rng = np.random.default_rng(0)
    picks = rng.choice(len(base), size=args.queries, replace=False)
    queries = noisy(base[picks], 2, rng)[args.queries :]  # the noisy copies only
    results = {}
    for size in args.sizes.split(","):
        if size == "96k":
            vectors = base
        elif size == "1m":
            vectors = noisy(base, int(np.ceil(1_000_000 / len(base))), np.random.default_rng(1))[:1_000_000]
        else:
            raise SystemExit(f"unknown size {size}; use 96k and/or 1m")
        results[size] = run(np.ascontiguousarray(vectors), queries, f"{size} ({len(vectors):,} vectors)")
        print(f"\n{'index':<28}{'recall@10':>10}{'p50 ms':>9}{'p99 ms':>9}{'build s':>9}{'index MB':>10}{'RSS+ MB':>9}")
        for r in results[size]:
            print(
                f"{r['index']:<28}{r['recall@10']:>10.4f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                f"{r['build_s']:>9.1f}{r['index_mb']:>10.0f}{r['peak_rss_growth_mb']:>9.0f}",
                flush=True,
            )
        del vectors
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
