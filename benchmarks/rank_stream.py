"""Ranking a stream of new papers against a library (``paperlike rank``), measured on ACM-CR.

For each ACM-CR query paper citing at least 2 corpus papers: its *library* is a fixed random half
of the papers it cites (seeded), the *stream* is the other half (the held-out citations, the
relevant papers) plus 1,000 random corpus papers (seeded). Each method ranks the stream; we
report recall@50 and MAP of the held-out citations, averaged over the queries.

The 1,000 random papers of each stream are drawn from a fixed random pool of ``--pool`` corpus
papers (seeded; none of them a query or a cited paper), so embedding stays bounded on a CPU.

Methods (all from the same vectors, in the same run):

* baselines: cosine to the library centroid, max cosine to any library paper, and
  arxiv-sanity-lite's method with its exact settings (``ASL_TFIDF`` + ``asl_svm``: a linear SVM
  over TF-IDF, library positive, the rest of the stream negative, C=0.01 as its serve.py now
  defaults and C=0.1 as it used to);
* each side alone: the mean cosine to the 2 or 3 nearest library papers, an SVM over the model's
  vectors, BM25 with the library's own index, TF-IDF cosine (IDF over library + stream);
* a grid of hybrids: each dense score x each TF-IDF score x each fusion (z-scores with weight
  0.5, 0.7, 0.8 on the dense side, or reciprocal-rank fusion);
* ``paperlike rank default``: :func:`paperlike.search.stream.stream_scores` with
  ``DEFAULT_STREAM_METHOD``, the product's own code.

The queries are split in two fixed halves (seeded): the default must be the best MAP on *dev*;
both halves are printed, so the *test* figures are an honest estimate.

The random pool keeps the embedding to 2,516 texts (516 cited papers + the pool): 17 minutes of
MiniLM on a busy shared 2-core CPU, once; the vectors are cached on disk (``_data.embed_cached``)
and a run with the cache takes ~3 minutes.

Usage::

    python benchmarks/rank_stream.py [--eval-dir ../shared/eval] [--pool 2000] [--seed 0] [--embed-only]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import embed_cached, eval_dir_from, load_acm_queries  # noqa: E402
from paperlike.embedding import get_embedder  # noqa: E402
from paperlike.errors import CorpusError  # noqa: E402
from paperlike.readers import paper_from_fields  # noqa: E402
from paperlike.search.lexical import build_lexical  # noqa: E402
from paperlike.search.scoring import zscore  # noqa: E402
from paperlike.search.stream import (  # noqa: E402
    DEFAULT_STREAM_METHOD,
    rrf,
    stream_scores,
    svm_scores,
    tfidf_topk_scores,
    topk_scores,
)

STREAM_RANDOM = 1000
PRODUCT = "paperlike rank default"


@dataclass
class Data:
    """Texts of every paper needed (cited papers, then the pool) and the per-query splits."""

    texts: list[str]
    row: dict[str, int]  # doi -> row of texts
    pool: list[int]  # rows of the random pool
    splits: list[tuple[str, list[int], list[int]]]  # (query doi, library rows, held-out rows)


def _text(row: dict, where: str) -> str:
    fields = {"id": row["doi"], "title": row["title"], "abstract": row.get("abstract") or "", "doi": row["doi"]}
    try:
        return paper_from_fields(fields, where, where).text
    except CorpusError:  # a row the product would skip: its title alone
        return str(row.get("title") or "")


def load_data(eval_dir: Path, pool_size: int, seed: int) -> Data:
    queries = load_acm_queries(eval_dir)
    cited = sorted({d for q in queries for d in q["cited_with_abstract"]})
    excluded = set(cited) | {q["doi"] for q in queries}
    rows: dict[str, dict] = {}
    eligible: list[str] = []
    src = str(eval_dir / "acm-cr" / "papers.jsonl.gz")
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            doi = rec["doi"]
            if doi in excluded:
                rows[doi] = rec
            elif rec.get("title"):
                eligible.append(doi)
                rows[doi] = rec
    rng = np.random.default_rng(seed)
    pool_dois = [eligible[i] for i in sorted(rng.choice(len(eligible), size=pool_size, replace=False))]
    order = cited + pool_dois
    texts = [_text(rows[d], f"{src}:{d}") for d in order]
    row = {d: i for i, d in enumerate(order)}
    splits = []
    for qi, q in enumerate(queries):
        dois = sorted(q["cited_with_abstract"])
        if len(dois) < 2:
            continue
        perm = np.random.default_rng([seed, qi]).permutation(len(dois))
        half = len(dois) // 2
        library = [row[dois[i]] for i in sorted(perm[:half])]
        held = [row[dois[i]] for i in sorted(perm[half:])]
        splits.append((q["doi"], library, held))
    pool = list(range(len(cited), len(order)))
    return Data(texts, row, pool, splits)


# arxiv-sanity-lite's compute.py, exactly (its texts also hold author names, which ACM-CR lacks).
ASL_TFIDF = dict(
    input="content",
    encoding="utf-8",
    decode_error="replace",
    strip_accents="unicode",
    lowercase=True,
    analyzer="word",
    stop_words="english",
    token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
    ngram_range=(1, 2),
    max_features=20000,
    norm="l2",
    use_idf=True,
    smooth_idf=True,
    sublinear_tf=True,
    max_df=0.1,
    min_df=5,
)


def asl_svm(x, lib: list[int], stream: list[int], c: float) -> np.ndarray:
    """arxiv-sanity-lite serve.py svm_rank: LinearSVC(class_weight='balanced', max_iter=10000,
    tol=1e-6, C=c) on TF-IDF, library positive, every other paper (here: the stream) negative."""
    from scipy.sparse import vstack
    from sklearn.svm import LinearSVC

    xs = vstack([x[lib], x[stream]])
    y = np.r_[np.ones(len(lib)), np.zeros(len(stream))]
    clf = LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=c)
    clf.fit(xs, y)
    return clf.decision_function(x[stream])


def bm25_topk(lex, stream_texts: list[str], k: int = 3) -> np.ndarray:
    """BM25 of the library's papers (the library's own BM25 index) for each stream paper's terms, top-k mean."""
    out = np.zeros(len(stream_texts))
    for i, text in enumerate(stream_texts):
        bm = lex.scores_for_terms(lex.term_ids(text))
        out[i] = np.sort(bm)[-min(k, len(bm)) :].mean()
    return out


def metrics(scores: np.ndarray, relevant: np.ndarray, order_seed) -> tuple[float, float]:
    """recall@50 and average precision; ties broken by a fixed random order, never by position."""
    perm = np.random.default_rng(order_seed).permutation(len(scores))
    ranked = perm[np.argsort(-scores[perm], kind="stable")]
    hits = relevant[ranked]
    recall = hits[:50].sum() / relevant.sum()
    ranks = np.flatnonzero(hits) + 1
    ap = float(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    return float(recall), ap


DENSE = ("centroid", "max", "top-2", "top-3", "SVM")
LEXICAL = ("TF-IDF top-2", "TF-IDF top-3")
FUSIONS = ("z w=0.5", "z w=0.7", "z w=0.8", "RRF")


def methods_for(q: dict) -> dict[str, np.ndarray]:
    """Every method's stream scores for one query (``q`` holds its vectors and lexical scores).

    The grid: each dense score x each lexical score x each fusion (z-scores weighted ``w`` for
    the dense side, or reciprocal-rank fusion), plus the baselines and each side alone.
    """
    L, S = q["L"], q["S"]
    dense = {
        "centroid": stream_scores("centroid", S, L),
        "max": stream_scores("max", S, L),
        "top-2": topk_scores(S, L, 2),
        "top-3": topk_scores(S, L, 3),
        "SVM": svm_scores(S, L, c=0.1),
    }
    lexical = {"TF-IDF top-2": q["tfidf2"], "TF-IDF top-3": q["tfidf3"]}
    rows = {
        "centroid cosine (baseline)": dense["centroid"],
        "max cosine (baseline)": dense["max"],
        "arxiv-sanity-lite: SVM on TF-IDF, C=0.01 (baseline)": q["asl01"],
        "arxiv-sanity-lite: SVM on TF-IDF, C=0.1 (baseline)": q["asl1"],
        "top-2 mean cosine": dense["top-2"],
        "top-3 mean cosine": dense["top-3"],
        "SVM on MiniLM vectors, C=0.1": dense["SVM"],
        "SVM on MiniLM vectors, C=1": svm_scores(S, L, c=1.0),
        "BM25 (library's own index), top-3 mean": q["bm25"],
        "TF-IDF cosine, top-2 mean": lexical["TF-IDF top-2"],
        "TF-IDF cosine, top-3 mean": lexical["TF-IDF top-3"],
        "top-3 cosine + BM25 top-3, z w=0.8": 0.8 * zscore(dense["top-3"]) + 0.2 * zscore(q["bm25"]),
        "top-3 cosine + arxiv-sanity SVM C=0.01, z w=0.5": 0.5 * zscore(dense["top-3"]) + 0.5 * zscore(q["asl01"]),
    }
    for d, dv in dense.items():
        for lx, lv in lexical.items():
            for fusion in FUSIONS:
                if fusion == "RRF":
                    score = rrf(dv, lv)
                else:
                    w = float(fusion.split("=")[1])
                    score = w * zscore(dv) + (1 - w) * zscore(lv)
                rows[f"{d} + {lx}, {fusion}"] = score
    rows[PRODUCT] = stream_scores(DEFAULT_STREAM_METHOD, S, L, lexical=lambda: q["tfidf_product"])
    return rows


def evaluate(data: Data, vectors: np.ndarray, seed: int) -> dict[str, list[tuple[float, float]]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # arxiv-sanity-lite fits its TF-IDF once on its whole database: here every text of the run.
    tfidf_all = TfidfVectorizer(**ASL_TFIDF).fit_transform(data.texts).astype(np.float32).tocsr()
    per_query: dict[str, list[tuple[float, float]]] = {}
    for qi, (_doi, lib, held) in enumerate(data.splits):
        rng = np.random.default_rng([seed, qi, 1])
        noise = [data.pool[i] for i in sorted(rng.choice(len(data.pool), size=STREAM_RANDOM, replace=False))]
        stream = held + noise
        relevant = np.r_[np.ones(len(held), bool), np.zeros(len(noise), bool)]
        lib_texts, stream_texts = [data.texts[i] for i in lib], [data.texts[i] for i in stream]
        q = {
            "L": vectors[lib],
            "S": vectors[stream],
            "bm25": bm25_topk(build_lexical(lib_texts), stream_texts, 3),
            "asl01": asl_svm(tfidf_all, lib, stream, 0.01),
            "asl1": asl_svm(tfidf_all, lib, stream, 0.1),
            # The product's lexical side, exactly as paperlike rank computes it.
            "tfidf2": tfidf_topk_scores(lib_texts, stream_texts, 2),
            "tfidf3": tfidf_topk_scores(lib_texts, stream_texts, 3),
            "tfidf_product": tfidf_topk_scores(lib_texts, stream_texts),
        }
        for name, scores in methods_for(q).items():
            per_query.setdefault(name, []).append(metrics(np.asarray(scores, float), relevant, [seed, qi, 2]))
    return per_query


def split_halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng([seed, 99]).permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])


def report(per_query: dict, data: Data, seed: int, header: str) -> str:
    dev, test = split_halves(len(data.splits), seed)
    table = {}
    for name, vals in per_query.items():
        arr = np.asarray(vals)
        table[name] = (
            arr[dev, 0].mean(),
            arr[dev, 1].mean(),
            arr[test, 0].mean(),
            arr[test, 1].mean(),
            arr[:, 0].mean(),
            arr[:, 1].mean(),
        )
    best = max((n for n in table if n != PRODUCT), key=lambda n: table[n][1])
    width = max(len(n) for n in table) + 2
    lines = [header, ""]
    lines.append("| method".ljust(width) + " | dev R@50 | dev MAP | test R@50 | test MAP | all R@50 | all MAP |")
    lines.append("| " + "-" * (width - 2) + " | --- | --- | --- | --- | --- | --- |")
    for name, t in table.items():
        mark = " *" if name == best else ""
        lines.append(f"| {name + mark}".ljust(width) + " | " + " | ".join(f"{x:.3f}" for x in t) + " |")
    same = np.allclose(np.asarray(per_query[PRODUCT]), np.asarray(per_query[best]))
    baselines = [n for n in table if "(baseline)" in n]
    top = max(baselines, key=lambda n: table[n][3])
    lines.append("")
    lines.append(f"* best dev MAP: {best}")
    lines.append(
        f"paperlike rank default (DEFAULT_STREAM_METHOD = {DEFAULT_STREAM_METHOD!r}) "
        + ("is that method (same per-query figures)" if same else "is NOT the best on dev: change the default")
    )
    lines.append(
        f"test half: default MAP {table[PRODUCT][3]:.3f}, R@50 {table[PRODUCT][2]:.3f}; "
        f"best baseline on test MAP: {top}: MAP {table[top][3]:.3f}, R@50 {table[top][2]:.3f}"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir")
    ap.add_argument("--pool", type=int, default=2000, help="random corpus papers the streams are drawn from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embed-only", action="store_true", help="only embed (and cache) the texts")
    args = ap.parse_args()
    started = time.perf_counter()
    data = load_data(eval_dir_from(args.eval_dir), args.pool, args.seed)
    embedder = get_embedder()
    vectors, how = embed_cached(data.texts, embedder, "rank-stream")
    print(f"vectors: {how}", file=sys.stderr)
    if args.embed_only:
        return
    per_query = evaluate(data, vectors, args.seed)
    dev, test = split_halves(len(data.splits), args.seed)
    header = (
        f"ACM-CR stream ranking: {len(data.splits)} queries citing >= 2 corpus papers (dev {len(dev)}, test {len(test)}); "
        f"library = a random half of the citations ({sum(len(s[1]) for s in data.splits)} papers in all), "
        f"stream = the other half ({sum(len(s[2]) for s in data.splits)}) + {STREAM_RANDOM} random papers per query, "
        f"drawn from a fixed random pool of {len(data.pool)} of the corpus's papers (seed {args.seed}); "
        f"MiniLM vectors; {time.perf_counter() - started:.0f} s"
    )
    print(report(per_query, data, args.seed, header))


if __name__ == "__main__":
    main()
