"""Long texts as overlapping windows that each fit the model.

MiniLM reads at most 256 tokens (254 plus its two special tokens); a typical arXiv abstract is
longer, so a single vector ignores its end. ``split_windows`` cuts a text into windows of at most
that many tokens, each overlapping the next by half, at token boundaries of the model's own
tokenizer (so each window is a substring of the text and re-tokenises to at most the limit).
A text that already fits is one window: the text itself, so short papers keep their exact vector.

Embedders without a tokenizer (the hashing embedder) are cut at word boundaries instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["split_windows", "pool_windows"]

_WORD = re.compile(r"\S+")


def _spans(text: str, embedder) -> list[tuple[int, int]]:
    spans = getattr(embedder, "token_spans", None)
    if spans is not None:
        return spans(text)
    return [m.span() for m in _WORD.finditer(text)]


def _limit(embedder) -> int:
    # Two of the model's positions go to [CLS] and [SEP].
    return max(8, int(getattr(embedder, "max_seq_length", 256)) - 2)


def split_windows(text: str, embedder, overlap: float = 0.5) -> list[str]:
    """``text`` as windows that each fit ``embedder``'s input, overlapping by ``overlap``.

    Args:
        text: The text to cut.
        embedder: The embedder the windows are for (its ``token_spans`` and ``max_seq_length``).
        overlap: Share of a window repeated in the next one (0 <= overlap < 1).

    Returns:
        ``[text]`` when it fits, else the windows in order; the last one ends at the text's end.
    """
    if not 0 <= overlap < 1:
        raise ValueError("overlap must be in [0, 1)")
    spans = _spans(text, embedder)
    size = _limit(embedder)
    if len(spans) <= size:
        return [text]
    stride = max(1, int(size * (1 - overlap)))
    starts = list(range(0, len(spans) - size, stride)) + [len(spans) - size]
    return [text[spans[s][0] : spans[s + size - 1][1]] for s in starts]


def pool_windows(vectors: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """One unit vector per text: the normalised mean of its consecutive window vectors.

    Args:
        vectors: ``(sum(counts), dim)`` window vectors, texts in order.
        counts: Windows per text.
    """
    ends = np.cumsum(counts)
    if len(vectors) != (ends[-1] if len(ends) else 0):
        raise ValueError("window vectors and counts disagree")
    out = np.add.reduceat(vectors.astype(np.float64), ends - np.asarray(counts)) if len(ends) else vectors
    out /= np.asarray(counts, dtype=np.float64)[:, None]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out / np.where(norms > 0, norms, 1.0), dtype=np.float32)
