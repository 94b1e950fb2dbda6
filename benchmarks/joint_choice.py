"""One default for every data set: choose each query kind's ranking on the dev halves of all sets.

``ranking.py`` tunes every lever on one data set's dev half. The product has one default, and
the sets disagree (PwC-areas rewards papers on the same task, ACM-CR the papers a paper cites),
so this script makes the choice across them, by a rule written before any test half was read:

    for each query kind, among the rows the product can compute (the fused weights, the
    pool re-ranks ``+diffuse`` and ``+nbr-pool``, ``topical mode``), pick the row with the
    highest mean, over the data sets that have that kind, of its dev primary metric divided by
    plain cosine's dev primary metric (PwC: task-P@10; ACM-CR: recall@100 + MRR).

Each set counts once whatever its number of queries, and a ratio to cosine puts the sets'
metrics on one scale. It then prints the chosen row's test figures on every set beside the
product's and the best single baseline's (cosine, BM25, TF-IDF).

Usage (the ``--raw`` files of ranking.py runs)::

    python benchmarks/ranking.py --set pwc --raw pwc.json
    python benchmarks/ranking.py --set acm15k --raw acm15k.json
    python benchmarks/joint_choice.py pwc=pwc.json acm15k=acm15k.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ranking import metric_names, primary  # noqa: E402

# Rows the product can compute for a query (the others need stored data it does not keep).
CANDIDATE = ("z cos+tfidf-tok w=", "topical mode")
CANDIDATE_LEVERS = ("+diffuse", "+nbr-pool")
BASELINES = ("cosine", "bm25", "tfidf", "tfidf-tok")


def candidate(row: str) -> bool:
    if "[" in row or row.startswith("z cos+tfidf-tok+"):  # another model; three-way fusion
        return False
    if not row.startswith(CANDIDATE):
        return False
    extra = row.split(" ")[3:] if row.startswith("z cos+tfidf-tok w=") else []
    return not extra or (extra[0] in CANDIDATE_LEVERS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="SET=PATH: a ranking.py --raw file and its set (pwc, acm15k, acm)")
    ap.add_argument("--markdown", default=None, help="also write the output here, for the README (docs/readme/joint-choice.md)")
    opts = ap.parse_args()
    paths: dict[str, Path] = {}
    for arg in opts.runs:
        name, _, path = arg.partition("=")
        if not path:
            sys.exit(f"error: {arg!r} is not SET=PATH; write e.g. pwc=pwc-raw.json")
        if name in paths:
            sys.exit(f"error: set {name!r} is given twice; name each run once")
        paths[name] = Path(path)
    runs = {}
    for name, path in paths.items():
        try:
            runs[name] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            sys.exit(f"error: cannot read {path} ({exc}); give the --raw file of a ranking.py run")
    lines = choose(runs)
    print("\n".join(lines))
    if opts.markdown:
        command = "python benchmarks/joint_choice.py " + " ".join(f"{name}=..." for name in runs)
        Path(opts.markdown).write_text(
            f"Written by `{command}` (the `--raw` files of the runs above).\n\n```text\n" + "\n".join(lines).strip() + "\n```\n"
        )


def choose(runs: dict) -> list[str]:
    """The rule's choice for every query kind, and its test figures, as lines of text."""
    out: list[str] = []
    kinds = sorted({kind for raw in runs.values() for kind in raw})
    for kind in kinds:
        sets = [s for s, raw in runs.items() if kind in raw]
        arrays = {s: {r: {h: np.array(v[h]) for h in ("dev", "test")} for r, v in runs[s][kind].items()} for s in sets}
        rows = sorted(set.intersection(*(set(a) for a in arrays.values())))
        gain = {}
        for r in rows:
            if not candidate(r) and r != "product":
                continue
            ratios = []
            for s in sets:
                names = metric_names(s, kind)
                cos = primary(arrays[s]["cosine"]["dev"], names).mean()
                ratios.append(primary(arrays[s][r]["dev"], names).mean() / cos)
            gain[r] = float(np.mean(ratios))
        order = sorted(gain, key=lambda r: (-gain[r], rows.index(r)))
        chosen = order[0]
        out.append(
            f"\n{kind} queries; sets: {', '.join(sets)}; chosen on dev: {chosen} (mean dev ratio to cosine {gain[chosen]:.4f})"
        )
        out.append(
            f"  product's dev ratio {gain['product']:.4f}; next best: " + "; ".join(f"{r} {gain[r]:.4f}" for r in order[1:4])
        )
        for s in sets:
            names = metric_names(s, kind)
            best_base = max(BASELINES, key=lambda b: primary(arrays[s][b]["dev"], names).mean())
            out.append(f"  {s} test ({len(arrays[s]['cosine']['test'])} queries):")
            for label, r in (("chosen", chosen), ("product", "product"), (f"best baseline on dev: {best_base}", best_base)):
                test = arrays[s][r]["test"].mean(axis=0)
                out.append(f"    {label:40s} " + "  ".join(f"{n} {v:.4f}" for n, v in zip(names, test)))
            diff = primary(arrays[s][chosen]["test"], names) - primary(arrays[s]["product"]["test"], names)
            rng = np.random.default_rng(0)
            boots = [diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(1000)]
            low, high = np.percentile(boots, [2.5, 97.5])
            out.append(f"    {'chosen - product, primary, paired 95%':40s} {diff.mean():+.4f} ({low:+.4f} .. {high:+.4f})")
            for b in BASELINES:
                test = arrays[s][b]["test"].mean(axis=0)
                out.append(f"    {'baseline ' + b:40s} " + "  ".join(f"{n} {v:.4f}" for n, v in zip(names, test)))
    return out


if __name__ == "__main__":
    main()
