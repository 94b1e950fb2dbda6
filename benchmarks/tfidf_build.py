"""Time and peak memory of building the TF-IDF side of hybrid ranking at N papers.

The papers are made of PwC-areas' BM25 tokens (../shared/eval/pwc-areas): the 5,250 papers are
repeated until there are N, and each copy renames a random quarter of the vocabulary, so copies
bring new words and new word pairs as new papers would (a plain repeat would add none). Prints
the build's wall time, the process's peak RSS before and after (the tokens themselves are in the
"before"), the machine's load, and the index's size. One size per run, in a fresh process::

    python benchmarks/tfidf_build.py --n 300000
    python benchmarks/tfidf_build.py --n 1000000 --chunk 50000
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

import _data


def tokens(n: int, eval_dir) -> tuple[np.ndarray, np.ndarray, int]:
    from paperlike.search.lexical import build_lexical

    corpus, _ = _data.pwc_corpus(eval_dir)
    lex = build_lexical([p.text for p in corpus.papers])
    terms, offsets, cols = lex.doc_terms.astype(np.int64), lex.doc_offsets, len(lex.indptr) - 1
    rng = np.random.default_rng(0)
    copies = -(-n // (len(offsets) - 1))
    renamed = cols // 4
    all_terms, all_offsets, base = [], [np.zeros(1, np.int64)], 0
    for c in range(copies):
        perm = np.arange(cols)
        perm[rng.choice(cols, renamed, replace=False)] = cols + c * renamed + np.arange(renamed)
        all_terms.append(perm[terms])
        all_offsets.append(offsets[1:] + base)
        base += len(terms)
    offsets_n = np.concatenate(all_offsets)[: n + 1]
    return np.concatenate(all_terms)[: offsets_n[-1]].astype(np.int32), offsets_n, cols + copies * renamed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=None, help="papers a pass takes at a time (default: the product's)")
    ap.add_argument("--eval-dir", default=None)
    opts = ap.parse_args()
    from paperlike.search.tfidf import build_tfidf

    terms, offsets, columns = tokens(opts.n, _data.eval_dir_from(opts.eval_dir))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    started = time.perf_counter()
    index = build_tfidf(terms, offsets, columns, **({"chunk": opts.chunk} if opts.chunk else {}))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(
        f"{opts.n} papers: build_tfidf {seconds:.1f} s, peak RSS {peak:.2f} GB (before {before:.2f} GB); "
        f"{len(index.keys)} features, {len(index.data)} weights; load {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
