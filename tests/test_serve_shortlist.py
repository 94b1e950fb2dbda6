"""The server's shortlist ranking finds what only BM25 finds.

With the hashing embedder, the model's cosine and BM25 carry the same signal, so a shortlist of
the nearest papers by cosine alone already holds BM25's best, and a shortlist that lost its BM25
candidates went unnoticed. Here the stored vectors are noise: a query for a rare term can only
find its papers through BM25, and the served answers must still be the exact ranking's.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from paperlike.embedding import HashingEmbedder  # noqa: E402
from paperlike.service import Recommender  # noqa: E402
from paperlike.web import create_app  # noqa: E402
from paperlike.web.generations import Library  # noqa: E402
from serve_support import client  # noqa: E402
from test_shortlist import synthetic_index  # noqa: E402


class NoiseEmbedder(HashingEmbedder):
    """The hashing model's identity, with a vector that says nothing of the text: a unit vector
    drawn from a generator seeded by the text's hash (deterministic)."""

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        vec = np.random.default_rng(seed).standard_normal(self.dim)
        return vec / np.linalg.norm(vec)


@pytest.fixture(scope="module")
def noisy_dir(tmp_path_factory):
    return synthetic_index(tmp_path_factory.mktemp("noisy"), NoiseEmbedder())


@pytest.fixture(scope="module")
def served(noisy_dir):
    """The web app over the index, ranking through a shortlist (as it does above 50,000 papers)."""
    library = Library(noisy_dir)
    library.open()
    assert library.current().rec.use_shortlist(min_papers=0)
    return client(create_app(library=library))


def _holders(rec: Recommender, term: str) -> set[str]:
    words = re.compile(rf"\b{term}\b", re.IGNORECASE)
    return {pid for pid, p in zip(rec.index.ids, rec.index.papers()) if words.search(f"{p.title} {p.abstract}")}


def test_rare_terms_are_found_through_bm25_as_the_exact_ranking_finds_them(noisy_dir, served):
    exact = Recommender.load(noisy_dir)
    assert exact._shortlist is None  # 2,000 papers: ranked over every paper
    differ = []
    terms = [f"term{i}" for i in range(50)]
    for term in terms:
        want = exact.similar_to_text(term, k=10)
        # The exact ranking puts a paper with the term first (through BM25: the cosine is noise).
        assert want[0].id in _holders(exact, term), term
        got = served.get("/api/text", params={"q": term, "k": 10}).json()["results"]
        same_scores = np.allclose([r["score"] for r in got], [r.score for r in want], atol=1e-6)
        if [r["id"] for r in got] != [r.id for r in want] or not same_scores:
            differ.append(term)
    assert differ == [], f"{len(differ)} of {len(terms)} answers differ from the exact ranking"
