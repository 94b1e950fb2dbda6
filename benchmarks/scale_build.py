"""Scale of everything ``index build`` does besides the model, at 100k to 1M papers: time and peak memory.

The corpus is synthetic but made of real text: each paper's abstract is the shuffled sentences of
a real ACM-CR abstract mixed with one or two sentences of two others, and its title joins the
first half of one real title to the second half of another, so BM25, de-duplication and labels
see realistic words and lengths. 0.5% of the records repeat an earlier paper's DOI (de-duplication
has real work). The model step is replaced by cheap vectors with a realistic neighbourhood
structure: every ACM-CR abstract gets a random unit vector, and a synthetic paper's vector is the
normalised mix of its three sources' vectors plus noise (no model runs at all).

Each step runs in its own process: what it needs from earlier steps is loaded first (untimed),
then the step is timed while a thread samples the process's resident memory every 10 ms. The
table shows the step's time, the peak RSS during it and the RSS it started from.

Steps: reading the JSONL (parse, then de-duplicate + ids), the text hashes a build keys vectors
by, ``build_index`` end to end (all vectors resumed from checkpoints, as after an embedding run;
HNSW at >= 200k papers), its parts (``write_index`` with exact search, the HNSW graph), loading the
index, the BM25 index (built on the first query), themes (automatic number) and the map projection.

Usage::

    python benchmarks/scale_build.py [--n 100000] [--eval-dir ../shared/eval] [--work DIR] [--steps a,b] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import eval_dir_from  # noqa: E402

STEPS = ("parse", "dedupe", "hash", "build", "write_exact", "hnsw", "load", "bm25", "themes", "map")
LABELS = {
    "parse": "read + parse the JSONL",
    "dedupe": "de-duplicate + ids (collect)",
    "hash": "text hashes (embedded text of every paper)",
    "build": "build_index end to end, vectors from checkpoints",
    "write_exact": "write_index, exact search (files + flat FAISS)",
    "hnsw": "HNSW graph (M=32, efConstruction 80)",
    "load": "load_index + all paper records",
    "bm25": "BM25 index (first query after a build)",
    "themes": "themes, automatic number",
    "map": "map projection (map_2d)",
}
DIM = 384
SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


# -- the synthetic corpus --------------------------------------------------------------------------


def make_corpus(eval_dir: Path, n: int, work: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write ``corpus.jsonl`` and ``vectors.npy`` (row i = record i) for ``n`` synthetic papers."""
    corpus, vectors = work / "corpus.jsonl", work / "vectors.npy"
    if corpus.exists() and vectors.exists():
        return corpus, vectors
    rows = [json.loads(line) for line in gzip.open(eval_dir / "acm-cr" / "papers.jsonl.gz", "rt", encoding="utf-8")]
    rows = [r for r in rows if r.get("abstract") and r.get("title")]
    sentences = [SPLIT.split(r["abstract"].strip()) for r in rows]
    titles = [r["title"].split() for r in rows]
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((len(rows), DIM)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    sources = rng.integers(0, len(rows), size=(n, 3))
    out = np.empty((n, DIM), dtype=np.float32)
    with open(corpus, "w", encoding="utf-8") as fh:
        for i in range(n):
            a, b, c = (int(s) for s in sources[i])
            if i >= 100 and rng.random() < 0.005:  # a repeat of an earlier paper: same DOI, own text
                doi = f"10.5555/syn.{int(rng.integers(0, i))}"
            else:
                doi = f"10.5555/syn.{i}"
            text = list(sentences[a]) + [
                sentences[b][int(rng.integers(len(sentences[b])))],
                sentences[c][int(rng.integers(len(sentences[c])))],
            ]
            rng.shuffle(text)
            ta, tb = titles[a], titles[int(rng.integers(len(titles)))]
            title = " ".join(ta[: max(1, len(ta) // 2)] + tb[len(tb) // 2 :])
            fh.write(
                json.dumps(
                    {"id": doi, "doi": doi, "title": title, "abstract": " ".join(text), "year": int(rng.integers(1995, 2025))},
                    ensure_ascii=False,
                )
                + "\n"
            )
            mixed = 2 * base[a] + base[b] + base[c] + 0.5 * rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM)
            out[i] = mixed / np.linalg.norm(mixed)
    np.save(vectors, out, allow_pickle=False)
    return corpus, vectors


class StandIn:
    """The model's place in a build whose vectors all come from checkpoints (it never embeds)."""

    name, dim = "synthetic", DIM

    def identity(self) -> dict:
        return {"name": self.name, "version": "1", "dim": self.dim}

    def embed_batch(self, texts):
        raise RuntimeError("the synthetic benchmark model never embeds")


# -- measuring one step in this process ------------------------------------------------------------


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads (FAISS, BLAS) of this process
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Peak:
    """Samples this process's RSS every 10 ms while the block runs."""

    def __enter__(self):
        self.before, self.peak, self._stop = rss_mb(), rss_mb(), threading.Event()
        self.cpu0 = _cpu()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.cpu = _cpu() - self.cpu0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    def row(self, step: str, **extra) -> dict:
        return {"step": step, "seconds": self.seconds, "cpu_s": self.cpu, "peak_mb": self.peak, "before_mb": self.before, **extra}


def _corpus(path: Path):
    from paperlike.readers import read_corpus

    return read_corpus(path, "jsonl")


def _vectors_for(corpus, vectors_path: Path) -> np.ndarray:
    """The synthetic vector of each paper of the read corpus (duplicates were merged away)."""
    vectors = np.load(vectors_path, mmap_mode="r")
    rows = [int(p.doi.rsplit(".", 1)[1]) for p in corpus.papers]
    return np.ascontiguousarray(vectors[rows])


def run_step(step: str, work: Path) -> list[dict]:
    """Measure ``step`` on the artifacts in ``work``; returns table rows."""
    from paperlike.readers.base import collect, paper_from_fields, read_text
    from paperlike.readers.jsonl import jsonl_entries

    corpus_path, vectors_path, index_dir = work / "corpus.jsonl", work / "vectors.npy", work / "index"
    if step in ("parse", "dedupe"):
        with Peak() as parse:
            # What read_corpus does with a JSONL file: its text, line by line, then collect.
            entries = list(jsonl_entries(read_text(corpus_path), str(corpus_path), paper_from_fields))
        with Peak() as dedupe:
            corpus = collect(entries, str(corpus_path))
        return [parse.row("parse", records=len(entries)), dedupe.row("dedupe", papers=len(corpus), merged=corpus.merged)]
    corpus = _corpus(corpus_path)
    if step == "hash":
        from paperlike.records import paper_text_hash

        with Peak() as p:
            [paper_text_hash(paper) for paper in corpus.papers]
            corpus.sha256()
        return [p.row(step, papers=len(corpus))]
    if step == "build":
        from paperlike.records import paper_text_hash
        from paperlike.service.build import build_index
        from paperlike.storage.checkpoints import EmbeddingCache

        vectors = _vectors_for(corpus, vectors_path)
        cache = EmbeddingCache(index_dir, StandIn().identity(), DIM)
        hashes = [paper_text_hash(p) for p in corpus.papers]
        for start in range(0, len(hashes), 4096):  # as an interrupted (or cluster) embedding run leaves them
            cache.checkpoint(hashes[start : start + 4096], vectors[start : start + 4096])
        del vectors, hashes
        from paperlike.records import papers as papers_module

        # As a fresh `paperlike index build` process: papers just read, no embedded text made yet.
        papers_module._HASHES.clear()
        corpus = _corpus(corpus_path)
        with Peak() as p:
            report = build_index(corpus, StandIn(), index_dir)
        return [p.row(step, papers=report.count, reused=report.reused, embedded=report.embedded)]
    if step == "write_exact":
        import tempfile

        from paperlike.storage.writer import write_index

        vectors = _vectors_for(corpus, vectors_path)
        digest = corpus.sha256()  # (makes every embedded text: the hash step, not this one)
        with tempfile.TemporaryDirectory(dir=work) as target, Peak() as p:
            write_index(target, corpus.papers, vectors, StandIn().identity(), corpus.source, digest, search="exact")
        return [p.row(step)]
    if step == "hnsw":
        from paperlike.storage.writer import _make_faiss

        vectors = _vectors_for(corpus, vectors_path)
        del corpus
        with Peak() as p:
            _make_faiss("hnsw", vectors)
        return [p.row(step)]
    del corpus
    from paperlike.service.recommender import Recommender
    from paperlike.storage.index import load_index

    if step == "load":
        with Peak() as p:
            load_index(index_dir).papers()
        return [p.row(step)]
    rec = Recommender.load(index_dir, embedder=StandIn())
    if step == "bm25":
        with Peak() as p:
            rec.lexical()
        return [p.row(step, vocab=len(rec.lexical().vocab))]
    if step == "themes":
        with Peak() as p:
            themes = rec.themes()
        return [p.row(step, themes=len(themes))]
    if step == "map":
        themes = rec.latest_themes()
        with Peak() as p:
            frame = rec.map_2d(themes)
        return [p.row(step, method=frame.attrs.get("method"))]
    raise SystemExit(f"unknown step {step}")


# -- the driver ------------------------------------------------------------------------------------


def measure(step: str, n: int, work: Path) -> list[dict]:
    """Run one step in a fresh process and return its rows (printing each as it comes)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--step", step, "--n", str(n), "--work", str(work)], capture_output=True, text=True
    )
    found = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not found:
        print(f"step {step} failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}", flush=True)
        return []
    rows = json.loads(found[-1][len("RESULT ") :])
    for row in rows:
        extra = {k: v for k, v in row.items() if k not in ("step", "seconds", "cpu_s", "peak_mb", "before_mb")}
        print(
            f"{row['step']:<12} {row['seconds']:8.1f} s  cpu {row['cpu_s']:8.1f} s  peak {row['peak_mb']:8.0f} MB  "
            f"(from {row['before_mb']:.0f} MB) {json.dumps(extra) if extra else ''}",
            flush=True,
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="synthetic papers")
    ap.add_argument("--eval-dir")
    ap.add_argument("--work", help="folder for the corpus, vectors and index (default: /tmp/paperlike-scale-<n>)")
    ap.add_argument(
        "--steps", default=",".join(s for s in STEPS if s != "dedupe"), help="steps to run (parse also measures dedupe)"
    )
    ap.add_argument("--step", help=argparse.SUPPRESS)  # internal: run one step in this process
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = Path(args.work or f"/tmp/paperlike-scale-{args.n}")
    if args.step:
        print("RESULT " + json.dumps(run_step(args.step, work)), flush=True)
        return
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    make_corpus(eval_dir_from(args.eval_dir), args.n, work)
    print(
        f"{args.n:,} synthetic papers in {work} ({(work / 'corpus.jsonl').stat().st_size / 2**20:.0f} MB of JSONL; "
        f"made in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    rows = [row for step in args.steps.split(",") if step.strip() for row in measure(step.strip(), args.n, work)]
    print(f"\n| {args.n:,} papers: step | wall time | CPU time | peak RSS | RSS before the step |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {LABELS.get(row['step'], row['step'])} | {row['seconds']:.1f} s | {row['cpu_s']:.1f} s "
            f"| {row['peak_mb'] / 1024:.2f} GB | {row['before_mb'] / 1024:.2f} GB |"
        )
    if args.json:
        print(json.dumps({"n": args.n, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
