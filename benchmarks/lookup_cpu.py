"""CPU time of one id lookup, part by part, exact and with the shortlist, and how often the
shortlist changes an answer.

An id lookup is what ``GET /api/similar?q=<id>`` and ``paperlike similar ID --why`` compute:
``Recommender.ask([id], 10, why=True)`` and the answer's dict. This runs them in-process on a warm
index (BM25 loaded, vectors mapped, 300 other lookups first), one BLAS and one OpenMP thread as
the server uses, and measures CPU time (``time.process_time``), not wall time: the machine is
shared. Each part is timed by wrapping the function that does it:

- ``find``: resolving the id (``Recommender.find``);
- ``bm25``: BM25 scores of every paper (``LexicalIndex.scores_for_terms``);
- ``dense+fusion``: cosines (all papers, or the shortlist's) and the fused scores (``ranker._score``);
- ``top-k``: choosing the results (``ranker._pick``);
- ``latex``: decoding the LaTeX of the query's and results' texts (``plain_text``; the server
  decodes every paper's once when it opens an index, ``PaperIndex.decode_texts``, as this does);
- ``why``: the explanations (``ranker.explain``);
- ``rest``: everything else (reading records, building results, the answer's dict).

Each configuration runs on the same ids, with the word cache reset to its state after the
warm-up, so neither profits from the other's run.

``--overlap N`` compares the shortlist's answers with the exact ones for N random ids (and the
same papers' titles as free-text queries when the index's embedder is the hashing one): overlap@k,
the share of identical answers (same ids in the same order) and the largest score difference.

Usage::

    python benchmarks/lookup_cpu.py [--index-dir DIR] [--lookups 200] [--overlap 500] [--json]

Without ``--index-dir``, the 96,373-paper ACM-CR index of ``benchmarks/serve_load.py`` (hashing
vectors; built into the bench cache from ``--eval-dir`` when missing).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

PARTS = ("find", "bm25", "dense+fusion", "top-k", "latex", "why")


def _wrap(owner: Any, name: str, label: str, spent: dict[str, float], depth: list[int]) -> None:
    """Replace ``owner.name`` by a version adding its CPU time to ``spent[label]`` (outermost
    timed call only, so nested parts are not counted twice)."""
    inner = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        if depth[0]:
            return inner(*args, **kwargs)
        depth[0] += 1
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - started
            depth[0] -= 1

    setattr(owner, name, timed)


def instrument() -> dict[str, float]:
    """Wrap the parts of a lookup; returns the dict their CPU seconds accumulate in.

    Code from before the shortlist (no ``ranker._score``) is measured too: its dense and fusion
    part is then the time inside ``rank_index`` less the parts timed within it.
    """
    from paperlike import Recommender
    from paperlike.records import papers
    from paperlike.search import ranker
    from paperlike.search.lexical import LexicalIndex
    from paperlike.service import ranking

    spent: dict[str, float] = {}
    depth = [0]
    parts = [
        (Recommender, "find", "find"),
        (LexicalIndex, "scores_for_terms", "bm25"),
        (ranker, "_pick", "top-k"),
        (papers, "plain_text", "latex"),
        (ranker, "explain", "why"),
    ]
    if hasattr(ranker, "_score"):
        parts.append((ranker, "_score", "dense+fusion"))
    else:
        outer = ranking.rank_index

        def ranked(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return outer(*args, **kwargs)
            finally:
                spent["rank_index"] = spent.get("rank_index", 0.0) + time.process_time() - started

        ranking.rank_index = ranked
    for owner, name, label in parts:
        _wrap(owner, name, label, spent, depth)
    return spent


def lookup(rec: Any, paper_id: str) -> dict[str, Any]:
    return rec.ask([paper_id], 10, why=True).to_dict()


def breakdown(rec: Any, ids: list[str], spent: dict[str, float], words: dict) -> dict[str, float]:
    """Mean CPU milliseconds per lookup, per part and in total."""
    if hasattr(rec.lexical(), "_word_cache"):
        rec.lexical()._word_cache.clear()
        rec.lexical()._word_cache.update(words)
    spent.clear()
    started = time.process_time()
    for paper_id in ids:
        lookup(rec, paper_id)
    total = time.process_time() - started
    if "rank_index" in spent:  # code from before the shortlist
        inside = ("bm25", "top-k", "latex", "why")
        spent["dense+fusion"] = spent.pop("rank_index") - sum(spent.get(part, 0.0) for part in inside)
    row = {part: 1000 * spent.get(part, 0.0) / len(ids) for part in PARTS}
    row["rest"] = 1000 * total / len(ids) - sum(row.values())
    row["total"] = 1000 * total / len(ids)
    return row


def compare(exact: Callable[[], Any], fast: Callable[[], Any], k: int) -> tuple[float, bool, float]:
    """Overlap@k, whether the answers are identical (ids and order), largest score difference."""
    a, b = exact(), fast()
    ids_a, ids_b = [r.id for r in a.results], [r.id for r in b.results]
    scores_a = {r.id: r.score for r in a.results}
    diff = max((abs(scores_a[r.id] - r.score) for r in b.results if r.id in scores_a), default=0.0)
    return len(set(ids_a) & set(ids_b)) / max(1, min(k, len(ids_a))), ids_a == ids_b, diff


def overlap(rec: Any, ids: list[str], cases: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """For each case (label, options of ``ask``), the shortlist's answers against the exact ones."""
    shortlist = rec._shortlist
    rows = []
    for label, options in cases:
        found = []
        for paper_id in ids:
            query = rec.index.titles[rec.index.position(paper_id)] if options.get("kind") == "text" else paper_id

            def ask(use: Any, query: str = query) -> Any:
                rec._shortlist = use
                return rec.ask([query], **options)

            found.append(compare(lambda: ask(None), lambda: ask(shortlist), options["k"]))
        rec._shortlist = shortlist
        rows.append(
            {
                "case": label,
                "queries": len(ids),
                f"overlap@{options['k']}": sum(f[0] for f in found) / len(found),
                "identical": sum(f[1] for f in found) / len(found),
                "max score diff": max(f[2] for f in found),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", help="index to measure (default: the serve_load ACM-CR hashing index)")
    parser.add_argument("--eval-dir", help="evaluation data, to build the default index when missing")
    parser.add_argument("--lookups", type=int, default=200, help="timed id lookups per configuration")
    parser.add_argument("--overlap", type=int, default=0, help="random ids whose shortlist answers are compared")
    parser.add_argument("--dense", type=int, help="papers taken by approximate cosine (default: SHORTLIST_DENSE)")
    parser.add_argument("--lexical", type=int, help="papers taken by BM25 (default: SHORTLIST_LEXICAL)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()

    import faiss
    from threadpoolctl import threadpool_limits

    import paperlike
    from paperlike import Recommender
    from paperlike.search import ranker

    if opts.dense is not None:
        ranker.SHORTLIST_DENSE = opts.dense
    if opts.lexical is not None:
        ranker.SHORTLIST_LEXICAL = opts.lexical
    threadpool_limits(1, user_api="blas")  # as the server: one BLAS thread per request thread
    faiss.omp_set_num_threads(1)
    if opts.index_dir:
        directory = Path(opts.index_dir)
    else:
        from _data import eval_dir_from
        from serve_load import build_cached

        directory = build_cached("acm", eval_dir_from(opts.eval_dir))
    rec = Recommender.load(directory)
    rng = random.Random(opts.seed)
    ids = rng.sample(rec.index.ids, min(len(rec.index.ids), 300 + opts.lookups))
    warm, timed = ids[:300], ids[300:]
    rec.lexical()
    started = time.process_time()
    used = rec.use_shortlist() if hasattr(rec, "use_shortlist") else False  # older code has none
    built = time.process_time() - started
    started = time.process_time()
    with_markup = rec.index.decode_texts() if hasattr(rec.index, "decode_texts") else None
    decoded = time.process_time() - started
    spent = instrument()
    for paper_id in warm:
        lookup(rec, paper_id)
    words = dict(getattr(rec.lexical(), "_word_cache", {}))
    shortlist = getattr(rec, "_shortlist", None)
    rows = {}
    rec._shortlist = None
    rows["exact"] = breakdown(rec, timed, spent, words)
    if used:
        rec._shortlist = shortlist
        rows["shortlist"] = breakdown(rec, timed, spent, words)
    result: dict[str, Any] = {
        "papers": rec.index.count,
        "code": str(Path(paperlike.__file__).parent),
        "shortlist": {"dense": getattr(ranker, "SHORTLIST_DENSE", None), "lexical": getattr(ranker, "SHORTLIST_LEXICAL", None)},
        "lookups": len(timed),
        "shortlist_build_cpu_s": round(built, 2),
        "papers_with_latex": with_markup,
        "decode_texts_cpu_s": round(decoded, 2),
    }
    result["cpu_ms_per_lookup"] = {name: {k: round(v, 2) for k, v in row.items()} for name, row in rows.items()}
    if opts.overlap and used:
        sample = random.Random(opts.seed + 1).sample(rec.index.ids, min(opts.overlap, rec.index.count))
        cases: list[tuple[str, dict[str, Any]]] = [
            ("id, hybrid, k=10", {"k": 10}),
            ("id, dense, k=10", {"k": 10, "mode": "dense"}),
            ("id, lexical, k=10", {"k": 10, "mode": "lexical"}),
            ("id, hybrid, k=100", {"k": 100}),
            ("id, hybrid, diverse, k=10", {"k": 10, "diverse": True}),
        ]
        if rec.index.model.get("name") == "hashing":
            cases.append(("title as text, hybrid, k=10", {"k": 10, "kind": "text"}))
        result["overlap"] = overlap(rec, sample, cases)
    if opts.json:
        print(json.dumps(result, indent=1))
        return
    print(
        f"{result['papers']} papers, {len(timed)} id lookups (hybrid, k=10, with the why), CPU ms per lookup; code: {result['code']}"
    )
    sizes = f"{result['shortlist']['dense']} by approximate cosine + {result['shortlist']['lexical']} by BM25"
    print(f"shortlist ({sizes}) built in {built:.2f} s of CPU" if used else "no shortlist")
    if with_markup is not None:
        print(f"LaTeX of {with_markup} papers decoded in {decoded:.2f} s of CPU")
    columns = [*PARTS, "rest", "total"]
    print("| ranking | " + " | ".join(columns) + " |")
    print("| --- | " + " | ".join("---" for _ in columns) + " |")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.2f}" for c in columns) + " |")
    for row in result.get("overlap", []):
        print(", ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
