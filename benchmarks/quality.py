"""Recommendation quality on real ground truth: ACM-CR citations and PwC-areas labels.

Every row is computed in the same run, from the same cached vectors:

* ``product``: what ``paperlike similar`` does by default (``paperlike.search.scoring.DEFAULT_MODE``),
* ``dense``: plain MiniLM cosine (the first 256 tokens of title + abstract),
* ``bm25``: BM25 alone (bm25s, English stopwords, stemming),
* variants tried on the way: the fusion method and weight, and window pooling for long texts.

ACM-CR: each of the 49 query papers ranks the whole corpus minus itself; the papers it cites are
the relevant ones; recall@10, recall@100, MRR. PwC-areas: for each paper, the share of its 10
nearest papers with the same task, and with the same area.

Embeddings are cached on disk keyed by model and text hash (see ``_data.embed_cached``), and so is
the BM25 index, so a second run costs minutes. ``--limit N`` keeps the first N ACM-CR papers plus
every query and cited paper.

Usage::

    python benchmarks/quality.py [--eval-dir ../shared/eval] [--limit N] [--only acm|pwc] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import paperlike.search.lexical as lexmod  # noqa: E402
from _data import acm_corpus, cache_dir, embed_cached, eval_dir_from, pwc_corpus  # noqa: E402
from _variants import rrf_fuse  # noqa: E402
from _windows import pool_windows, split_windows  # noqa: E402
from paperlike.embedding import get_embedder  # noqa: E402
from paperlike.search.scoring import DEFAULT_MODE, fuse  # noqa: E402


def lexical_cached(texts: list[str], label: str) -> tuple[lexmod.LexicalIndex, str]:
    settings = lexmod.tokenizer_settings()
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for t in texts:
        digest.update(hashlib.sha256(t.encode()).digest())
    folder = cache_dir() / f"{label}-bm25-{digest.hexdigest()[:16]}"
    started = time.perf_counter()
    if folder.is_dir():
        try:
            return lexmod._load(folder, len(texts)), f"cache hit {folder.name} ({time.perf_counter() - started:.1f} s)"
        except (OSError, ValueError, KeyError):
            pass
    lex = lexmod.build_lexical(texts, settings)
    seconds = time.perf_counter() - started
    if not folder.exists():
        lexmod._save(lex, folder)
    return lex, f"built in {seconds:.0f} s, cached as {folder.name}"


def window_vectors(texts: list[str], head: np.ndarray, embedder, label: str) -> tuple[np.ndarray, str]:
    """Mean of each text's window vectors (the head vector for texts that fit in one window)."""
    windows = [split_windows(t, embedder) for t in texts]
    long_texts = [w for ws in windows if len(ws) > 1 for w in ws]
    wv, how = embed_cached(long_texts, embedder, label)
    pooled = head.copy()
    long_pos = [i for i, ws in enumerate(windows) if len(ws) > 1]
    if long_pos:
        pooled[long_pos] = pool_windows(wv, [len(windows[i]) for i in long_pos])
    return pooled, f"{len(long_pos)} of {len(texts)} texts longer than one window; {how}"


def variants(dense: np.ndarray, pooled: np.ndarray, bm: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """The baselines and the variants tried (the product's default is one of them)."""
    rows = {
        "dense (plain MiniLM cosine)": dense,
        "bm25": bm,
        "hybrid rrf": rrf_fuse(dense, bm, mask=mask),
    }
    for w in (0.5, 0.7, 0.8, 0.85):
        rows[f"hybrid z w={w}"] = fuse(dense, bm, dense_weight=w, mask=mask)
    rows["dense, windows pooled"] = pooled
    rows["hybrid z w=0.8, windows pooled"] = fuse(pooled, bm, dense_weight=0.8, mask=mask)
    return rows


def product_scores(dense, bm, mask):
    """The default ranking of ``paperlike similar``, via the library's own function."""
    from paperlike.search.scoring import score_all

    return score_all(DEFAULT_MODE, dense, bm, mask)


def ordered(scores: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    s = np.where(mask, scores, -np.inf)
    cut = np.argpartition(-s, k)[:k]
    return cut[np.lexsort((cut, -s[cut]))]


def run_acm(eval_dir: Path, limit: int | None, embedder) -> dict:
    started = time.perf_counter()
    corpus, queries = acm_corpus(eval_dir, limit)
    texts = [p.text for p in corpus.papers]
    pos = {p.id: i for i, p in enumerate(corpus.papers)}
    V, how_v = embed_cached(texts, embedder, "acm-cr-product")
    P, how_w = window_vectors(texts, V, embedder, "acm-cr-windows")
    lex, how_l = lexical_cached(texts, "acm-cr")
    print(
        f"ACM-CR: {len(texts)} papers ({'all' if limit is None else f'first {limit} + queries and cited'}), "
        f"{len(queries)} queries\n  vectors: {how_v}\n  windows: {how_w}\n  bm25: {how_l}",
        file=sys.stderr,
    )
    metrics: dict[str, dict[str, list[float]]] = {}
    for q in queries:
        qi = pos[q["doi"]]
        relevant = {pos[d] for d in q["cited_with_abstract"] if d in pos}
        mask = np.ones(len(texts), bool)
        mask[qi] = False
        dense, pooled = V @ V[qi], P @ P[qi]
        bm = lex.scores_for_terms(lex.paper_terms(qi))
        rows = {"product": product_scores(dense, bm, mask)} | variants(dense, pooled, bm, mask)
        for name, scores in rows.items():
            top = ordered(scores, mask, 100)
            hits = [int(p in relevant) for p in top]
            m = metrics.setdefault(name, {"recall@10": [], "recall@100": [], "MRR": []})
            m["recall@10"].append(sum(hits[:10]) / len(relevant))
            m["recall@100"].append(sum(hits) / len(relevant))
            s = np.where(mask, scores, -np.inf)
            best = max(s[list(relevant)])
            # rank of the first relevant paper = 1 + papers scoring strictly better (ties: by position)
            m["MRR"].append(1.0 / (1 + int((s > best).sum())))
    table = {name: {k: float(np.mean(v)) for k, v in m.items()} for name, m in metrics.items()}
    return {"papers": len(texts), "queries": len(queries), "seconds": time.perf_counter() - started, "rows": table}


def run_pwc(eval_dir: Path, embedder) -> dict:
    started = time.perf_counter()
    corpus, rows = pwc_corpus(eval_dir)
    texts = [p.text for p in corpus.papers]
    V, how_v = embed_cached(texts, embedder, "pwc-areas-product")
    P, how_w = window_vectors(texts, V, embedder, "pwc-areas-windows")
    lex, how_l = lexical_cached(texts, "pwc-areas")
    print(f"PwC-areas: {len(texts)} papers\n  vectors: {how_v}\n  windows: {how_w}\n  bm25: {how_l}", file=sys.stderr)
    task = np.array([r["task_id"] for r in rows])
    area = np.array([r["area"] for r in rows])
    sums: dict[str, np.ndarray] = {}
    for i in range(len(texts)):
        mask = np.ones(len(texts), bool)
        mask[i] = False
        dense, pooled = V @ V[i], P @ P[i]
        bm = lex.scores_for_terms(lex.paper_terms(i))
        for name, scores in ({"product": product_scores(dense, bm, mask)} | variants(dense, pooled, bm, mask)).items():
            top = ordered(scores, mask, 10)
            sums.setdefault(name, np.zeros(2))
            sums[name] += [(task[top] == task[i]).mean(), (area[top] == area[i]).mean()]
    table = {name: {"task-P@10": float(s[0] / len(texts)), "area-P@10": float(s[1] / len(texts))} for name, s in sums.items()}
    return {"papers": len(texts), "seconds": time.perf_counter() - started, "rows": table}


def print_table(title: str, result: dict) -> None:
    rows = result["rows"]
    cols = list(next(iter(rows.values())))
    width = max(map(len, rows)) + 2
    print(f"\n{title}  ({result['seconds']:.0f} s)")
    print("method".ljust(width) + "".join(c.rjust(12) for c in cols))
    for name, m in rows.items():
        print(name.ljust(width) + "".join(f"{m[c]:12.4f}" for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir")
    ap.add_argument("--limit", type=int, help="ACM-CR: first N papers plus queries and cited papers")
    ap.add_argument("--only", choices=("acm", "pwc"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    eval_dir = eval_dir_from(args.eval_dir)
    embedder = get_embedder()
    out = {"default_mode": DEFAULT_MODE}
    if args.only != "acm":
        out["pwc-areas"] = run_pwc(eval_dir, embedder)
        print_table("PwC-areas: same-task / same-area share of the 10 nearest papers", out["pwc-areas"])
    if args.only != "pwc":
        out["acm-cr"] = run_acm(eval_dir, args.limit, embedder)
        print_table("ACM-CR citation recommendation (49 queries)", out["acm-cr"])
    if args.json:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
