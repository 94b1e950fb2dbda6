"""Near-duplicates: different records whose vectors are nearly the same (listed, never merged)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NearDuplicate", "near_duplicates"]


@dataclass(frozen=True)
class NearDuplicate:
    """Two different records whose texts are nearly the same."""

    a: str
    b: str
    score: float
    title_a: str
    title_b: str

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "score": round(self.score, 6), "title_a": self.title_a, "title_b": self.title_b}


def near_duplicates(index, threshold: float = 0.95, neighbours: int = 5) -> list[NearDuplicate]:
    """Pairs of indexed papers whose vectors have cosine >= ``threshold``, best first.

    Args:
        index: A loaded :class:`~paperlike.index.PaperIndex`.
        threshold: Cosine similarity at or above which a pair is listed.
        neighbours: Nearest neighbours examined per paper.
    """
    vectors = index.all_vectors()
    scores, positions = index.search(vectors, min(neighbours + 1, index.count))
    pairs: dict[tuple[int, int], float] = {}
    for i in range(index.count):
        for score, j in zip(scores[i], positions[i]):
            if j < 0 or j == i or score < threshold:
                continue
            key = (min(i, int(j)), max(i, int(j)))
            pairs[key] = max(pairs.get(key, -1.0), float(score))
    ordered = sorted(pairs.items(), key=lambda kv: (-round(kv[1], 9), kv[0]))
    return [NearDuplicate(index.ids[a], index.ids[b], s, index.titles[a], index.titles[b]) for (a, b), s in ordered]
