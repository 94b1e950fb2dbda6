"""Speed of the foundation: cold CLI processes and embedding throughput on the seed corpus.

Prints, all measured in this run:
  * median wall time of cold processes: ``paperlike --help``, ``paperlike similar <id>``
    (needs no model) and ``paperlike similar "<text>" --text`` (loads the model);
  * whether the id lookup imported torch;
  * embedding throughput (papers/s) of building the seed index with all-MiniLM-L6-v2, with and
    without the one-off model load.

Usage:
    python benchmarks/speed.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cold(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "paperlike", *args], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def imports_torch(args: list[str], env: dict[str, str]) -> bool:
    probe = (
        "import sys\nfrom paperlike.cli import cli\n"
        f"try:\n    cli.main({args!r})\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return out.stderr.strip().splitlines()[-1] == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="cold processes per command (median reported)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    opts = parser.parse_args()

    from paperlike.corpus import bundled_corpus
    from paperlike.embed import MiniLMEmbedder
    from paperlike.index import build_index

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        corpus = bundled_corpus()
        embedder = MiniLMEmbedder()
        started = time.perf_counter()
        embedder.embed_batch(["load the model"])
        load_s = time.perf_counter() - started
        report = build_index(corpus, embedder, index_dir)

        env = {**os.environ, "PAPERLIKE_INDEX_DIR": str(index_dir)}
        env.pop("PAPERLIKE_MODEL", None)
        help_t = cold(["--help"], env, opts.runs)
        id_t = cold(["similar", "autodistil", "-k", "10"], env, opts.runs)
        text_t = cold(["similar", "few-shot continual learning", "--text", "-k", "10"], env, opts.runs)
        figures = {
            "runs": opts.runs,
            "help_median_s": statistics.median(help_t),
            "id_lookup_median_s": statistics.median(id_t),
            "text_query_median_s": statistics.median(text_t),
            "text_over_id_ratio": statistics.median(text_t) / statistics.median(id_t),
            "id_lookup_imports_torch": imports_torch(["similar", "autodistil"], env),
            "help_imports_torch": imports_torch(["--help"], env),
            "seed_papers": report.count,
            "model_load_s": load_s,
            "embed_papers_per_s": report.papers_per_second,
            "embed_papers_per_s_incl_load": report.count / (report.embed_seconds + load_s),
        }
    if opts.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"cold processes, median of {opts.runs} runs (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"  paperlike --help                        {figures['help_median_s']:.3f} s   imports torch: {figures['help_imports_torch']}")
    print(f"  paperlike similar autodistil (id)       {figures['id_lookup_median_s']:.3f} s   imports torch: {figures['id_lookup_imports_torch']}")
    print(f"  paperlike similar '...' --text          {figures['text_query_median_s']:.3f} s   ({figures['text_over_id_ratio']:.1f}x the id lookup)")
    print(f"build of the {figures['seed_papers']} seed papers with all-MiniLM-L6-v2")
    print(f"  model load                              {figures['model_load_s']:.1f} s")
    print(f"  embedding throughput                    {figures['embed_papers_per_s']:.1f} papers/s "
          f"({figures['embed_papers_per_s_incl_load']:.1f} papers/s counting the model load)")


if __name__ == "__main__":
    main()
