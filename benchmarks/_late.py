"""Sentence units of a paper, for sentence-level vectors and late interaction.

A paper's units are its title and the sentences of its abstract. Sentences are split after
``.``, ``!`` or ``?`` followed by white space and a capital letter or digit (so "e.g. the" and
"Fig. 3" mostly stay whole); fragments under 20 characters join the sentence before them, so
units carry enough words to embed.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["units", "MIN_UNIT"]

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
MIN_UNIT = 20


def units(title: str, abstract: str) -> list[str]:
    out = [title.strip()] if title.strip() else []
    for part in _SPLIT.split(abstract.strip()) if abstract.strip() else []:
        part = part.strip()
        if out and len(part) < MIN_UNIT and len(out) > 1:
            out[-1] = f"{out[-1]} {part}"
        elif part:
            out.append(part)
    return out or [title or abstract or " "]


def late_scores(query_units: np.ndarray, unit_vectors: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per paper: the mean over the query's units of their best cosine to any unit of the paper
    (the Aspire models' "mean of best matches"). ``owner[j]`` is the paper of unit row j."""
    sims = unit_vectors @ query_units.T  # (units, query units)
    best = np.full((n, sims.shape[1]), -1.0, dtype=np.float32)
    np.maximum.at(best, owner, sims)
    return best.mean(axis=1)
