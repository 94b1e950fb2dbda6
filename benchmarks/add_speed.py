"""Incremental add vs full rebuild: add 100 new papers to an index of the 5,250 PwC-areas papers.

Prints, measured in the same run with all-MiniLM-L6-v2 on this machine:
  * the wall time of ``add_papers`` of 100 new papers (the first 100 ACM-CR papers) to the
    5,250-paper index: only the 100 are embedded;
  * the wall time of a full rebuild of the same 5,350 papers without the cache (``reuse=False``);
  * their ratio (target: the add costs at most 5% of the rebuild).

The starting 5,250-paper index is written from cached MiniLM vectors of exactly the texts the
product embeds (see _data.py); the first run embeds them once (about 10 minutes on 2 cores).
The full rebuild always embeds everything: it is the thing being measured.

Usage:
    python benchmarks/add_speed.py [--eval-dir ../shared/eval] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import _data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", default=None, help="folder with pwc-areas/ and acm-cr/ (default: ../shared/eval)")
    parser.add_argument("--new", type=int, default=100, help="papers to add (default 100)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    opts = parser.parse_args()

    from paperlike.embedding import MiniLMEmbedder
    from paperlike.readers import collect, paper_from_fields
    from paperlike.records import Corpus
    from paperlike.service.build import build_index
    from paperlike.service.edits import add_papers
    from paperlike.storage import load_index
    from paperlike.storage.writer import write_index

    eval_dir = _data.eval_dir_from(opts.eval_dir)
    corpus, _ = _data.pwc_corpus(eval_dir)
    embedder = MiniLMEmbedder()
    vectors, how = _data.embed_cached([p.text for p in corpus.papers], embedder, "pwc-areas-product")
    src = str(eval_dir / "acm-cr" / "papers.jsonl.gz")
    new = collect(
        [
            (
                f"{src}:{i + 1}",
                paper_from_fields(
                    {"title": r["title"], "abstract": r.get("abstract"), "doi": r.get("doi")}, f"{src}:{i + 1}", src
                ),
            )
            for i, r in enumerate(_data.load_acm_papers(eval_dir, opts.new))
        ],
        src,
    )
    embedder.embed_batch(["load the model before timing"])

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "pwc"
        write_index(index_dir, corpus.papers, vectors, embedder.identity(), corpus.source, corpus.sha256())

        started = time.perf_counter()
        report = add_papers(index_dir, [new], embedder=embedder)
        add_seconds = time.perf_counter() - started
        merged = load_index(index_dir)
        all_papers = merged.papers()

        started = time.perf_counter()
        rebuild = build_index(Corpus(all_papers, "rebuild"), embedder, Path(tmp) / "rebuild", reuse=False, progress=True)
        rebuild_seconds = time.perf_counter() - started

    figures = {
        "start_papers": len(corpus),
        "added": report.added,
        "embedded_by_add": report.embedded,
        "add_seconds": add_seconds,
        "rebuild_papers": rebuild.count,
        "embedded_by_rebuild": rebuild.embedded,
        "rebuild_seconds": rebuild_seconds,
        "add_over_rebuild": add_seconds / rebuild_seconds,
        "start_vectors": how,
    }
    if opts.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"start: {len(corpus)} PwC-areas papers (vectors: {how})")
    print(f"add {report.added} new papers (ACM-CR): {add_seconds:7.1f} s   ({report.embedded} embedded)")
    print(f"full rebuild of {rebuild.count} papers, no cache: {rebuild_seconds:7.1f} s   ({rebuild.embedded} embedded)")
    print(f"add / rebuild: {figures['add_over_rebuild']:.1%} (target <= 5%)")


if __name__ == "__main__":
    main()
