"""The key terms of ``--why`` name the topic: words of no topic (function words, abstract
boilerplate) are never key terms, and the query's recurring subject comes before its asides."""

from __future__ import annotations

from paperlike.embedding import HashingEmbedder
from paperlike.records import Corpus, Paper
from paperlike.service.build import build_index
from paperlike.service.incoming import rank_batch
from paperlike.service.recommender import Recommender
from paperlike.stopwords import ACADEMIC_STOP_WORDS, ENGLISH_STOP_WORDS, STOP_WORDS, is_stop_word

BOILER = "We introduce a novel approach within this paper and the code is available, showing effectiveness."
PAPERS = [
    Paper(
        "q",
        "Distillation of transformers",
        f"Distillation compresses a teacher. Distillation of transformers is typical. {BOILER}",
    ),
    Paper("r", "Distillation for speech models", f"Distillation of speech transformers with a typical teacher. {BOILER}"),
    *[Paper(f"o{i}", f"Unrelated topic number {i} on graphs", f"Graphs and nodes {i}. {BOILER}") for i in range(6)],
]


def _rec(tmp_path):
    build_index(Corpus(PAPERS, "t"), HashingEmbedder(), tmp_path / "idx")
    return Recommender.load(tmp_path / "idx", embedder=HashingEmbedder())


def test_similar_why_prefers_the_subject_and_drops_boilerplate(tmp_path):
    rec = _rec(tmp_path)
    results = rec.similar("q", k=len(PAPERS) - 1, why=True)
    by_id = {r.id: r for r in results}
    terms = by_id["r"].why.terms
    assert terms[0].startswith("distil")  # used three times by the query, "typical" once
    for r in results:
        assert not any(is_stop_word(t) for t in r.why.terms), (r.id, r.why.terms)


def test_rank_why_drops_boilerplate_too(tmp_path):
    rec = _rec(tmp_path)
    new = [Paper("n", "Distillation of transformers again", f"Distillation with a teacher. {BOILER}")]
    ranked = rank_batch(rec, new, why=True)
    assert ranked[0].why.terms and not any(is_stop_word(t) for t in ranked[0].why.terms)


def test_stop_word_lists():
    assert {"introduce", "available", "novel", "approach"} <= ACADEMIC_STOP_WORDS
    assert {"within", "the", "between"} <= ENGLISH_STOP_WORDS and len(ENGLISH_STOP_WORDS) == 318
    assert STOP_WORDS == ENGLISH_STOP_WORDS | ACADEMIC_STOP_WORDS
    assert is_stop_word("2024") and not is_stop_word("distillation")
    assert is_stop_word("typically") and is_stop_word("empirically") and not is_stop_word("anomaly")
