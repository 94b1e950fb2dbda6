"""Shared helpers for the benchmarks: where the evaluation data is, and an embedding cache.

Embeddings are cached on disk (NumPy ``.npy`` + a JSON sidecar, no pickle) keyed by the model's
identity and a hash of the exact texts, so a second run of a benchmark costs seconds, not the
minutes (or, for ACM-CR, the hour) of embedding.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
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


def cache_paths(texts: list[str], embedder, label: str) -> tuple[Path, Path]:
    """Where the vectors of ``texts`` by ``embedder`` are cached: ``(vectors.npy, meta.json)``.

    The key is the model's identity and a hash of every text, so any change of either misses.
    """
    digest = hashlib.sha256(json.dumps(embedder.identity(), sort_keys=True).encode())
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    key = f"{label}-{digest.hexdigest()[:16]}"
    return cache_dir() / f"{key}.npy", cache_dir() / f"{key}.json"


def save_cached(texts: list[str], embedder, label: str, vectors: np.ndarray, meta: dict) -> Path:
    """Store vectors for ``texts`` in the cache (atomically; NumPy format, no pickle)."""
    from paperlike.storage.files import atomic_write, atomic_write_json

    vec_path, meta_path = cache_paths(texts, embedder, label)

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)

    atomic_write(vec_path, save)
    atomic_write_json(meta_path, {"model": embedder.identity(), "count": len(texts), **meta})
    return vec_path


def embed_cached(texts: list[str], embedder, label: str, batch_size: int = 64) -> tuple[np.ndarray, str]:
    """Embeddings of ``texts``, from the cache when the same model embedded the same texts before.

    Returns:
        ``(vectors, how)`` where ``how`` says whether they came from the cache and how long it took.
    """
    from paperlike.embedding import embed_texts

    vec_path, meta_path = cache_paths(texts, embedder, label)
    if vec_path.exists() and meta_path.exists():
        started = time.perf_counter()
        vectors = np.load(vec_path, allow_pickle=False)
        if vectors.shape == (len(texts), embedder.dim):
            where = json.loads(meta_path.read_text()).get("computed_on")
            note = f"; computed on {where}" if where else ""
            return vectors, f"cache hit {vec_path.name} ({time.perf_counter() - started:.1f} s{note})"
    if not texts:
        return np.zeros((0, embedder.dim), np.float32), "nothing to embed"
    started = time.perf_counter()
    vectors = embed_texts(texts, embedder, batch_size=batch_size, progress=True, desc=f"Embedding {label}")
    seconds = time.perf_counter() - started
    save_cached(texts, embedder, label, vectors, {"seconds": seconds})
    return vectors, f"embedded {len(texts)} texts in {seconds:.0f} s ({len(texts) / seconds:.1f}/s), cached as {vec_path.name}"


def load_acm_queries(eval_dir: Path) -> list[dict]:
    """ACM-CR query papers with at least one cited paper in the corpus (49 of the 50)."""
    with open(eval_dir / "acm-cr" / "queries.json", encoding="utf-8") as fh:
        queries = json.load(fh)
    return [q for q in queries if q.get("cited_with_abstract")]


def acm_corpus(eval_dir: Path, limit: int | None = None, progress: bool = True):
    """ACM-CR as the product reads it (ids are DOIs), plus the query rows.

    With ``limit``, the corpus is the first ``limit`` papers plus every query and cited paper, so
    the measured task stays complete on a smaller haystack.

    Returns:
        ``(corpus, queries)``.
    """
    from paperlike.readers import collect, paper_from_fields

    queries = load_acm_queries(eval_dir)
    keep = {q["doi"] for q in queries} | {d for q in queries for d in q["cited_with_abstract"]}
    src = str(eval_dir / "acm-cr" / "papers.jsonl.gz")
    entries = []
    with gzip.open(eval_dir / "acm-cr" / "papers.jsonl.gz", "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
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
