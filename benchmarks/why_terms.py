"""How topical are the key terms of ``similar --why``? Two class-level proxies over every paper of an index.

Each paper of the index asks ``similar`` for its ``-k`` best answers with explanations; for the
key terms of every answer we report:

* **title share**: the share of key terms that are words of the query's or the answer's title
  (titles name topics; "typical", "techniques" or "needs" rarely appear in one);
* **corpus share**: the mean share of the corpus's papers that use the term (lower = rarer);
* **stop share**: the share that are English function words or abstract boilerplate
  (:mod:`paperlike.stopwords`).

Run it on the code before and after a change to the explanations (e.g. from a ``git worktree`` of
the older commit with ``PYTHONPATH``), on the same index. No model is loaded: paper queries need
none.

Usage::

    python benchmarks/why_terms.py --index-dir DIR [-k 5]
"""

from __future__ import annotations

import argparse
import os
import re
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("-k", type=int, default=5)
    args = ap.parse_args()
    from paperlike import Recommender
    from paperlike.stopwords import STOP_WORDS

    started = time.perf_counter()
    rec = Recommender.load(args.index_dir)
    lex = rec.lexical(save=False)
    df = np.diff(lex.indptr)
    words = re.compile(r"[a-z0-9]+")
    # Two fixed halves of the queries (seeded): a change is chosen on dev, reported on test.
    dev = set(np.random.default_rng(0).permutation(rec.index.count)[: rec.index.count // 2].tolist())
    tally = {"dev": np.zeros(4), "test": np.zeros(4)}
    for qpos, pid in enumerate(rec.index.ids):
        row = tally["dev" if qpos in dev else "test"]
        query_title = set(words.findall(rec.index.titles[rec.index.position(pid)].lower()))
        for r in rec.similar(pid, k=args.k, why=True):
            title = query_title | set(words.findall(r.title.lower()))
            for term in r.why.terms if r.why else ():
                ids = [t for t in lex.word_terms([term.lower()]) if t is not None]
                row += (
                    1,
                    any(w in title for w in words.findall(term.lower())),
                    float(df[ids[0]]) / lex.count if ids else 0.0,
                    term.lower() in STOP_WORDS,
                )
    print(
        f"{rec.index.count} queries x {args.k} answers (wall {time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.1f})"
    )
    for half, (total, in_title, shares, stops) in tally.items():
        n = max(total, 1)
        print(
            f"  {half:>4}: {total:.0f} key terms: title share {in_title / n:.3f}, corpus share {shares / n:.3f}, stop share {stops / n:.3f}"
        )


if __name__ == "__main__":
    main()
