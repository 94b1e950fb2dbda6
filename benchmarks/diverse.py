"""``--diverse`` on PwC-areas: how MMR's balance trades relevance for variety, dev half / test half.

Every paper of PwC-areas is a query ("papers like this one", the product's hybrid scores through
``paperlike.search.scoring.score_query``); ``--diverse`` re-ranks the best 50 with maximal marginal
relevance, ``lam * relevance - (1 - lam) * max cosine to the papers already picked``
(``paperlike.search.scoring.mmr``). For each ``lam`` it prints, on the top 10:

* relevance: task-P@10 and area-P@10 (share of results with the query's task / research area);
* variety: the number of distinct tasks among the results of the query's area (different
  problems of the same field: what a user asking for variety wants), and 1 - the mean pairwise
  cosine of the results.

The product's ``lam`` (``MMR_LAMBDA``) is chosen on the dev half by one rule written before the
run: the most diverse ``lam`` (smallest) whose dev area-P@10 stays within 0.02 of the plain
ranking's (a diverse list may change tasks, but should stay in the field). The test half shows
what that choice gives. Vectors come from the benchmarks' cache (``embed_eval.py --set pwc``).

Usage::

    python benchmarks/diverse.py [--eval-dir ../shared/eval]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _vector_store import VectorStore  # noqa: E402
from ranking import is_dev  # noqa: E402

LAMBDAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
POOL, K = 50, 10
AREA_LOSS = 0.02  # the rule: most diverse lam within this much dev area-P@10 of the plain ranking


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", default=None)
    opts = ap.parse_args()
    from paperlike.embedding import get_embedder
    from paperlike.search.lexical import build_lexical
    from paperlike.search.scoring import MMR_LAMBDA, mmr, score_query, top_k

    started = time.perf_counter()
    corpus, rows = _data.pwc_corpus(_data.eval_dir_from(opts.eval_dir))
    texts = [p.text for p in corpus.papers]
    store = VectorStore(_data.cache_dir(), get_embedder("all-MiniLM-L6-v2"))
    if store.missing(texts):
        raise SystemExit("MiniLM vectors of PwC-areas not cached: run benchmarks/embed_eval.py --set pwc first")
    V = store.get(texts)
    lex = build_lexical(texts)
    task = np.array([rows[int(p.id.split("-")[1])]["task_id"] for p in corpus.papers])
    area = np.array([rows[int(p.id.split("-")[1])]["area"] for p in corpus.papers])
    figures: dict[str, dict[float, list[list[float]]]] = {
        "dev": {lam: [] for lam in LAMBDAS},
        "test": {lam: [] for lam in LAMBDAS},
    }
    for q, paper in enumerate(corpus.papers):
        mask = np.ones(len(texts), bool)
        mask[q] = False
        scores = score_query("paper", V @ V[q], lex.tfidf_paper_scores([q]), mask)
        pool = top_k(scores, POOL, within=mask)
        half = "dev" if is_dev(paper.id) else "test"
        for lam in LAMBDAS:
            picked = np.array(mmr(pool, scores[pool], V[pool], K, lam))
            same_area = picked[area[picked] == area[q]]
            sims = V[picked] @ V[picked].T
            spread = 1 - (sims.sum() - len(picked)) / (len(picked) * (len(picked) - 1))
            figures[half][lam].append(
                [(task[picked] == task[q]).mean(), (area[picked] == area[q]).mean(), len(set(task[same_area])), spread]
            )
    means = {h: {lam: np.mean(v, axis=0) for lam, v in per.items()} for h, per in figures.items()}
    plain = means["dev"][1.0][1]
    chosen = min(lam for lam in LAMBDAS if means["dev"][lam][1] >= plain - AREA_LOSS)
    print(
        f"PwC-areas, {len(texts)} paper queries ({len(figures['dev'][1.0])} dev / {len(figures['test'][1.0])} test), top {K} of the best {POOL}"
    )
    print(
        "| lam | dev task-P@10 | dev area-P@10 | dev tasks in area | dev 1 - mean cos | test task-P@10 | test area-P@10 | test tasks in area | test 1 - mean cos |"
    )
    print("| --- " * 9 + "|")
    for lam in LAMBDAS:
        d, t = means["dev"][lam], means["test"][lam]
        mark = " (chosen on dev)" if lam == chosen else " (plain ranking)" if lam == 1.0 else ""
        mark += " (product)" if lam == MMR_LAMBDA else ""
        print(f"| {lam}{mark} | " + " | ".join(f"{x:.4f}" for x in (*d, *t)) + " |")
    print(f"\nrule: the smallest lam whose dev area-P@10 is within {AREA_LOSS} of the plain ranking's ({plain:.4f}): {chosen}")
    print(f"wall {time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
