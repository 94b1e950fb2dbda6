"""Seeded themes: which papers join a seed, and in which order?

Three ways to score a paper against a seed, all with the same membership rule (a paper joins
when its score is at least 1 std above the mean over all papers):

* ``centroid`` (paperlike before): papers that stand out against the seed text, then the
  centroid of those; members are both groups, scored by cosine to the centroid;
* ``seed text`` (the product): cosine to the seed text alone;
* ``mean of both``: mean of the cosine to the seed text and to that centroid.

PwC-areas (``../shared/eval``): each research area is a seed (its name, e.g. "computer vision";
"methodology" and "miscellaneous" are left out: they name no topic), and the papers of that area
are the relevant ones. Reported, averaged over the 14 areas: precision of the members, recall of
the members, precision of the first 10, and average precision of the whole ranking. Bundled 75:
the ranks of the three robot papers in a "robot learning" seed.

    python benchmarks/seed_themes.py [--eval-dir ../shared/eval] [--hashing]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

ROBOT_PAPERS = ["behavior-retrieval", "crossing-the-human-robot-embodiment-gap", "towards-passive-safe-reinforcement"]


def _stand_out(scores: np.ndarray) -> np.ndarray:
    from paperlike.themes.compute import _stand_out

    return _stand_out(scores)


def variants(x: np.ndarray, seed: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (member positions, score of every paper)."""
    from paperlike.themes.compute import seed_scores

    to_seed = x @ seed
    first = _stand_out(to_seed)
    centroid = x[first].mean(axis=0)
    centroid /= np.linalg.norm(centroid)
    to_centroid = x @ centroid
    blend = (to_seed + to_centroid) / 2
    _, product = seed_scores(x, seed)
    return {
        "centroid (before)": (np.union1d(first, _stand_out(to_centroid)), to_centroid),
        "seed text (product)": (_stand_out(product), product),
        "mean of both": (_stand_out(blend), blend),
    }


def average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = relevant[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / max(hits.sum(), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", default=None)
    parser.add_argument("--hashing", action="store_true", help="hashing embedder instead of MiniLM")
    parser.add_argument("--skip-pwc", action="store_true", help="only the bundled 75 papers")
    opts = parser.parse_args()
    from paperlike.embedding import HashingEmbedder, MiniLMEmbedder
    from paperlike.readers import bundled_corpus

    embedder = HashingEmbedder() if opts.hashing else MiniLMEmbedder()
    print(f"vectors: {'hashing embedder' if opts.hashing else 'MiniLM (all-MiniLM-L6-v2)'}")
    corpus = bundled_corpus()
    x, how = _data.embed_cached([p.text for p in corpus.papers], embedder, "bundled-product")
    ids = [p.id for p in corpus.papers]
    print(f"bundled 75: {how}")
    seed = embedder.embed_batch(["robot learning"])[0]
    print("\n| bundled 75, seed 'robot learning' | members | ranks of the 3 robot papers (0 = not a member) |")
    print("| --- | --- | --- |")
    for name, (members, scores) in variants(x, seed).items():
        ranked = sorted(members.tolist(), key=lambda i: (-scores[i], i))
        ranks = [ranked.index(ids.index(r)) + 1 if ids.index(r) in ranked else 0 for r in ROBOT_PAPERS]
        print(f"| {name} | {len(ranked)} | {ranks} |")
    if opts.skip_pwc:
        return

    pwc, rows = _data.pwc_corpus(_data.eval_dir_from(opts.eval_dir))
    x, how = _data.embed_cached([p.text for p in pwc.papers], embedder, "pwc-areas-product")
    print(f"\nPwC-areas: {how}")
    areas = np.asarray([rows[int(p.id.split("-")[1])]["area"] for p in pwc.papers])
    names = sorted(set(areas) - {"methodology", "miscellaneous"})
    seeds = embedder.embed_batch([a.replace("-", " ") for a in names])
    table: dict[str, list[list[float]]] = {}
    for area, vec in zip(names, seeds):
        relevant = areas == area
        for name, (members, scores) in variants(x, vec).items():
            top10 = np.argsort(-scores, kind="stable")[:10]
            table.setdefault(name, []).append(
                [
                    float(relevant[members].mean()),
                    float(relevant[members].sum() / relevant.sum()),
                    float(relevant[top10].mean()),
                    average_precision(scores, relevant),
                    float(len(members)),
                ]
            )
    print(f"\n| PwC-areas, {len(names)} area names as seeds | member precision | member recall | precision@10 | AP | members |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, values in table.items():
        m = np.mean(values, axis=0)
        print(f"| {name} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} | {m[3]:.3f} | {m[4]:.0f} |")


if __name__ == "__main__":
    main()
