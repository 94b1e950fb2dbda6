"""Which papers join a seeded theme: the seed scored like a short query, members above the
corpus's own background for it, and no members at all when nothing in the corpus is about it.

A seed (``distillation``, ``robot learning``) is a short query, so it is scored as one: the
z-score fusion of its cosine to each paper (the model's view) and its BM25 score (stemmed words,
so "distillation" meets "Distilling" and "DistilBERT"'s stem). A paper joins when

* there is evidence that it is about the seed: it names the seed (its words carry at least
  ``SEED_COVER`` of the seed's idf weight: "tax law" needs "tax", not just "law"), or its
  cosine to the seed is at least ``SEED_DENSE_FLOOR``; and
* its fused score stands out from the corpus's own background for the seed: at least ``SEED_Z``
  standard deviations above the mean of the papers *without* such evidence. (Measured against
  all papers instead, a seed that half the library is about could never keep half the library:
  a z-score threshold caps the share of members.)

The evidence condition is what keeps a seed about something absent from the corpus empty: its
best papers still stand out from the rest by z-score, but none names it and none is close. The
constants are chosen on the dev half of the PwC-areas seeds and reported on the test half by
``benchmarks/seed_themes.py``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SEED_Z", "SEED_DENSE_FLOOR", "SEED_DENSE_WEIGHT", "SEED_COVER", "seed_members"]

# Chosen on the dev half of the PwC-areas seeds (benchmarks/seed_themes.py, grid best).
SEED_Z = 2.0  # fused score this many std above the corpus's mean
SEED_DENSE_FLOOR = 0.45  # MiniLM cosine to the seed text that counts as evidence without a seed word
SEED_DENSE_WEIGHT = 0.7  # weight of the dense z-score in the fusion (the rest: BM25's)
SEED_COVER = 0.5  # share of the seed's idf weight a paper's words must carry to count as naming it


def _z(scores: np.ndarray) -> np.ndarray:
    std = float(scores.std())
    return (scores - scores.mean()) / std if std > 1e-12 else np.zeros_like(scores)


def seed_members(
    dense: np.ndarray,
    lexical: tuple[np.ndarray, np.ndarray] | None,
    *,
    z: float = SEED_Z,
    floor: float = SEED_DENSE_FLOOR,
    dense_weight: float = SEED_DENSE_WEIGHT,
    cover: float = SEED_COVER,
) -> tuple[np.ndarray, np.ndarray]:
    """``(positions, fused scores of every paper)`` of a seed's members, positions ascending.

    Args:
        dense: Cosine of every paper to the seed text.
        lexical: ``(BM25 score, idf-weighted share of the seed's terms)`` of every paper for the
            seed text (:meth:`LexicalIndex.scores`, :meth:`LexicalIndex.coverage`), or None
            (dense only: then only the floor is evidence).
    """
    dense = np.asarray(dense, dtype=np.float64)
    bm25, share = (np.zeros_like(dense), np.zeros_like(dense)) if lexical is None else lexical
    fused = dense_weight * _z(dense) + (1.0 - dense_weight) * _z(np.asarray(bm25, dtype=np.float64))
    evidence = (np.asarray(share) >= cover) | (dense >= floor)
    background = fused[~evidence] if (~evidence).sum() >= 2 else fused
    std = float(background.std())
    above = fused >= background.mean() + z * std if std > 1e-12 else fused > background.mean()
    if (~evidence).sum() < 2 and std <= 1e-12:
        above = np.ones(len(fused), dtype=bool)  # every paper names the seed, all alike: all belong
    return np.flatnonzero(above & evidence), fused
