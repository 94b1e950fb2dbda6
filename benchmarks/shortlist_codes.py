"""How far the shortlist's 4-bit codes are from the true cosines, for MiniLM and hashing vectors
of the same ACM-CR abstracts.

``benchmarks/lookup_cpu.py --overlap`` measures the shortlist's answers at 96k papers, but only
on hashing vectors (MiniLM vectors of all 96k abstracts take hours to embed here). This compares
the two kinds of vectors on the first ``--papers`` abstracts, embedded with both (MiniLM vectors
are cached in the bench cache after the first run): for 200 random papers as queries,

- the error of the codes' cosines relative to the spread of the true ones (the standard
  deviation of ``approximate - true`` over that of ``true``), and
- how many of each query's true 10 nearest papers are not among the codes' best
  ``papers * 700 / 96,373`` (the share the server takes at 96k papers).

Lower is better for both; if MiniLM's are no worse than hashing's, the 96k figures measured on
hashing vectors are a fair guide for MiniLM indexes.

Usage::

    python benchmarks/shortlist_codes.py [--eval-dir ../shared/eval] [--papers 1500]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def probe(vectors: np.ndarray, queries: list[int], keep: int) -> tuple[float, int]:
    """Median relative error of the codes' cosines, and true top-10 papers outside their best ``keep``."""
    from paperlike.search.shortlist import DenseShortlist

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    shortlist = DenseShortlist.build(vectors)
    assert shortlist is not None, "too few papers to train the codes"
    errors, missed = [], 0
    for q in queries:
        true = vectors @ vectors[q]
        true[q] = -np.inf
        found = set(shortlist.nearest(vectors[q], keep + 1).tolist())
        missed += len(set(np.argsort(-true)[:10].tolist()) - found)
        scores, order = shortlist.codes.search(vectors[q : q + 1], len(vectors))
        approx = np.empty(len(vectors))
        approx[order[0]] = scores[0]
        ok = np.isfinite(true)
        errors.append(float(np.std(approx[ok] - true[ok]) / np.std(true[ok])))
    return float(np.median(errors)), missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir")
    parser.add_argument("--papers", type=int, default=1500)
    opts = parser.parse_args()

    import faiss

    from _data import acm_corpus, embed_cached, eval_dir_from
    from paperlike.embedding import HashingEmbedder, get_embedder

    faiss.omp_set_num_threads(1)
    corpus = acm_corpus(eval_dir_from(opts.eval_dir), progress=False)[0]
    texts = [p.text for p in corpus.papers[: opts.papers]]
    queries = random.Random(1).sample(range(len(texts)), min(200, len(texts)))
    keep = max(10, round(len(texts) * 700 / 96373))
    print(f"{len(texts)} ACM-CR papers, {len(queries)} queries, codes' best {keep}")
    for name, embedder in (("hashing", HashingEmbedder()), ("all-MiniLM-L6-v2", get_embedder("minilm"))):
        vectors, how = embed_cached(texts, embedder, f"acm-first-{len(texts)}")
        error, missed = probe(vectors, queries, keep)
        print(
            f"{name}: codes' error / cosine spread {error:.3f}; true top-10 papers outside: {missed} of {10 * len(queries)} ({how})"
        )


if __name__ == "__main__":
    main()
