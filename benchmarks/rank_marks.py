"""Do the reader's marks help ``paperlike rank``? A two-day simulation on ACM-CR's rank stream.

The queries, libraries and streams are ``rank_stream.py``'s (each ACM-CR query paper: its library
is a random half of its citations, its stream the other half plus 1,000 random corpus papers).
Each stream is cut in two days at random (seeded). On day 1 the product ranks the day's papers
and a simulated reader looks at the first ``--shown`` (20) and marks each: liked when it is a
held-out citation, not liked otherwise. Day 2 is ranked three ways, each scored on day 2's own
held-out citations (recall@50, MAP):

* today's default (the marks ignored);
* the default steered by the marks, ``score + a x (cosine to the nearest liked) - b x (cosine to
  the nearest not liked)`` (:func:`paperlike.search.marks.steer`) for each ``(a, b)`` of a grid
  (``b = 0``: the not-liked marks ignored);
* the liked papers added to the library (the marks' other obvious use), not-liked ones ignored.

``(a, b)`` is chosen on the dev half of the queries (``rank_stream.split_halves``), reported on the test half, baselines in
the same run. Queries with no held-out citation on day 2 (or none shown on day 1) count as they
are: a query whose day 1 showed nothing relevant gets only not-liked marks.

Usage::

    python benchmarks/rank_marks.py [--eval-dir ../shared/eval] [--pool 2000] [--seed 0] [--shown 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import embed_cached, eval_dir_from  # noqa: E402
from paperlike.embedding import get_embedder  # noqa: E402
from paperlike.search.marks import DISLIKE_WEIGHT, LIKE_WEIGHT, steer  # noqa: E402
from paperlike.search.stream import DEFAULT_STREAM_METHOD, stream_scores, tfidf_topk_scores  # noqa: E402
from rank_stream import STREAM_RANDOM, load_data, metrics, split_halves  # noqa: E402

LIKE_WEIGHTS = (0.25, 0.5, 1.0, 2.0)
DISLIKE_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0)


def _default(lib_v, lib_t, day_v, day_t) -> np.ndarray:
    return np.asarray(stream_scores(DEFAULT_STREAM_METHOD, day_v, lib_v, lexical=lambda: tfidf_topk_scores(lib_t, day_t)), float)


def evaluate(data, vectors: np.ndarray, seed: int, shown: int) -> dict[str, list[tuple[float, float]]]:
    rows: dict[str, list[tuple[float, float]]] = {}
    for qi, (_doi, lib, held) in enumerate(data.splits):
        rng = np.random.default_rng([seed, qi, 1])  # the same stream as rank_stream.py
        noise = [data.pool[i] for i in sorted(rng.choice(len(data.pool), size=STREAM_RANDOM, replace=False))]
        stream = np.asarray(held + noise)
        relevant = np.r_[np.ones(len(held), bool), np.zeros(len(noise), bool)]
        day = np.random.default_rng([seed, qi, 3]).random(len(stream)) < 0.5
        d1, d2 = stream[day], stream[~day]
        rel1, rel2 = relevant[day], relevant[~day]
        if not rel2.any():
            continue  # nothing to find on day 2
        lib_v, lib_t = vectors[lib], [data.texts[i] for i in lib]
        t1, t2 = [data.texts[i] for i in d1], [data.texts[i] for i in d2]
        first = _default(lib_v, lib_t, vectors[d1], t1)
        top = np.argsort(-first, kind="stable")[:shown]
        liked, disliked = d1[top[rel1[top]]], d1[top[~rel1[top]]]
        base = _default(lib_v, lib_t, vectors[d2], t2)
        score = {"today's default (no marks)": base}
        for a in LIKE_WEIGHTS:
            for b in DISLIKE_WEIGHTS:
                score[f"steered, a={a:g} b={b:g}"] = steer(base, vectors[d2], vectors[liked], vectors[disliked], a, b)
        grown = np.r_[lib, liked].astype(int)
        score["liked papers added to the library"] = _default(vectors[grown], [data.texts[i] for i in grown], vectors[d2], t2)
        for name, s in score.items():
            rows.setdefault(name, []).append(metrics(np.asarray(s, float), rel2, [seed, qi, 4]))
        rows.setdefault("_shown_relevant", []).append((float(rel1[top].sum()), float(len(top))))
    return rows


def report(rows: dict, seed: int, header: str) -> str:
    shown = np.asarray(rows.pop("_shown_relevant"))
    n = len(next(iter(rows.values())))
    dev, test = split_halves(n, seed)
    table = {name: np.asarray(v) for name, v in rows.items()}
    best = max((k for k in table if k.startswith("steered")), key=lambda k: table[k][dev, 1].mean())
    lines = [header, "", "| day 2 ranked by | dev R@50 | dev MAP | test R@50 | test MAP |", "| --- | --- | --- | --- | --- |"]
    for name, arr in table.items():
        star = " (best dev MAP)" if name == best else ""
        cells = [arr[dev, 0].mean(), arr[dev, 1].mean(), arr[test, 0].mean(), arr[test, 1].mean()]
        lines.append(f"| {name}{star} | " + " | ".join(f"{x:.3f}" for x in cells) + " |")
    base = table["today's default (no marks)"]
    diff = table[best][test, 1] - base[test, 1]
    boot = np.random.default_rng(seed).integers(0, len(diff), (2000, len(diff)))
    lo, hi = np.percentile(diff[boot].mean(axis=1), [2.5, 97.5])
    lines += [
        "",
        f"day 1: {shown[:, 0].sum():.0f} of {shown[:, 1].sum():.0f} shown papers were held-out citations (liked); the rest not liked",
        f"best dev MAP among the steered weights: {best}; the product's: a = LIKE_WEIGHT = {LIKE_WEIGHT:g}, "
        f"b = DISLIKE_WEIGHT = {DISLIKE_WEIGHT:g}",
        f"test MAP {table[best][test, 1].mean():.3f} vs today's default {base[test, 1].mean():.3f} "
        f"(paired bootstrap 95% interval of the difference: {lo:+.3f}..{hi:+.3f})",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir")
    ap.add_argument("--pool", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shown", type=int, default=20, help="papers the simulated reader looks at (and marks) on day 1")
    args = ap.parse_args()
    started = time.perf_counter()
    data = load_data(eval_dir_from(args.eval_dir), args.pool, args.seed)
    vectors, how = embed_cached(data.texts, get_embedder(), "rank-stream")
    print(f"vectors: {how}", file=sys.stderr)
    rows = evaluate(data, vectors, args.seed, args.shown)
    header = (
        f"ACM-CR two-day triage: {len(rows['_shown_relevant'])} queries with a held-out citation on day 2; reader marks the "
        f"first {args.shown} of day 1; MiniLM; wall {time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.1f}"
    )
    print(report(rows, args.seed, header))


if __name__ == "__main__":
    main()
