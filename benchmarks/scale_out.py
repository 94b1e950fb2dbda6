"""Scale out: papers/s of a local build vs ``--engine ray`` with 1 and 2 workers, same papers, same run.

Every build embeds the same PwC-areas papers from scratch (a fresh index directory each) with
``build_index``, the code path of ``paperlike index build``; only the engine differs. Ray runs on
a local cluster started once before the timed builds (as a ``ray start --head`` would be); its
start-up is reported apart. Papers/s is papers embedded per second of the build's embedding step
(model loading included, for both engines). The Ray vectors are compared with the local ones.

The machine may be shared: the 1-minute load average before and after each build is printed.

Usage::

    python benchmarks/scale_out.py [--eval-dir ../shared/eval] [--limit 5000] [--workers 1,2] [--rounds 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import eval_dir_from, pwc_corpus  # noqa: E402


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else float("nan")


class Clocked:
    """An engine that notes when each batch arrives, to tell start-up from steady throughput."""

    def __init__(self, engine):
        self.engine, self.name, self.arrivals = engine, engine.name, []

    def embed(self, texts, embedder, *, on_batch=None, **kw):
        def note(rows, vectors):
            self.arrivals.append((time.perf_counter(), len(rows)))
            if on_batch is not None:
                on_batch(rows, vectors)

        self.started = time.perf_counter()
        return self.engine.embed(texts, embedder, on_batch=note, **kw)

    def steady(self) -> tuple[float, float]:
        """(seconds to the first batch, papers/s from the first batch to the last)."""
        (t0, _), (t1, _) = self.arrivals[0], self.arrivals[-1]
        later = sum(n for _, n in self.arrivals[1:])
        return t0 - self.started, later / (t1 - t0) if t1 > t0 else float("nan")


def one_build(corpus, engine, model: str, batch_size: int, root: Path) -> dict:
    from paperlike.embedding import get_embedder
    from paperlike.service.build import build_index
    from paperlike.storage.index import load_index

    directory = Path(tempfile.mkdtemp(prefix="scale-out-", dir=root))
    embedder = get_embedder(model, device="cpu")  # a fresh model per build: loading counts for every engine
    before = load1()
    clocked = Clocked(engine)
    started = time.perf_counter()
    report = build_index(corpus, embedder, directory, batch_size=batch_size, engine=clocked)
    wall = time.perf_counter() - started
    first, steady = clocked.steady()
    return {
        "embedded": report.embedded,
        "embed_s": report.embed_seconds,
        "build_s": wall,
        "papers_per_s": report.embedded / report.embed_seconds,
        "first_batch_s": first,
        "steady_per_s": steady,
        "load_before": before,
        "load_after": load1(),
        "vectors": load_index(directory).all_vectors(),
    }


def table(engines: list[str], results: dict[str, list[dict]], rounds: int) -> list[dict]:
    """Print the table (medians over rounds) and return its rows."""
    reference = results["local"][0]["vectors"]
    local_pps = float(np.median([r["papers_per_s"] for r in results["local"]]))
    rows = []
    print(
        f"\n| engine | papers/s (median of {rounds}) | vs local | first batch after | papers/s after the first batch "
        "| min cosine to local vectors | load (1 min) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in engines:
        runs = results[name]
        pps = float(np.median([r["papers_per_s"] for r in runs]))
        loads = [x for r in runs for x in (r["load_before"], r["load_after"])]
        row = {
            "engine": name,
            "papers_per_s": pps,
            "vs_local": pps / local_pps,
            "first_batch_s": float(np.median([r["first_batch_s"] for r in runs])),
            "steady_per_s": float(np.median([r["steady_per_s"] for r in runs])),
            "min_cosine": float(min(np.sum(r["vectors"] * reference, axis=1).min() for r in runs)),
            "load_min": min(loads),
            "load_max": max(loads),
        }
        rows.append(row)
        print(
            f"| {name} | {pps:.2f} | {pps / local_pps:.2f}x | {row['first_batch_s']:.1f} s | {row['steady_per_s']:.2f} "
            f"| {row['min_cosine']:.6f} | {row['load_min']:.1f}-{row['load_max']:.1f} |"
        )
    for row in rows[1:]:  # each Ray run spreads all the cores over its workers, as the local build uses them all
        change = 100 * (1 - row["vs_local"])
        if change >= 0:
            print(f"Ray overhead, {row['engine']}: {change:.1f}% fewer papers/s than local")
        else:  # faster than local: no overhead measurable in this run (the load moved between builds)
            print(f"Ray overhead, {row['engine']}: none measured ({-change:.1f}% more papers/s than local)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir")
    ap.add_argument("--limit", type=int, default=5000, help="papers (the first N of PwC-areas)")
    ap.add_argument("--workers", default="1,2", help="Ray worker counts to measure, comma-separated")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds (local, ray x1, ray x2, local, ...)")
    ap.add_argument("--model", default="all-MiniLM-L6-v2")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from paperlike.embedding.engines import LocalEngine
    from paperlike.embedding.engines.ray_cluster import import_ray, start_local
    from paperlike.embedding.engines.ray_engine import RayEngine
    from paperlike.records import Corpus

    full, _ = pwc_corpus(eval_dir_from(args.eval_dir))
    corpus = Corpus(full.papers[: args.limit], f"pwc-areas[:{args.limit}]")
    print(
        f"{len(corpus)} PwC-areas papers, model {args.model}, batch {args.batch_size}, {os.cpu_count()} CPUs, no GPU in use",
        flush=True,
    )
    ray = import_ray()  # (also quiets Ray's C++ notes, as a paperlike build does)
    started = time.perf_counter()
    start_local(ray, num_cpus=os.cpu_count())  # as paperlike starts Ray itself: workers at normal priority
    ray_start = time.perf_counter() - started
    print(f"local Ray cluster started in {ray_start:.1f} s (not part of the figures below)", flush=True)
    engines = [("local", LocalEngine())] + [
        (f"ray, {w} worker{'s' if w > 1 else ''}", RayEngine(workers=w))
        for w in (int(w) for w in args.workers.split(",") if w.strip())
    ]
    results: dict[str, list[dict]] = {name: [] for name, _ in engines}
    with tempfile.TemporaryDirectory(prefix="paperlike-scale-out-") as root:
        for r in range(args.rounds):
            for name, engine in engines:
                res = one_build(corpus, engine, args.model, args.batch_size, Path(root))
                results[name].append(res)
                print(
                    f"round {r + 1}: {name:<16} {res['papers_per_s']:6.2f} papers/s  (embedding {res['embed_s']:.1f} s, "
                    f"first batch after {res['first_batch_s']:.1f} s, then {res['steady_per_s']:.2f} papers/s; "
                    f"build {res['build_s']:.1f} s; load {res['load_before']:.1f} -> {res['load_after']:.1f})",
                    flush=True,
                )
    ray.shutdown()
    rows = table([name for name, _ in engines], results, args.rounds)
    if args.json:
        print(json.dumps({"papers": len(corpus), "ray_start_s": ray_start, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
