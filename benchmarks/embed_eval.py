"""Fill the benchmarks' embedding cache for one model and one evaluation set, within a time budget.

The cache is per text (model identity, SHA-256 of the text; see ``_vector_store.py``), so the
run can stop at any point and the next one goes on where it stopped; ACM-CR-15k is a subset of
ACM-CR and shares its vectors. Slow models (mpnet, about 0.25 s an abstract on 2 cores) are filled
over several runs, e.g. in the background::

    nice python benchmarks/embed_eval.py --model all-mpnet-base-v2 --set acm15k --minutes 50

``--units`` embeds the sentence units (title + abstract sentences) instead of whole texts, for
late interaction. Prints what is cached, what is left, the wall time and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _late import units  # noqa: E402
from _vector_store import VectorStore  # noqa: E402


def set_texts(name: str, eval_dir, with_units: bool) -> tuple[list[str], list[str]]:
    """``(judged texts, all texts)`` of a set: the judged papers (ACM-CR queries and cited papers)
    are embedded first, so a partial cache still covers every judged item."""
    corpus, extra = _data.eval_set(name, eval_dir)
    judged = _data.judged_ids(name, extra)

    def of(papers) -> list[str]:
        return [u for p in papers for u in units(p.title, p.abstract)] if with_units else [p.text for p in papers]

    return of([p for p in corpus.papers if p.id in judged]), of(corpus.papers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="all-MiniLM-L6-v2", help="a name from paperlike's model registry")
    ap.add_argument("--set", dest="name", choices=_data.SETS, required=True)
    ap.add_argument("--units", action="store_true", help="sentence units instead of whole texts")
    ap.add_argument("--minutes", type=float, default=None, help="stop cleanly after about this long")
    ap.add_argument("--eval-dir", default=None)
    opts = ap.parse_args()
    from paperlike.embedding import get_embedder

    started = time.perf_counter()
    eval_dir = None if opts.name == "bundled" else _data.eval_dir_from(opts.eval_dir)
    judged, texts = set_texts(opts.name, eval_dir, opts.units)
    embedder = get_embedder(opts.model)
    store = VectorStore(_data.cache_dir(), embedder)
    before = len(store.missing(texts))
    budget = None if opts.minutes is None else opts.minutes * 60
    if judged:
        store.fill(judged, seconds=budget, desc=f"{opts.model} {opts.name} (judged)")
    spent = time.perf_counter() - started
    left = store.fill(texts, seconds=None if budget is None else max(budget - spent, 0), desc=f"{opts.model} {opts.name}")
    wall = time.perf_counter() - started
    done = before - left
    what = "units" if opts.units else "texts"
    print(
        f"{opts.model} on {opts.name} ({what}): {len(set(texts)) - left} of {len(set(texts))} distinct {what} cached, "
        f"{done} embedded now, {left} left; wall {wall:.0f} s; load {os.getloadavg()[0]:.1f}; cache {store.folder}"
    )


if __name__ == "__main__":
    main()
