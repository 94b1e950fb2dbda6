"""Speed: cold CLI processes and embedding throughput on the seed corpus.

Prints, all measured in this run:
  * median wall time of cold processes: ``paperlike --help``, ``paperlike similar <id>``
    (needs no model), and ``paperlike similar "<text>" --text`` with the ONNX backend and with
    the sentence-transformers (torch) backend;
  * whether the id lookup imported torch;
  * embedding throughput (papers/s) of building the seed index with all-MiniLM-L6-v2: the
    product's build with each backend next to plain ``SentenceTransformer.encode`` on the same
    texts, after the one-off model load.
The ONNX export is made into a temporary cache folder first (its time is printed too).

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
        subprocess.run(
            [sys.executable, "-m", "paperlike", *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
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

    from paperlike.embedding import MiniLMEmbedder
    from paperlike.embedding.onnx import export_onnx
    from paperlike.readers import bundled_corpus
    from paperlike.service.build import build_index

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PAPERLIKE_CACHE_DIR"] = str(Path(tmp) / "cache")
        corpus = bundled_corpus()
        texts = [p.text for p in corpus.papers]
        torch_embedder = MiniLMEmbedder(backend="torch")
        started = time.perf_counter()
        torch_embedder.embed_batch(["load the model"])
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        agreement = export_onnx(torch_embedder.model_dir, torch_embedder.onnx_file, texts)
        export_s = time.perf_counter() - started

        onnx_embedder = MiniLMEmbedder(backend="onnx")
        onnx_embedder.embed_batch(["load the model"])
        index_dir = Path(tmp) / "index"
        # Three rounds, the three ways interleaved, medians reported: single runs on 2 busy cores
        # differ by 10-20% from one to the next, more than the differences being measured.
        plain_rates, torch_rates, onnx_rates = [], [], []
        for round_ in range(3):
            started = time.perf_counter()
            torch_embedder._model.encode(texts, batch_size=32)
            plain_rates.append(len(texts) / (time.perf_counter() - started))
            torch_report = build_index(corpus, torch_embedder, Path(tmp) / f"torch-index-{round_}", reuse=False)
            torch_rates.append(torch_report.papers_per_second)
            onnx_report = build_index(corpus, onnx_embedder, index_dir, reuse=False)
            onnx_rates.append(onnx_report.papers_per_second)
        plain_rate = statistics.median(plain_rates)

        env = {**os.environ, "PAPERLIKE_INDEX_DIR": str(index_dir)}
        env.pop("PAPERLIKE_MODEL", None)
        help_t = cold(["--help"], env, opts.runs)
        id_t = cold(["similar", "autodistil", "-k", "10"], env, opts.runs)
        text_onnx_t = cold(
            ["similar", "few-shot continual learning", "--text", "-k", "10"], {**env, "PAPERLIKE_BACKEND": "onnx"}, opts.runs
        )
        text_torch_t = cold(
            ["similar", "few-shot continual learning", "--text", "-k", "10"], {**env, "PAPERLIKE_BACKEND": "torch"}, opts.runs
        )
        figures = {
            "runs": opts.runs,
            "help_median_s": statistics.median(help_t),
            "id_lookup_median_s": statistics.median(id_t),
            "text_query_onnx_median_s": statistics.median(text_onnx_t),
            "text_query_torch_median_s": statistics.median(text_torch_t),
            "torch_over_onnx_ratio": statistics.median(text_torch_t) / statistics.median(text_onnx_t),
            "id_lookup_imports_torch": imports_torch(["similar", "autodistil"], env),
            "help_imports_torch": imports_torch(["--help"], env),
            "seed_papers": len(corpus),
            "model_load_s": load_s,
            "onnx_export_s": export_s,
            "onnx_agreement_min_cosine": agreement,
            "plain_encode_papers_per_s": plain_rate,
            "build_torch_papers_per_s": statistics.median(torch_rates),
            "build_onnx_papers_per_s": statistics.median(onnx_rates),
            "build_over_plain_torch": statistics.median(torch_rates) / plain_rate,
            "build_over_plain_onnx": statistics.median(onnx_rates) / plain_rate,
            "rounds": {"plain": plain_rates, "torch": torch_rates, "onnx": onnx_rates},
        }
    if opts.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"cold processes, median of {opts.runs} runs (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(
        f"  paperlike --help                           {figures['help_median_s']:.3f} s   imports torch: {figures['help_imports_torch']}"
    )
    print(
        f"  paperlike similar autodistil (id)          {figures['id_lookup_median_s']:.3f} s   imports torch: {figures['id_lookup_imports_torch']}"
    )
    print(f"  paperlike similar '...' --text (onnx)      {figures['text_query_onnx_median_s']:.3f} s")
    print(
        f"  paperlike similar '...' --text (torch)     {figures['text_query_torch_median_s']:.3f} s   "
        f"({figures['torch_over_onnx_ratio']:.1f}x the onnx query)"
    )
    print(f"embedding the {figures['seed_papers']} seed papers with all-MiniLM-L6-v2 (after loading: torch {load_s:.1f} s)")
    print(f"  plain SentenceTransformer.encode           {figures['plain_encode_papers_per_s']:.1f} papers/s")
    print(
        f"  paperlike build, torch backend             {figures['build_torch_papers_per_s']:.1f} papers/s"
        f"   ({figures['build_over_plain_torch']:.2f}x plain)"
    )
    print(
        f"  paperlike build, onnx backend              {figures['build_onnx_papers_per_s']:.1f} papers/s"
        f"   ({figures['build_over_plain_onnx']:.2f}x plain)"
    )
    print(
        f"  (medians of 3 interleaved rounds: plain {[round(r, 1) for r in figures['rounds']['plain']]}, "
        f"torch {[round(r, 1) for r in figures['rounds']['torch']]}, onnx {[round(r, 1) for r in figures['rounds']['onnx']]})"
    )
    print(f"onnx export: {export_s:.1f} s, min cosine vs sentence-transformers on the seed papers {agreement:.6f}")


if __name__ == "__main__":
    main()
