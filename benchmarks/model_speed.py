"""Papers per second of each installed model on this machine, through the product's embedder.

Embeds a fixed sample of PwC-areas abstracts (seeded; texts sorted by length, batches of 32, as
builds do) once to warm up on a few texts, then times the sample. Prints the machine's load
beside each figure: another process on the same cores slows every row alike, so compare rows of
one run, and rerun on an idle machine for absolute figures.

    python benchmarks/model_speed.py [--n 256] [--markdown docs/readme/model-speed.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--eval-dir", default=None)
    ap.add_argument("--markdown", default=None)
    opts = ap.parse_args()
    from paperlike.embedding import embed_texts, get_embedder
    from paperlike.model_registry import HASHING, MODELS

    corpus, _ = _data.pwc_corpus(_data.eval_dir_from(opts.eval_dir))
    rng = np.random.default_rng(0)
    texts = [corpus.papers[i].text for i in sorted(rng.choice(len(corpus.papers), opts.n, replace=False).tolist())]
    lines = ["| model | papers/s (2 cores) | ms per paper | load (1 min) |", "| --- | --- | --- | --- |"]
    for spec in MODELS:
        if spec.name == HASHING:
            continue
        try:
            embedder = get_embedder(spec.name)
            embedder.embed_batch(texts[:4])  # loads (and, the first time, exports) the model
        except Exception as exc:  # a model not installed is a row that says so
            lines.append(f"| {spec.name} | not measured: {' '.join(str(exc).split())[:80]} | | |")
            continue
        started = time.perf_counter()
        embed_texts(texts, embedder, batch_size=32)
        seconds = time.perf_counter() - started
        lines.append(
            f"| {spec.name} | {len(texts) / seconds:.1f} | {1000 * seconds / len(texts):.0f} | {os.getloadavg()[0]:.1f} |"
        )
        print(lines[-1], flush=True)
    table = "\n".join(lines)
    print(table)
    if opts.markdown:
        Path(opts.markdown).write_text(
            f"Written by `python benchmarks/model_speed.py --n {opts.n} --markdown ...` ({opts.n} PwC-areas abstracts).\n\n{table}\n"
        )


if __name__ == "__main__":
    main()
