"""Do two versions of paperlike give the same answers? Dump answers with one, compare with another.

``dump`` writes, for ``--ids`` random papers of an index (seeded), the answer dicts of
``Recommender.ask`` with the why in every mode (hybrid, lexical, dense, topical, diverse), plus papers
like two of them, like one but not another, five of their titles as free text (this loads the
index's model) and five of them within the first automatic theme. ``compare`` reads two dumps and prints how many
answers have the same ids in the same order, the same explanations, identical dicts, and the
largest score or cosine difference.

Usage (the package imported is the one on ``PYTHONPATH``)::

    PYTHONPATH=/path/to/old/src python benchmarks/same_answers.py dump INDEX_DIR old.json [--ids 60]
    PYTHONPATH=src python benchmarks/same_answers.py dump INDEX_DIR new.json [--ids 60]
    python benchmarks/same_answers.py compare old.json new.json

``pwc-index INDEX_DIR`` writes an index of the 5,250 PwC-areas papers from the benchmarks'
MiniLM vector cache (``embed_eval.py --set pwc`` fills it), so a comparison on PwC costs no
embedding here.
"""

from __future__ import annotations

import argparse
import json
import random
from typing import Any

MODES: list[dict[str, Any]] = [{}, {"mode": "lexical"}, {"mode": "dense"}, {"mode": "topical"}, {"diverse": True}]


def pwc_index(out: str, eval_dir: str | None) -> None:
    import hashlib

    import _data
    from paperlike.embedding import get_embedder
    from paperlike.storage.writer import write_index

    corpus, _ = _data.pwc_corpus(_data.eval_dir_from(eval_dir))
    embedder = get_embedder("all-MiniLM-L6-v2")
    vectors, how = _data.embed_cached([p.text for p in corpus.papers], embedder, "pwc")
    digest = hashlib.sha256("\n".join(p.text for p in corpus.papers).encode()).hexdigest()
    write_index(out, corpus.papers, vectors, embedder.identity(), corpus.source, digest)
    print(f"{len(corpus.papers)} PwC-areas papers -> {out} (vectors: {how})")


def dump(index_dir: str, out: str, count: int) -> None:
    from threadpoolctl import threadpool_limits

    import paperlike
    from paperlike import Recommender

    threadpool_limits(1, user_api="blas")
    rec = Recommender.load(index_dir)
    ids = random.Random(42).sample(rec.index.ids, min(count, rec.index.count))
    answers = [rec.ask([i], 10, why=True, **options).to_dict() for i in ids for options in MODES]
    if len(ids) > 2:
        answers.append(rec.ask(ids[:2], 10, why=True).to_dict())
        answers.append(rec.ask([ids[0]], 10, why=True, unlike=[ids[1]]).to_dict())
        # Free text (the model is loaded) and a theme of the automatic themes (computed, or loaded).
        titles = [rec.paper(i).title for i in ids[:5]]
        answers += [rec.ask([t], 10, why=True, kind="text").to_dict() for t in titles]
        theme = rec.themes(save=False).themes[0].id
        answers += [rec.ask([i], 10, why=True, theme=theme).to_dict() for i in ids[:5]]
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"code": paperlike.__file__, "answers": answers}, fh)
    print(f"{len(answers)} answers from {paperlike.__file__} -> {out}")


def compare(first: str, second: str) -> None:
    with open(first, encoding="utf-8") as fh:
        a = json.load(fh)["answers"]
    with open(second, encoding="utf-8") as fh:
        b = json.load(fh)["answers"]
    same_ids = same_why = identical = 0
    diff = 0.0
    for x, y in zip(a, b):
        rx, ry = x["results"], y["results"]
        same_ids += [r["id"] for r in rx] == [r["id"] for r in ry]
        same_why += [r.get("why") for r in rx] == [r.get("why") for r in ry]
        identical += x == y
        for r, s in zip(rx, ry):
            if r["id"] == s["id"]:
                diff = max(diff, abs(r["score"] - s["score"]), abs((r.get("cosine") or 0) - (s.get("cosine") or 0)))
    print(
        f"{min(len(a), len(b))} answers: same ids and order {same_ids}, same whys {same_why}, "
        f"identical {identical}, largest score difference {diff:.2e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("index_dir")
    d.add_argument("out")
    d.add_argument("--ids", type=int, default=60)
    c = sub.add_parser("compare")
    c.add_argument("first")
    c.add_argument("second")
    w = sub.add_parser("pwc-index")
    w.add_argument("index_dir")
    w.add_argument("--eval-dir", default=None)
    opts = parser.parse_args()
    if opts.command == "dump":
        dump(opts.index_dir, opts.out, opts.ids)
    elif opts.command == "pwc-index":
        pwc_index(opts.index_dir, opts.eval_dir)
    else:
        compare(opts.first, opts.second)


if __name__ == "__main__":
    main()
