"""Scale: the product on the 96,373 ACM-CR papers.

1. Builds the ACM-CR index with ``paperlike index build``'s own code path (``build_index``),
   resuming from checkpoints that hold the cached vectors (embedding 96k abstracts takes about
   2.5 h on 2 cores; the vectors come from the benchmark cache, see ``quality.py``). This measures
   everything a build does besides the model, and its peak memory.
2. Times cold ``paperlike similar <doi>`` processes on that index (hybrid default, dense, and
   ``--why``), after one warm-up run that builds the BM25 index beside it.
3. Times ``paperlike themes`` (automatic number of themes) and its peak memory.

Usage::

    python benchmarks/scale.py [--eval-dir ../shared/eval] [--index-dir DIR] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import acm_corpus, embed_cached, eval_dir_from  # noqa: E402


def timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of a cold process, via /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        started = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-v", "-o", report.name, sys.executable, "-m", "paperlike", *cmd],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"paperlike {' '.join(cmd)} failed: {proc.stderr.strip()}")
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read()).group(1)) / 1024
    return seconds, rss, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir")
    ap.add_argument("--index-dir", help="where to build the ACM-CR index (default: a temp folder)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import resource

    from paperlike.embedding import get_embedder
    from paperlike.records import paper_text_hash
    from paperlike.service.build import build_index
    from paperlike.storage.checkpoints import EmbeddingCache

    out: dict = {}
    corpus, queries = acm_corpus(eval_dir_from(args.eval_dir))
    embedder = get_embedder()
    vectors, how = embed_cached([p.text for p in corpus.papers], embedder, "acm-cr-product")
    print(f"ACM-CR: {len(corpus)} papers; vectors: {how}", flush=True)
    directory = Path(args.index_dir or tempfile.mkdtemp(prefix="paperlike-acm-"))
    directory.mkdir(parents=True, exist_ok=True)
    cache = EmbeddingCache(directory, embedder.identity())
    hashes = [paper_text_hash(p) for p in corpus.papers]
    for start in range(0, len(hashes), 4096):  # as an interrupted build would have left them
        cache.checkpoint(hashes[start : start + 4096], vectors[start : start + 4096])
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = build_index(corpus, embedder, directory, progress=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["build"] = {
        "papers": len(corpus),
        "reused": report.reused,
        "embedded": report.embedded,
        "seconds": report.seconds,
        "peak_rss_mb": peak,
        "rss_before_mb": rss0,
    }
    print(
        f"build (no embedding: {report.reused} vectors resumed from checkpoints): {report.seconds:.1f} s, "
        f"peak RSS {peak:.0f} MB (process, {rss0:.0f} MB before the build)",
        flush=True,
    )

    env = dict(os.environ, PAPERLIKE_INDEX_DIR=str(directory))
    doi = queries[0]["doi"]
    first, rss, _ = timed(["similar", doi], env)
    print(f"first similar (builds the BM25 index beside it): {first:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    out["first_similar_s"] = first
    for label, extra in [
        ("hybrid (default)", []),
        ("dense", ["--mode", "dense"]),
        ("hybrid --why", ["--why"]),
        ("hybrid --json", ["--json"]),
    ]:
        runs = [timed(["similar", doi, *extra], env) for _ in range(args.runs)]
        med = statistics.median(r[0] for r in runs)
        out[f"similar {label}"] = {"median_s": med, "peak_rss_mb": max(r[1] for r in runs)}
        print(
            f"cold 'paperlike similar <doi>' {label}: median {med:.2f} s of {args.runs}, "
            f"peak RSS {max(r[1] for r in runs):.0f} MB",
            flush=True,
        )
    seconds, rss, stdout = timed(["themes", "--json"], env)
    n_themes = len(json.loads(stdout)["themes"])
    out["themes"] = {"seconds": seconds, "peak_rss_mb": rss, "themes": n_themes}
    print(f"paperlike themes (automatic number: {n_themes}): {seconds:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    seconds, rss, _ = timed(["themes", "-n", "20", "--json"], env)
    out["themes -n 20"] = {"seconds": seconds, "peak_rss_mb": rss}
    print(f"paperlike themes -n 20: {seconds:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    if args.json:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
