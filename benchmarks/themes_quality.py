"""Theme quality on PwC-areas: do discovered themes recover the 16 research areas?

Clusters the 5,250 PwC-areas papers (../shared/eval/pwc-areas) into 16 themes and prints
V-measure and NMI against the area labels, averaged over 3 seeds, for:

  * paperlike      the product's themes (FAISS spherical k-means on MiniLM vectors, restarts)
  * kmeans-minilm  plain scikit-learn k-means on the same MiniLM vectors
  * kmeans-tfidf   scikit-learn k-means on TF-IDF vectors reduced to 100 dims with SVD

All rows are computed in the same run on the same vectors. Also prints the time the product takes
to compute themes for all papers (16 themes, and the automatic number), and the share of papers
left without a theme. MiniLM embeddings are cached on disk (see _data.py); the first run embeds
5,250 abstracts (about 10 minutes on 2 cores).

Usage:
    python benchmarks/themes_quality.py [--eval-dir ../shared/eval] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import _data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", default=None, help="folder with pwc-areas/ (default: ../shared/eval)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    opts = parser.parse_args()

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
        results["kmeans-minilm"].append(scores(KMeans(k, random_state=seed).fit_predict(vectors)))

    tfidf = TfidfVectorizer(stop_words="english", min_df=2, sublinear_tf=True).fit_transform(texts)
    reduced = normalize(TruncatedSVD(100, random_state=0).fit_transform(tfidf))
    for seed in seeds:
        results["kmeans-tfidf"].append(scores(KMeans(k, random_state=seed).fit_predict(reduced)))

    started = time.perf_counter()
    auto = compute_themes(vectors, ids, titles, lambda pos: [texts[i] for i in pos])
    auto_seconds = time.perf_counter() - started

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
        f"papers without a theme: {figures['share_without_theme']:.1%} (-n {k}), {figures['share_without_theme_auto']:.1%} (automatic)"
    )


if __name__ == "__main__":
    main()
