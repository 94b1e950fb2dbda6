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
table shows the step's time, the peak RSS during it, the RSS it started from, and the peak of
the anonymous part of RSS: the index's files are memory-mapped (the papers file is read whole
once, to check its checksum), and their pages count in RSS although they are page cache the
kernel drops under pressure; the anonymous memory is what must fit in RAM.

Steps: reading the JSONL (parse, line by line as ``read_corpus`` does, then de-duplicate + ids),
the text hashes a build keys vectors by, ``paperlike index build`` end to end in a fresh process
(reading the file, then ``build_index`` with all vectors resumed from checkpoints, as after an
embedding run, into a fresh folder; HNSW at >= 200k papers), its parts (``write_index`` with exact
search, the HNSW graph), loading the index, the BM25 index (built on the first query), themes
(automatic number, computed afresh) and the map projection.

Every run saves its rows to ``<work>/results.json`` and prints the markdown table of this size and
the extrapolation to 2.5M and 10M papers (see ``_scale_tables.py``). ``--tables A.json,B.json``
prints the tables of earlier runs and the extrapolation fitted to them, running nothing.

Usage::

    python benchmarks/scale_build.py [--n 100000] [--eval-dir ../shared/eval] [--work DIR] [--steps a,b] [--json]
    python benchmarks/scale_build.py --tables /tmp/paperlike-scale-100000/results.json,/tmp/paperlike-scale-1000000/results.json
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
import _scale_tables as tables  # noqa: E402
from _data import eval_dir_from  # noqa: E402

STEPS = ("parse", "dedupe", "hash", "build", "write_exact", "hnsw", "load", "bm25", "themes", "map")
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


def anon_mb() -> float:
    """The anonymous part of this process's RSS (not the pages of mapped files)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Peak:
    """Samples this process's RSS every 10 ms while the block runs."""

    def __enter__(self):
        self.before, self.peak, self._stop = rss_mb(), rss_mb(), threading.Event()
        self.anon = anon_mb()
        self.cpu0 = _cpu()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.01):
            self.peak, self.anon = max(self.peak, rss_mb()), max(self.anon, anon_mb())

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.cpu = _cpu() - self.cpu0
        self._stop.set()
        self._thread.join()
        self.peak, self.anon = max(self.peak, rss_mb()), max(self.anon, anon_mb())

    def row(self, step: str, **extra) -> dict:
        return {
            "step": step,
            "seconds": self.seconds,
            "cpu_s": self.cpu,
            "peak_mb": self.peak,
            "before_mb": self.before,
            "peak_anon_mb": self.anon,
            "load": os.getloadavg()[0],  # (other work on the machine stretches the wall time)
            **extra,
        }


def _corpus(path: Path):
    from paperlike.readers import read_corpus

    return read_corpus(path, "jsonl")


def _vectors_for(corpus, vectors_path: Path) -> np.ndarray:
    """The synthetic vector of each paper of the read corpus (duplicates were merged away)."""
    vectors = np.load(vectors_path, mmap_mode="r")
    rows = [int(p.doi.rsplit(".", 1)[1]) for p in corpus.papers]
    return np.ascontiguousarray(vectors[rows])


def _disk_mb(paths) -> float:
    return sum(p.stat().st_size for p in paths if p.is_file()) / 2**20


def run_step(step: str, work: Path) -> list[dict]:
    """Measure ``step`` on the artifacts in ``work``; returns table rows."""
    from paperlike.readers.base import collect, open_corpus, paper_from_fields
    from paperlike.readers.jsonl import jsonl_entries
    from paperlike.readers.lines import file_lines

    corpus_path, vectors_path, index_dir = work / "corpus.jsonl", work / "vectors.npy", work / "index"
    if step in ("parse", "dedupe"):
        with Peak() as parse, open_corpus(corpus_path) as handle:
            # What read_corpus does with a JSONL file: line by line, then collect.
            entries = list(jsonl_entries(file_lines(handle, corpus_path), str(corpus_path), paper_from_fields))
        with Peak() as dedupe:
            corpus = collect(entries, str(corpus_path))
        return [parse.row("parse", records=len(entries)), dedupe.row("dedupe", papers=len(corpus), merged=corpus.merged)]
    if step == "build":  # what `paperlike index build --corpus FILE` does, in a fresh process
        from paperlike.service.build import build_index
        from paperlike.storage.manifest import read_manifest

        with Peak() as p:
            corpus = _corpus(corpus_path)
            report = build_index(corpus, StandIn(), index_dir)
        files = read_manifest(index_dir)["files"]
        disk = {kind: round(entry["bytes"] / 2**20, 1) for kind, entry in files.items()}
        return [
            p.row(
                step,
                papers=report.count,
                reused=report.reused,
                embedded=report.embedded,
                build_index_s=round(report.seconds, 1),
                disk_mb=round(sum(disk.values()), 1),
                files_mb=disk,
            )
        ]
    corpus = _corpus(corpus_path)
    if step == "hash":
        from paperlike.records import paper_text_hash

        with Peak() as p:
            [paper_text_hash(paper) for paper in corpus.papers]
            corpus.sha256()
        return [p.row(step, papers=len(corpus))]
    if step == "prepare":  # (untimed) the checkpoints an embedding run would have left
        from paperlike.records import paper_text_hash
        from paperlike.storage.checkpoints import EmbeddingCache

        vectors = _vectors_for(corpus, vectors_path)
        cache = EmbeddingCache(index_dir, StandIn().identity(), DIM)
        hashes = [paper_text_hash(p) for p in corpus.papers]
        for start in range(0, len(hashes), 4096):  # as an interrupted (or cluster) embedding run leaves them
            cache.checkpoint(hashes[start : start + 4096], vectors[start : start + 4096])
        return []
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
    return _query_step(step, index_dir)


def _query_step(step: str, index_dir: Path) -> list[dict]:
    """The steps that read the built index: load, BM25, themes, map."""
    import shutil

    from paperlike.service.recommender import Recommender
    from paperlike.storage.index import load_index
    from paperlike.storage.lexical import lexical_folder

    if step == "load":
        with Peak() as p:
            load_index(index_dir).papers()
        return [p.row(step)]
    rec = Recommender.load(index_dir, embedder=StandIn())
    if step == "bm25":
        folder = lexical_folder(index_dir, rec.index.manifest["generation"])
        shutil.rmtree(folder, ignore_errors=True)  # built afresh, as on the first query after a build
        with Peak() as p:
            rec.lexical()
        return [p.row(step, vocab=len(rec.lexical().vocab), disk_mb=round(_disk_mb(folder.iterdir()), 1))]
    if step == "themes":
        shutil.rmtree(index_dir / "themes", ignore_errors=True)  # computed afresh, not warm-started or loaded
        with Peak() as p:
            themes = rec.themes()
        return [p.row(step, themes=len(themes))]
    if step == "map":
        themes = rec.themes()  # (untimed) the automatic themes the themes step saved, loaded
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
        shown = ("step", "seconds", "cpu_s", "peak_mb", "before_mb", "peak_anon_mb", "load")
        extra = {k: v for k, v in row.items() if k not in shown}
        print(
            f"{row['step']:<12} {row['seconds']:8.1f} s  cpu {row['cpu_s']:8.1f} s  peak {row['peak_mb']:8.0f} MB  "
            f"(from {row['before_mb']:.0f} MB; anonymous peak {row['peak_anon_mb']:.0f} MB) "
            f"{json.dumps(extra) if extra else ''}",
            flush=True,
        )
    return rows


def _with_earlier_rows(path: Path, n: int, rows: list[dict]) -> list[dict]:
    """``rows`` plus the rows of an earlier run of the same size for the steps not run now (each
    row keeps its own time, load and ``run_at``), in step order."""
    now = time.strftime("%Y-%m-%d %H:%M")
    rows = [{**row, "run_at": now} for row in rows]
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return rows
    if earlier.get("n") != n:
        return rows
    ran = {row["step"] for row in rows}
    kept = [row for row in earlier.get("rows", []) if row.get("step") not in ran]
    if kept:
        print(f"(rows of {', '.join(r['step'] for r in kept)} kept from the earlier run in {path})", flush=True)
    order = {step: i for i, step in enumerate(STEPS)}
    return sorted(kept + rows, key=lambda row: order.get(row["step"], len(order)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="synthetic papers")
    ap.add_argument("--eval-dir")
    ap.add_argument("--work", help="folder for the corpus, vectors and index (default: /tmp/paperlike-scale-<n>)")
    ap.add_argument(
        "--steps", default=",".join(s for s in STEPS if s != "dedupe"), help="steps to run (parse also measures dedupe)"
    )
    ap.add_argument("--targets", default="2500000,10000000", help="paper counts the extrapolation is for")
    ap.add_argument("--tables", help="results.json files of earlier runs (comma-separated): print their tables, run nothing")
    ap.add_argument("--step", help=argparse.SUPPRESS)  # internal: run one step in this process
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    targets = [int(t) for t in args.targets.split(",") if t.strip()]
    if args.tables:
        results = [json.loads(Path(f).read_text(encoding="utf-8")) for f in args.tables.split(",") if f.strip()]
        print(tables.all_tables(results, targets))
        return
    work = Path(args.work or f"/tmp/paperlike-scale-{args.n}")
    if args.step:
        print("RESULT " + json.dumps(run_step(args.step, work)), flush=True)
        return
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    make_corpus(eval_dir_from(args.eval_dir), args.n, work)
    corpus_mb = (work / "corpus.jsonl").stat().st_size / 2**20
    print(
        f"{args.n:,} synthetic papers in {work} ({corpus_mb:.0f} MB of JSONL; made in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if "build" in steps:  # a fresh index folder holding only the checkpoints
        import shutil

        shutil.rmtree(work / "index", ignore_errors=True)
        measure("prepare", args.n, work)
    rows = [row for step in steps for row in measure(step, args.n, work)]
    rows = _with_earlier_rows(work / "results.json", args.n, rows)
    result = {"n": args.n, "corpus_mb": round(corpus_mb, 1), "cpus": os.cpu_count(), "rows": rows}
    (work / "results.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print()
    print(tables.all_tables([result], targets))
    print(f"(rows saved to {work / 'results.json'}; --tables A.json,B.json fits the extrapolation to several runs)")
    if args.json:
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
