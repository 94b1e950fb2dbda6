"""Theme quality on PwC-areas: do discovered themes recover the 16 research areas?

Clusters the 5,250 PwC-areas papers (../shared/eval/pwc-areas) into 16 themes and prints
V-measure and NMI against the area labels, averaged over 3 seeds, for:

  * paperlike      the product's themes (FAISS spherical k-means on MiniLM vectors, restarts)
  * kmeans-minilm  plain scikit-learn k-means on the same MiniLM vectors
  * kmeans-tfidf   scikit-learn k-means on TF-IDF vectors reduced to 100 dims with SVD
  * kmeans-mix-W   k-means on MiniLM and TF-IDF-SVD vectors side by side (weight W on MiniLM);
                   every weight tried is printed, none is chosen (the product does not use it)
  * kmeans-nbr30   k-means on each paper's vector averaged with its 30 nearest neighbours'

All rows are computed in the same run on the same vectors. For the product's themes it also
prints the size balance (the largest theme's share of the papers) and the label-hit share: the
share of themes whose label has a word of the name of their members' majority task or area
(crude stems, "segmentation" meets "image-segmentation"), for the product's labels (a label
phrase used by 2+ members) against plain c-TF-IDF labels over the same members. Nothing is
tuned here, so there is no dev/test split. Also prints the time the product takes
to compute themes for all papers (16 themes, and the automatic number), and the share of papers
left without a theme. MiniLM embeddings are cached on disk (see _data.py); the first run embeds
5,250 abstracts (about 10 minutes on 2 cores).

Usage:
    python benchmarks/themes_quality.py [--eval-dir ../shared/eval] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import _data


def _stems(words) -> set[str]:
    from paperlike.themes.labels import _stem

    return {_stem(w) for w in words if len(w) > 2}


def label_hits(themes, rows, position, texts, min_members: int) -> tuple[float, list[str]]:
    """Share of themes whose label (recomputed from the same members with ``min_members``) has
    a word of their primary members' majority task or area; and the labels."""
    from collections import Counter

    from paperlike.themes.labels import LABEL_DOCS, label_terms

    groups, majority = [], []
    for theme in themes.themes:
        members = sorted((p for p in theme.papers if p.primary), key=lambda p: (-p.score, position[p.id]))[:LABEL_DOCS]
        groups.append([texts[position[p.id]] for p in members])
        row_of = [rows[int(p.id.split("-")[1])] for p in members]
        task = Counter(r["task_id"] for r in row_of).most_common(1)[0][0] if row_of else ""
        area = Counter(r["area"] for r in row_of).most_common(1)[0][0] if row_of else ""
        majority.append(_stems(task.split("-")) | _stems(area.split("-")))
    labels = label_terms(groups, min_members=min_members)
    hits = [bool(_stems(w for t in terms for w in t.replace("-", " ").split()) & names) for terms, names in zip(labels, majority)]
    return (sum(hits) / len(hits) if hits else 0.0), [" · ".join(t) for t in labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", default=None, help="folder with pwc-areas/ (default: ../shared/eval)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    opts = parser.parse_args()
    began = time.perf_counter()

    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import normalized_mutual_info_score, v_measure_score
    from sklearn.preprocessing import normalize

    from paperlike.embedding import MiniLMEmbedder
    from paperlike.themes import compute_themes

    corpus, rows = _data.pwc_corpus(_data.eval_dir_from(opts.eval_dir))
    texts = [p.text for p in corpus.papers]  # exactly what the product embeds
    ids = [p.id for p in corpus.papers]
    titles = [p.title for p in corpus.papers]
    areas = [rows[int(pid.split("-")[1])]["area"] for pid in ids]
    k = len(set(areas))
    vectors, how = _data.embed_cached(texts, MiniLMEmbedder(), "pwc-areas-product")

    def scores(labels) -> tuple[float, float]:
        return v_measure_score(areas, labels), normalized_mutual_info_score(areas, labels)

    seeds = [0, 1, 2]
    results: dict[str, list[tuple[float, float]]] = {"paperlike": [], "kmeans-minilm": [], "kmeans-tfidf": []}
    product_seconds = []
    uncovered = []
    balance: dict[str, list[float]] = {"largest_share": [], "label_hits": [], "label_hits_plain": []}
    position = {pid: i for i, pid in enumerate(ids)}
    for seed in seeds:
        started = time.perf_counter()
        themes = compute_themes(vectors, ids, titles, lambda pos: [texts[i] for i in pos], n=k, random_seed=1234 + seed)
        product_seconds.append(time.perf_counter() - started)
        labels = np.full(len(ids), -1)
        for number, theme in enumerate(themes.themes):
            for paper in theme.papers:
                if paper.primary:
                    labels[position[paper.id]] = number
        covered = {p.id for t in themes.themes for p in t.papers}
        uncovered.append(1 - len(covered) / len(ids))
        results["paperlike"].append(scores(labels))
        balance["largest_share"].append(max(int((labels == t).sum()) for t in range(len(themes.themes))) / len(ids))
        balance["label_hits"].append(label_hits(themes, rows, position, texts, 2)[0])
        balance["label_hits_plain"].append(label_hits(themes, rows, position, texts, 1)[0])
        results["kmeans-minilm"].append(scores(KMeans(k, random_state=seed).fit_predict(vectors)))

    tfidf = TfidfVectorizer(stop_words="english", min_df=2, sublinear_tf=True).fit_transform(texts)
    reduced = normalize(TruncatedSVD(100, random_state=0).fit_transform(tfidf))
    for seed in seeds:
        results["kmeans-tfidf"].append(scores(KMeans(k, random_state=seed).fit_predict(reduced)))
    for w in (0.3, 0.5, 0.7):
        mixed = normalize(np.hstack([np.sqrt(w) * vectors, np.sqrt(1 - w) * reduced]))
        results[f"kmeans-mix-{w}"] = [scores(KMeans(k, random_state=seed).fit_predict(mixed)) for seed in seeds]
    near = np.argsort(-(vectors @ vectors.T), axis=1, kind="stable")[:, :30]
    smoothed = normalize(vectors[near].mean(axis=1))
    results["kmeans-nbr30"] = [scores(KMeans(k, random_state=seed).fit_predict(smoothed)) for seed in seeds]

    started = time.perf_counter()
    auto = compute_themes(vectors, ids, titles, lambda pos: [texts[i] for i in pos])
    auto_seconds = time.perf_counter() - started
    auto_labels = np.full(len(ids), -1)
    for number, theme in enumerate(auto.themes):
        for paper in theme.papers:
            if paper.primary:
                auto_labels[position[paper.id]] = number

    table = {
        name: {
            "v_measure": float(np.mean([v for v, _ in vals])),
            "nmi": float(np.mean([n for _, n in vals])),
            "v_measure_per_seed": [round(v, 4) for v, _ in vals],
        }
        for name, vals in results.items()
    }
    figures = {
        "pwc_rows": len(rows),
        "papers": len(ids),
        "areas": k,
        "embeddings": how,
        "rows": table,
        "paperlike_seconds_16_themes": float(np.mean(product_seconds)),
        "paperlike_seconds_auto": auto_seconds,
        "auto_number_of_themes": len(auto.themes),
        "share_without_theme": float(max(uncovered)),
        "share_without_theme_auto": 1 - len({p.id for t in auto.themes for p in t.papers}) / len(ids),
        "largest_theme_share": float(np.mean(balance["largest_share"])),
        "label_hit_share": float(np.mean(balance["label_hits"])),
        "label_hit_share_plain_ctfidf": float(np.mean(balance["label_hits_plain"])),
        "auto_v_measure": float(v_measure_score(areas, auto_labels)),
        "auto_largest_theme_share": max(int((auto_labels == t).sum()) for t in range(len(auto.themes))) / len(ids),
        "auto_label_hit_share": label_hits(auto, rows, position, texts, 2)[0],
        "auto_label_hit_share_plain_ctfidf": label_hits(auto, rows, position, texts, 1)[0],
        "wall_seconds": time.perf_counter() - began,
        "load": os.getloadavg()[0],
    }
    if opts.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"PwC-areas: {len(rows)} rows, {len(ids)} papers after merging duplicates, {k} areas; MiniLM vectors: {how}")
    print(f"{'method':<15} {'V-measure':>9} {'NMI':>7}   (mean of seeds {seeds})")
    for name, row in table.items():
        print(f"{name:<15} {row['v_measure']:9.4f} {row['nmi']:7.4f}   per seed: {row['v_measure_per_seed']}")
    print(
        f"paperlike themes for {len(rows)} papers: {figures['paperlike_seconds_16_themes']:.1f} s with -n {k}; "
        f"{auto_seconds:.1f} s choosing the number automatically ({len(auto.themes)} themes)"
    )
    print(
        f"-n {k}: largest theme {figures['largest_theme_share']:.1%} of the papers; labels naming the majority task or area: "
        f"{figures['label_hit_share']:.1%} (2+ members per label phrase) vs {figures['label_hit_share_plain_ctfidf']:.1%} (plain c-TF-IDF)"
    )
    print(
        f"automatic ({len(auto.themes)} themes): V-measure {figures['auto_v_measure']:.4f}; largest theme "
        f"{figures['auto_largest_theme_share']:.1%}; labels naming the majority task or area: "
        f"{figures['auto_label_hit_share']:.1%} vs {figures['auto_label_hit_share_plain_ctfidf']:.1%} (plain c-TF-IDF)"
    )
    print(
        f"papers without a theme: {figures['share_without_theme']:.1%} (-n {k}), {figures['share_without_theme_auto']:.1%} (automatic)"
    )

    print(f"wall {figures['wall_seconds']:.0f} s; load {figures['load']:.1f}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
