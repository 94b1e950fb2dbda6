"""Theme labels: class-based TF-IDF over each theme's papers, phrases without near-duplicates."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["label_terms", "LABEL_DOCS"]


_ACADEMIC_STOP = {
    "paper",
    "papers",
    "propose",
    "proposed",
    "proposes",
    "approach",
    "approaches",
    "method",
    "methods",
    "result",
    "results",
    "show",
    "shows",
    "shown",
    "demonstrate",
    "demonstrates",
    "based",
    "using",
    "use",
    "used",
    "uses",
    "new",
    "novel",
    "work",
    "works",
    "present",
    "presents",
    "introduce",
    "introduces",
    "achieve",
    "achieves",
    "achieved",
    "existing",
    "extensive",
    "experiments",
    "experimental",
    "significantly",
    "respectively",
    "et",
    "al",
    "github",
    "com",
    "https",
    "http",
    "www",
    "code",
    "available",
    "furthermore",
    "moreover",
    "however",
    "various",
    "different",
    "state",
    "art",
    "study",
    "task",
    "tasks",
    "able",
    "via",
    "make",
    "makes",
    "including",
    "number",
    "large",
    "small",
    "high",
    "low",
    "improve",
    "improves",
    "improved",
    "improving",
    "performance",
    "effective",
    "efficient",
    "framework",
    "models",
    "model",
    "learning",
    "data",
    "training",
    "trained",
    "train",
    "problem",
    "problems",
    "set",
    "sets",
    "well",
    "also",
    "outperforms",
    "outperform",
    "leading",
    "leverage",
    "leverages",
    "leveraging",
    "key",
    "within",
    "across",
    "lead",
    "leads",
    "terms",
    "term",
    "way",
    "ways",
    "further",
    "first",
    "one",
    "two",
    "three",
    "many",
    "much",
}


# The tokeniser for label phrases, and only for them: words as a reader writes them (lower case,
# hyphenated compounds such as "task-agnostic" kept whole, no stemming), since labels are shown.
# Ranking uses BM25's tokeniser (search/lexical.py: stop words, Snowball stems), and explanations
# (search/explain.py) split words only to look them up in BM25's vocabulary; ids use text.slugify.
_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _ACADEMIC_STOP


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


def label_terms(docs: list[str], n_terms: int = 3) -> list[list[str]]:
    """Class-based TF-IDF: the phrases that distinguish each class's text from the others."""
    from sklearn.feature_extraction.text import CountVectorizer

    stop = stop_words()
    vectorizer = CountVectorizer(analyzer=lambda text: _phrases(text, stop), min_df=1)
    try:
        counts = vectorizer.fit_transform(docs).astype(np.float64)
    except ValueError:  # no phrase at all in any theme
        return [[] for _ in docs]
    vocab = np.array(vectorizer.get_feature_names_out())
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    freq = np.asarray(counts.sum(axis=0)).ravel()
    avg_words = float(counts.sum()) / max(len(docs), 1)
    idf = np.log(1.0 + avg_words / np.maximum(freq, 1))
    weights = tf.multiply(idf).tocsr()
    labels = []
    for row in range(weights.shape[0]):
        data, cols = weights[row].data, weights[row].indices
        # Highest weight first; ties broken alphabetically so labels never change between runs.
        order = sorted(range(len(cols)), key=lambda i: (-round(float(data[i]), 12), vocab[cols[i]]))
        chosen: list[str] = []
        for i in order:
            term = str(vocab[cols[i]])
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
