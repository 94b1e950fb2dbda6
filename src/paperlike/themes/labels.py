"""Theme labels: class-based TF-IDF over each theme's papers, phrases without near-duplicates."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..stopwords import STOP_WORDS

__all__ = ["label_terms", "LABEL_DOCS"]


# The tokeniser for label phrases, and only for them: words as a reader writes them (lower case,
# hyphenated compounds such as "task-agnostic" kept whole, no stemming), since labels are shown.
# Ranking uses BM25's tokeniser (search/lexical.py: stop words, Snowball stems), and explanations
# (search/explain.py) split words only to look them up in BM25's vocabulary; ids use text.slugify.
_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def stop_words() -> frozenset[str]:
    return STOP_WORDS


def _phrases(text: str, stop: frozenset[str]) -> list[str]:
    """Unigrams and bigrams of adjacent words, none of them a stop word."""
    tokens = _WORD.findall(text.lower())
    keep = [t if t not in stop and len(t) > 2 else None for t in tokens]
    out = [t for t in keep if t]
    out += [f"{a} {b}" for a, b in zip(keep, keep[1:]) if a and b and a != b]
    return out


def _stem(word: str) -> str:
    """Crude stem, enough to see "expert"/"experts" and "llm"/"llms" as one phrase."""
    for suffix in ("ies", "es", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if word.endswith("s") and not word.endswith("ss") and len(word) >= 4:
        return word[:-1]
    return word


def near_duplicate(a: str, b: str) -> bool:
    sa, sb = {_stem(w) for w in a.split()}, {_stem(w) for w in b.split()}
    return sa <= sb or sb <= sa


def label_terms(groups: Sequence[Sequence[str]], n_terms: int = 3, *, min_members: int = 2) -> list[list[str]]:
    """Class-based TF-IDF: the phrases that distinguish each theme's papers from the others'.

    ``groups`` holds each theme's member texts. A label names what the theme is about, so a
    phrase is a label phrase only when at least ``min_members`` of the theme's papers use it
    (all of them in a smaller theme): a word that one paper repeats ("chatdit", a system's
    name) says nothing of the others. ``min_members=1`` is plain c-TF-IDF over the joined text.
    """
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import CountVectorizer

    stop = stop_words()
    texts = [text for group in groups for text in group]
    vectorizer = CountVectorizer(analyzer=lambda text: _phrases(text, stop), min_df=1)
    try:
        per_doc = vectorizer.fit_transform(texts).astype(np.float64)
    except ValueError:  # no phrase at all in any theme
        return [[] for _ in groups]
    sizes = [len(group) for group in groups]
    owner = np.repeat(np.arange(len(groups)), sizes)
    to_group = csr_matrix((np.ones(len(texts)), (owner, np.arange(len(texts)))), shape=(len(groups), len(texts)))
    counts = (to_group @ per_doc).tocsr()  # the theme's joined text, as before
    members = (to_group @ (per_doc > 0).astype(np.float64)).tocsr()  # papers of the theme using each phrase
    vocab = np.array(vectorizer.get_feature_names_out())
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    freq = np.asarray(counts.sum(axis=0)).ravel()
    avg_words = float(counts.sum()) / max(len(groups), 1)
    idf = np.log(1.0 + avg_words / np.maximum(freq, 1))
    weights = tf.multiply(idf).tocsr()
    labels = []
    for row in range(weights.shape[0]):
        data, cols = weights[row].data, weights[row].indices
        needed = min(min_members, sizes[row])
        used_by = np.asarray(members[row, cols].todense()).ravel() if len(cols) else np.zeros(0)
        # Highest weight first; ties broken alphabetically so labels never change between runs.
        order = sorted(range(len(cols)), key=lambda i: (-round(float(data[i]), 12), vocab[cols[i]]))
        chosen: list[str] = []
        for i in order:
            term = str(vocab[cols[i]])
            if used_by[i] < needed:
                continue
            if counts[row, cols[i]] < 2 and len(chosen) > 0:
                continue  # a phrase seen once is noise, unless nothing else exists
            if any(near_duplicate(term, c) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n_terms:
                break
        labels.append(chosen)
    return labels


LABEL_DOCS = 400
