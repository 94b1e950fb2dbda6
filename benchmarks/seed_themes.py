"""Seeded themes: which papers join a seed? Per-area precision, recall and F1 on PwC-areas.

Each PwC research area's name is a seed ("computer vision", "speech"...; "methodology" and
"miscellaneous" are left out: they name no topic) and the papers of that area are its relevant
ones. The areas are split once into a dev half and a test half by a hash of their name; the
product's constants (``paperlike.themes.seeds``) are chosen on the dev half (the grid below) and
every row is reported on both halves, with macro F1 over the areas.

Rows:
  zero-shot            each paper goes to its most similar seed (cosine), the baseline
  seed text z>=1       the product before: cosine to the seed text, members 1 std above the mean
  product              ``seed_members`` with the constants the product uses
  hybrid, grid         the best of the grid on dev (what the product's constants should be)

Negative check: seeds for topics absent from PwC-areas must get no members (zero-shot, which
must put every paper somewhere, is run with them among the seeds); the titles of any member the
product finds are printed, so a topic the corpus does hold (a volcano paper) shows as such. Bundled 75: the members of
``distillation`` and where the distillation papers rank.

    python benchmarks/seed_themes.py [--eval-dir ../shared/eval]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

ABSENT = ("volcano eruptions", "bread baking", "wine tasting", "medieval castles", "knitting patterns", "plate tectonics")
GRID = {
    "z": (0.5, 1.0, 1.5, 2.0),
    "floor": (0.3, 0.35, 0.4, 0.45, 0.5),
    "dense_weight": (0.3, 0.5, 0.7),
    "cover": (0.5, 0.6, 0.8, 1.0),
}


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


DEV: set[str] = set()


def is_dev(name: str) -> bool:
    return name in DEV


def prf(members: np.ndarray, relevant: np.ndarray) -> tuple[float, float, float]:
    hit = relevant[members].sum()
    p = hit / len(members) if len(members) else 0.0
    r = hit / relevant.sum()
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def table_rows(method_members: dict[str, dict[str, np.ndarray]], areas: np.ndarray, names: list[str]) -> None:
    print("| method | dev macro F1 | test macro F1 | test precision | test recall | test members / area |")
    print("| --- | --- | --- | --- | --- | --- |")
    for method, per_area in method_members.items():
        dev = [prf(per_area[a], areas == a) for a in names if is_dev(a)]
        test = [prf(per_area[a], areas == a) for a in names if not is_dev(a)]
        size = np.mean([len(per_area[a]) for a in names if not is_dev(a)])
        print(
            f"| {method} | {np.mean([f for *_, f in dev]):.3f} | {np.mean([f for *_, f in test]):.3f} | "
            f"{np.mean([p for p, *_ in test]):.3f} | {np.mean([r for _, r, _ in test]):.3f} | {size:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", default=None)
    opts = parser.parse_args()
    started = time.perf_counter()
    from paperlike.embedding import MiniLMEmbedder
    from paperlike.readers import bundled_corpus
    from paperlike.search.lexical import build_lexical
    from paperlike.themes.compute import _stand_out
    from paperlike.themes.seeds import SEED_COVER, SEED_DENSE_FLOOR, SEED_DENSE_WEIGHT, SEED_Z, seed_members

    embedder = MiniLMEmbedder()
    pwc, rows = _data.pwc_corpus(_data.eval_dir_from(opts.eval_dir))
    x, how = _data.embed_cached([p.text for p in pwc.papers], embedder, "pwc-areas-product")
    lex = build_lexical([p.text for p in pwc.papers])
    areas = np.asarray([rows[int(p.id.split("-")[1])]["area"] for p in pwc.papers])
    names = sorted(set(areas) - {"methodology", "miscellaneous"})
    DEV.update(sorted(names, key=_hash)[::2])  # every other area in hash order: 7 dev, 7 test
    seed_texts = [a.replace("-", " ") for a in names]
    vecs, _ = _data.embed_cached(seed_texts + list(ABSENT), embedder, "seeds")
    cos = {t: x @ v for t, v in zip(seed_texts + list(ABSENT), vecs)}
    bm25 = {t: (lex.scores(t), lex.coverage(t)) for t in seed_texts + list(ABSENT)}
    print(f"PwC-areas: {len(pwc.papers)} papers, {len(names)} area seeds ({sum(map(is_dev, names))} dev); vectors: {how}")

    zero = np.argmax(np.stack([cos[t] for t in seed_texts]), axis=0)
    methods: dict[str, dict[str, np.ndarray]] = {
        "zero-shot (most similar seed)": {a: np.flatnonzero(zero == i) for i, a in enumerate(names)},
        "seed text z>=1 (before)": {a: _stand_out(cos[t]) for a, t in zip(names, seed_texts)},
        "product": {a: seed_members(cos[t], bm25[t])[0] for a, t in zip(names, seed_texts)},
    }

    def dev_f1(params: dict) -> float:
        return float(
            np.mean(
                [prf(seed_members(cos[t], bm25[t], **params)[0], areas == a)[2] for a, t in zip(names, seed_texts) if is_dev(a)]
            )
        )

    grid = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    best = max(grid, key=lambda p: (dev_f1(p), -grid.index(p)))
    methods[f"hybrid, grid best on dev {best}"] = {a: seed_members(cos[t], bm25[t], **best)[0] for a, t in zip(names, seed_texts)}
    print(f"product constants: z={SEED_Z}, floor={SEED_DENSE_FLOOR}, dense_weight={SEED_DENSE_WEIGHT}, cover={SEED_COVER}\n")
    table_rows(methods, areas, names)

    # "Absent" is a claim about the corpus: a member's title shows whether the topic is there after all.
    print(
        "\n| absent topic (negative check) | product members | seed text z>=1 members | zero-shot papers given to it "
        "| the product's members (3 at most) |"
    )
    print("| --- | --- | --- | --- | --- |")
    zero_all = np.argmax(np.stack([cos[t] for t in seed_texts + list(ABSENT)]), axis=0)
    for j, t in enumerate(ABSENT):
        members = seed_members(cos[t], bm25[t])[0]
        titles = "; ".join(pwc.papers[i].title[:70].replace("|", "/") for i in members[:3].tolist())
        print(f"| {t} | {len(members)} | {len(_stand_out(cos[t]))} | {int((zero_all == len(seed_texts) + j).sum())} | {titles} |")

    corpus = bundled_corpus()
    bx, _ = _data.embed_cached([p.text for p in corpus.papers], embedder, "bundled-product")
    blex = build_lexical([p.text for p in corpus.papers])
    (sv,), _ = _data.embed_cached(["distillation"], embedder, "seeds")
    members, scores = seed_members(bx @ sv, (blex.scores("distillation"), blex.coverage("distillation")))
    order = sorted(members.tolist(), key=lambda i: -scores[i])
    print("\nbundled 75, seed 'distillation': members best first:\n")
    for i in order:
        print(f"- {scores[i]:.2f}  {corpus.papers[i].title[:90]}")
    print(f"\nwall {time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
