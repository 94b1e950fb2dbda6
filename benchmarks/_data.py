"""Shared helpers for the benchmarks: where the evaluation data is, and an embedding cache.

Embeddings are cached on disk (NumPy ``.npy`` + a JSON sidecar, no pickle) keyed by the model's
identity and a hash of the exact texts, so a second run of a benchmark costs seconds, not the
minutes (or, for ACM-CR, the hour) of embedding.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def default_eval_dir() -> Path | None:
    """``../shared/eval`` beside the checkout, when it exists."""
    candidate = ROOT.parent / "shared" / "eval"
    return candidate if candidate.is_dir() else None


def eval_dir_from(arg: str | None) -> Path:
    path = Path(arg) if arg else default_eval_dir()
    if path is None or not path.is_dir():
        sys.exit("error: no evaluation data; pass --eval-dir PATH (the folder holding acm-cr/ and pwc-areas/)")
    return path


def cache_dir() -> Path:
    """``$PAPERLIKE_BENCH_CACHE``, else ``~/.cache/paperlike/bench``."""
    path = Path(os.environ.get("PAPERLIKE_BENCH_CACHE") or Path.home() / ".cache" / "paperlike" / "bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_pwc(eval_dir: Path) -> list[dict[str, str]]:
    """PwC-areas rows: abstract, area, arxiv_id, task_id, title, split (file order)."""
    with gzip.open(eval_dir / "pwc-areas" / "papers.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def pwc_corpus(eval_dir: Path):
    """PwC-areas as the product reads it: one paper per row, ids ``pwc-<row>``, plus the rows.

    Papers are made by the same code that reads a user's JSONL (text cleaning, LaTeX decoding),
    so benchmark vectors are the vectors the product would store.
    """
    from paperlike.readers import collect, paper_from_fields

    rows = load_pwc(eval_dir)
    src = str(eval_dir / "pwc-areas" / "papers.csv.gz")
    entries = [
        (
            f"{src}:{i + 2}",
            paper_from_fields(
                {"id": f"pwc-{i}", "title": r["title"], "abstract": r["abstract"], "arxiv_id": r["arxiv_id"]},
                f"{src}:{i + 2}",
                src,
            ),
        )
        for i, r in enumerate(rows)
    ]
    corpus = collect(entries, src)
    return corpus, rows


def load_acm_papers(eval_dir: Path, limit: int) -> list[dict]:
    """The first ``limit`` ACM-CR papers (doi, title, abstract, ...)."""
    out = []
    with gzip.open(eval_dir / "acm-cr" / "papers.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if len(out) >= limit:
                break
    return out


def embed_cached(texts: list[str], embedder, label: str, batch_size: int = 32) -> tuple[np.ndarray, str]:
    """Embeddings of ``texts`` from the per-text cache (:mod:`_vector_store`), embedding the
    texts it lacks first (and saving them shard by shard, so an interrupted run resumes).

    Returns:
        ``(vectors, how)`` where ``how`` says how many were cached and how long the rest took.
    """
    from _vector_store import VectorStore

    store = VectorStore(cache_dir(), embedder)
    if not texts:
        return np.zeros((0, embedder.dim), np.float32), "nothing to embed"
    todo = len(store.missing(texts))
    started = time.perf_counter()
    if todo:
        store.fill(texts, desc=f"Embedding {label}", batch_size=batch_size)
    seconds = time.perf_counter() - started
    vectors = store.get(texts)
    if not todo:
        return vectors, f"all {len(texts)} cached in {store.folder.name} ({seconds:.1f} s)"
    return vectors, f"embedded {todo} of {len(texts)} in {seconds:.0f} s ({todo / max(seconds, 1e-9):.1f}/s), rest cached"


def load_acm_queries(eval_dir: Path) -> list[dict]:
    """ACM-CR query papers with at least one cited paper in the corpus (49 of the 50)."""
    with open(eval_dir / "acm-cr" / "queries.json", encoding="utf-8") as fh:
        queries = json.load(fh)
    return [q for q in queries if q.get("cited_with_abstract")]


ACM_SAMPLE_SEED = 20261206  # fixed: the ACM-CR-15k subset is the same on every machine
ACM_SAMPLE = 15_000


def acm_sample_lines(eval_dir: Path, size: int = ACM_SAMPLE) -> set[int]:
    """Line numbers (0-based) of ACM-CR-15k: every query and every cited paper, plus a seeded
    random sample of the others up to ``size`` papers (the file is ordered by venue, so the
    first N lines would be a few venues only)."""
    queries = load_acm_queries(eval_dir)
    keep = {q["doi"] for q in queries} | {d for q in queries for d in q["cited_with_abstract"]}
    judged, others = [], []
    with gzip.open(eval_dir / "acm-cr" / "papers.jsonl.gz", "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            (judged if json.loads(line)["doi"] in keep else others).append(i)
    rng = np.random.default_rng(ACM_SAMPLE_SEED)
    extra = rng.choice(len(others), size=max(0, min(len(others), size - len(judged))), replace=False)
    return set(judged) | {others[j] for j in extra.tolist()}


def acm_corpus(eval_dir: Path, limit: int | None = None, progress: bool = True, sample: int | None = None):
    """ACM-CR as the product reads it (ids are DOIs), plus the query rows.

    With ``limit``, the corpus is the first ``limit`` papers plus every query and cited paper, so
    the measured task stays complete on a smaller haystack. With ``sample``, it is ACM-CR-15k
    (or another size): see :func:`acm_sample_lines`.

    Returns:
        ``(corpus, queries)``.
    """
    from paperlike.readers import collect, paper_from_fields

    queries = load_acm_queries(eval_dir)
    keep = {q["doi"] for q in queries} | {d for q in queries for d in q["cited_with_abstract"]}
    lines = acm_sample_lines(eval_dir, sample) if sample is not None else None
    src = str(eval_dir / "acm-cr" / "papers.jsonl.gz")
    entries = []
    with gzip.open(eval_dir / "acm-cr" / "papers.jsonl.gz", "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if lines is not None and i not in lines:
                continue
            row = json.loads(line)
            if limit is not None and i >= limit and row["doi"] not in keep:
                continue
            fields = {
                "id": row["doi"],
                "title": row["title"],
                "abstract": row.get("abstract") or "",
                "doi": row["doi"],
                "year": row.get("year") or None,
            }
            entries.append((f"{src}:{i + 1}", paper_from_fields(fields, f"{src}:{i + 1}", src)))
    corpus = collect(entries, src)
    return corpus, queries


SETS = ("bundled", "pwc", "acm15k", "acm")


def judged_ids(name: str, extra) -> set[str]:
    """Ids of the papers a set's judgments name (ACM-CR: queries and cited papers; other sets
    judge every paper, so none needs to come first)."""
    if name in ("acm15k", "acm"):
        return {q["doi"] for q in extra} | {d for q in extra for d in q["cited_with_abstract"]}
    return set()


def eval_set(name: str, eval_dir: Path | None):
    """``(corpus, extra)`` of a named evaluation set: ``bundled`` (the 75 papers; extra None),
    ``pwc`` (extra: the CSV rows), ``acm15k`` and ``acm`` (extra: the query rows)."""
    if name == "bundled":
        from paperlike.readers import bundled_corpus

        return bundled_corpus(), None
    if eval_dir is None:
        raise SystemExit("error: no evaluation data; pass --eval-dir PATH")
    if name == "pwc":
        return pwc_corpus(eval_dir)
    if name == "acm15k":
        return acm_corpus(eval_dir, sample=ACM_SAMPLE)
    if name == "acm":
        return acm_corpus(eval_dir)
    raise SystemExit(f"error: unknown set {name!r}; use one of {', '.join(SETS)}")
