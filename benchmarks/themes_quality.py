"""Theme quality on PwC-areas: do discovered themes recover the 16 research areas?

Clusters the 5,250 PwC-areas papers (../shared/eval/pwc-areas) into 16 themes and prints
V-measure and NMI against the area labels, averaged over 3 seeds, for:

  * paperlike      the product's themes (FAISS spherical k-means, restarts, on MiniLM vectors beside
                   the product's reduced TF-IDF words, averaged with 30 neighbours: themes/space.py)
  * paperlike-before  the product's themes on MiniLM vectors alone (before issue 21's change)
  * kmeans-minilm  plain scikit-learn k-means on the same MiniLM vectors
  * kmeans-tfidf   scikit-learn k-means on TF-IDF vectors reduced to 100 dims with SVD
  * kmeans-mix-W   k-means on MiniLM and TF-IDF-SVD vectors side by side (weight W on MiniLM);
                   every weight tried is printed, none is chosen (the product does not use it)
  * kmeans-nbr30   k-means on each paper's vector averaged with its 30 nearest neighbours'

All rows are computed in the same run on the same vectors. For the product's themes it also
prints the size balance (the largest theme's share of the papers) and the label-hit share: the
share of themes whose label has a word of the name of their members' majority task or area
(crude stems, "segmentation" meets "image-segmentation"), for the product's labels (a label
phrase used by 2+ members) against plain c-TF-IDF labels over the same members. Also prints the
time the product takes to compute themes for all papers (16 themes, and the automatic number),
and the share of papers left without a theme.

Representations the product could compute at theme time (issue 21), each clustered with the
product's own spherical k-means with restarts (paperlike.themes.cluster.discover, 16 themes):

  * pk-centred          MiniLM vectors less their corpus mean, unit length again
  * pk-mix-W            MiniLM side by side with a 100-dim SVD of the product's own TF-IDF matrix
                        (paperlike.search.tfidf: BM25 stems and stem pairs, from the lexical index
                        the product keeps beside the index), weight W on MiniLM (W=1: MiniLM only)
  * pk-mix-W-nbrK       the same, each vector averaged with its K nearest (in that space)
  * pk-mix200-W-nbrK    pk-mix-W-nbrK with a 200-dim SVD instead of 100
  * spectral-W-nnK      spectral clustering (Ng-Jordan-Weiss) of the symmetric K-nearest-neighbour
                        graph of pk-mix-W: top 16 eigenvectors of D^-1/2 A D^-1/2 (ARPACK, fixed
                        start), rows made unit length, then the product's k-means

These have tuned parameters, so the papers are split once into a dev and a test half by a hash
of their id (sha256, as in ranking.py). Every paper is clustered; V-measure is scored over each
half's papers separately. Each family's parameters are chosen by the dev half's mean over the
seeds, and the family is chosen on dev too; the test half is only reported. The baselines are
printed with the same halves. For the variant chosen on dev, the product's full theme
computation (compute_themes, labels included) runs on that representation, and its largest
theme's share, label-hit share and time (TF-IDF SVD + mixing + smoothing + themes; the lexical
index itself is kept beside the index by the product, its build time is printed apart) are
printed. MiniLM embeddings are cached on disk (see _data.py); the first run embeds 5,250
abstracts (about 10 minutes on 2 cores).

Usage:
    python benchmarks/themes_quality.py [--eval-dir ../shared/eval] [--json]

On a busy 2-core machine, set OMP_NUM_THREADS=1: FAISS's k-means was 7 times slower with two
threads competing with other processes (the whole run: 13 minutes instead of 4).
"""

from __future__ import annotations

import argparse
import hashlib
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


def is_dev(pid: str) -> bool:
    """The dev half of the papers (same hash as ranking.py's queries)."""
    return int(hashlib.sha256(pid.encode()).hexdigest()[:8], 16) % 2 == 0


MIX_WEIGHTS = (1.0, 0.7, 0.5, 0.3, 0.2)  # weight on MiniLM in pk-mix (1.0: MiniLM only)
SMOOTH_K = (10, 30)  # neighbours averaged in pk-mix-W-nbrK
GRAPH_K = (10, 30)  # neighbours of the kNN graph in spectral-W-nnK
SVD_DIMS = 100
WIDE_SVD = (200, (0.5, 0.3))  # pk-mix200-W-nbrK: a 200-dim SVD, for these weights (and SMOOTH_K)


def product_tfidf(texts: list[str]):
    """The product's TF-IDF matrix (papers x features, CSR), from the lexical index it keeps
    beside the paper index (built here, as the product does on first use)."""
    from paperlike.search.lexical import build_lexical

    return build_lexical(texts).tfidf().matrix()


def _primary_labels(themes, position: dict[str, int], count: int) -> np.ndarray:
    labels = np.full(count, -1)
    for number, theme in enumerate(themes.themes):
        for paper in theme.papers:
            if paper.primary:
                labels[position[paper.id]] = number
    return labels


def svd_rows(matrix, dims: int = SVD_DIMS) -> np.ndarray:
    """Unit-length rows of a truncated SVD of ``matrix`` (fixed random state)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    return normalize(TruncatedSVD(dims, random_state=0).fit_transform(matrix)).astype(np.float32)


def representation(vectors: np.ndarray, matrix, params: dict) -> np.ndarray:
    """A variant's vectors from MiniLM vectors and the TF-IDF matrix (what the product would do)."""
    if params.get("centred"):
        centred = vectors - vectors.mean(axis=0)
        return (centred / np.linalg.norm(centred, axis=1, keepdims=True)).astype(np.float32)
    x = mix(vectors, svd_rows(matrix, params.get("dims", SVD_DIMS)) if params["w"] < 1 else vectors, params["w"])
    if params.get("nbr"):
        x = smooth(x, params["nbr"])
    if params.get("graph"):
        x = spectral_embedding(x, params["graph"], params["k"])
    return x


def mix(vectors: np.ndarray, reduced: np.ndarray, w: float) -> np.ndarray:
    """Unit rows of ``[sqrt(w) * vectors, sqrt(1 - w) * reduced]`` (``vectors`` when w is 1)."""
    if w >= 1:
        return np.ascontiguousarray(vectors, dtype=np.float32)
    both = np.hstack([np.sqrt(w) * vectors, np.sqrt(1 - w) * reduced])
    return (both / np.linalg.norm(both, axis=1, keepdims=True)).astype(np.float32)


def nearest(x: np.ndarray, k: int) -> np.ndarray:
    """``(papers, k)`` positions of each paper's k nearest by cosine, itself included."""
    sims = x @ x.T
    return np.argpartition(-sims, k - 1, axis=1)[:, :k]


def smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Each unit vector averaged with its k nearest (itself among them), unit length again."""
    mean = x[nearest(x, k)].mean(axis=1)
    return (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)


def spectral_embedding(x: np.ndarray, k: int, dims: int) -> np.ndarray:
    """Ng-Jordan-Weiss: top ``dims`` eigenvectors of the normalised symmetric kNN graph, rows unit."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import eigsh

    n = len(x)
    near = nearest(x, k + 1)
    graph = csr_matrix((np.ones(near.size), (np.repeat(np.arange(n), k + 1), near.ravel())), shape=(n, n))
    graph.setdiag(0)
    graph = ((graph + graph.T) > 0).astype(np.float64)
    inv = 1 / np.sqrt(np.asarray(graph.sum(axis=1)).ravel())
    normalised = graph.multiply(inv[:, None]).multiply(inv[None, :]).tocsr()
    _, vecs = eigsh(normalised, k=dims, which="LA", v0=np.ones(n), tol=1e-6)
    return (vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def product_kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The product's discovered-theme clustering (spherical k-means with restarts), primary labels."""
    from paperlike.themes.cluster import discover

    return discover(np.ascontiguousarray(x, dtype=np.float32), np.arange(len(x)), k, seed=1234 + seed)[1]


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

    dev = np.array([is_dev(pid) for pid in ids])
    area_array = np.array(areas)

    def scores(labels) -> tuple[float, float, float, float]:
        """V-measure and NMI over every paper, then V-measure over the dev and the test half."""
        labels = np.asarray(labels)
        return (
            v_measure_score(areas, labels),
            normalized_mutual_info_score(areas, labels),
            v_measure_score(area_array[dev], labels[dev]),
            v_measure_score(area_array[~dev], labels[~dev]),
        )

    seeds = [0, 1, 2]
    started = time.perf_counter()
    matrix = product_tfidf(texts)
    lexical_seconds = time.perf_counter() - started
    results: dict[str, list[tuple[float, float, float, float]]] = {
        "paperlike": [],
        "paperlike-before": [],
        "kmeans-minilm": [],
        "kmeans-tfidf": [],
    }
    product_seconds = []
    uncovered = []
    balance: dict[str, list[float]] = {"largest_share": [], "label_hits": [], "label_hits_plain": []}
    position = {pid: i for i, pid in enumerate(ids)}
    for seed in seeds:
        started = time.perf_counter()
        themes = compute_themes(
            vectors, ids, titles, lambda pos: [texts[i] for i in pos], n=k, random_seed=1234 + seed, words=lambda: matrix
        )
        product_seconds.append(time.perf_counter() - started)
        before = compute_themes(vectors, ids, titles, lambda pos: [texts[i] for i in pos], n=k, random_seed=1234 + seed)
        results["paperlike-before"].append(scores(_primary_labels(before, position, len(ids))))
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

    # Issue 21: representations the product could compute at theme time, the product's k-means.
    started = time.perf_counter()
    ptfidf = svd_rows(matrix)
    svd_seconds = time.perf_counter() - started
    families: dict[str, list[str]] = {"pk-centred": ["pk-centred"]}
    params: dict[str, dict] = {"pk-centred": {"centred": True}}
    started = time.perf_counter()
    for w in MIX_WEIGHTS:
        mixed = mix(vectors, ptfidf, w)
        families.setdefault("pk-mix", []).append(f"pk-mix-{w}")
        params[f"pk-mix-{w}"] = {"w": w}
        for nk in SMOOTH_K:
            families.setdefault("pk-mix-nbr", []).append(f"pk-mix-{w}-nbr{nk}")
            params[f"pk-mix-{w}-nbr{nk}"] = {"w": w, "nbr": nk}
        for nk in GRAPH_K:
            families.setdefault("spectral", []).append(f"spectral-{w}-nn{nk}")
            params[f"spectral-{w}-nn{nk}"] = {"w": w, "graph": nk, "k": k}
    for w in WIDE_SVD[1]:
        for nk in SMOOTH_K:
            families.setdefault(f"pk-mix{WIDE_SVD[0]}-nbr", []).append(f"pk-mix{WIDE_SVD[0]}-{w}-nbr{nk}")
            params[f"pk-mix{WIDE_SVD[0]}-{w}-nbr{nk}"] = {"w": w, "nbr": nk, "dims": WIDE_SVD[0]}
    wide = svd_rows(matrix, WIDE_SVD[0])
    for name, par in params.items():
        if par.get("centred"):
            x = representation(vectors, matrix, par)
        else:  # the same steps as representation(), each SVD made once
            x = mix(vectors, wide if par.get("dims") == WIDE_SVD[0] else ptfidf, par["w"])
            x = smooth(x, par["nbr"]) if par.get("nbr") else x
            x = spectral_embedding(x, par["graph"], k) if par.get("graph") else x
        results[name] = [scores(product_kmeans(x, k, seed)) for seed in seeds]
    variants_seconds = time.perf_counter() - started

    def dev_mean(name: str) -> float:
        return float(np.mean([r[2] for r in results[name]]))

    # Each family's parameters, then the family, by the dev half's mean (first listed wins ties).
    chosen = {family: max(names, key=lambda n: (dev_mean(n), -names.index(n))) for family, names in families.items()}
    best = max(chosen.values(), key=dev_mean)

    started = time.perf_counter()
    auto = compute_themes(vectors, ids, titles, lambda pos: [texts[i] for i in pos], words=lambda: matrix)
    auto_seconds = time.perf_counter() - started
    auto_labels = np.full(len(ids), -1)
    for number, theme in enumerate(auto.themes):
        for paper in theme.papers:
            if paper.primary:
                auto_labels[position[paper.id]] = number

    # The variant chosen on dev, through the product's whole theme computation (labels too).
    chosen_run: dict[str, list[float]] = {"seconds": [], "largest_share": [], "label_hits": [], "label_hits_plain": [], "v": []}
    for seed in seeds:
        started = time.perf_counter()  # the lexical index is the product's already (built above)
        x = representation(vectors, matrix, params[best])
        themes = compute_themes(x, ids, titles, lambda pos: [texts[i] for i in pos], n=k, random_seed=1234 + seed)
        chosen_run["seconds"].append(time.perf_counter() - started)
        labels = np.full(len(ids), -1)
        for number, theme in enumerate(themes.themes):
            for paper in theme.papers:
                if paper.primary:
                    labels[position[paper.id]] = number
        chosen_run["v"].append(scores(labels)[3])
        chosen_run["largest_share"].append(max(int((labels == t).sum()) for t in range(len(themes.themes))) / len(ids))
        chosen_run["label_hits"].append(label_hits(themes, rows, position, texts, 2)[0])
        chosen_run["label_hits_plain"].append(label_hits(themes, rows, position, texts, 1)[0])

    table = {
        name: {
            "v_measure": float(np.mean([r[0] for r in vals])),
            "nmi": float(np.mean([r[1] for r in vals])),
            "v_measure_dev": float(np.mean([r[2] for r in vals])),
            "v_measure_test": float(np.mean([r[3] for r in vals])),
            "v_measure_per_seed": [round(r[0], 4) for r in vals],
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
        "dev_papers": int(dev.sum()),
        "test_papers": int((~dev).sum()),
        "chosen_on_dev": chosen,
        "best_on_dev": best,
        "best": {
            "v_measure_test_full_product_run": float(np.mean(chosen_run["v"])),
            "seconds_16_themes": float(np.mean(chosen_run["seconds"])),
            "largest_theme_share": float(np.mean(chosen_run["largest_share"])),
            "label_hit_share": float(np.mean(chosen_run["label_hits"])),
            "label_hit_share_plain_ctfidf": float(np.mean(chosen_run["label_hits_plain"])),
        },
        "lexical_index_seconds": lexical_seconds,
        "tfidf_svd_seconds": svd_seconds,
        "variants_seconds": variants_seconds,
        "wall_seconds": time.perf_counter() - began,
        "load": os.getloadavg()[0],
    }
    if opts.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"PwC-areas: {len(rows)} rows, {len(ids)} papers after merging duplicates, {k} areas; MiniLM vectors: {how}")
    print(
        f"dev half {figures['dev_papers']} papers, test half {figures['test_papers']} (sha256 of the id); "
        f"all papers clustered, each half scored apart; * = chosen on dev within its family"
    )
    print(
        f"{'method':<24} {'V-measure':>9} {'NMI':>7} {'V dev':>7} {'V test':>7}   (mean of seeds {seeds}; V per seed: all papers)"
    )
    picked = set(chosen.values())
    for name, row in table.items():
        mark = "*" if name in picked else " "
        print(
            f"{name:<23}{mark} {row['v_measure']:9.4f} {row['nmi']:7.4f} {row['v_measure_dev']:7.4f} {row['v_measure_test']:7.4f}"
            f"   {row['v_measure_per_seed']}"
        )
    b = figures["best"]
    print(
        f"chosen on dev: {best} (dev {table[best]['v_measure_dev']:.4f}, test {table[best]['v_measure_test']:.4f}); "
        f"through compute_themes: test V {b['v_measure_test_full_product_run']:.4f}, {b['seconds_16_themes']:.1f} s for 16 themes, "
        f"largest theme {b['largest_theme_share']:.1%}, labels naming the majority task or area {b['label_hit_share']:.1%} "
        f"(plain c-TF-IDF {b['label_hit_share_plain_ctfidf']:.1%})"
    )
    print(
        f"lexical index (BM25 + TF-IDF, kept by the product) built in {lexical_seconds:.1f} s; TF-IDF SVD {svd_seconds:.1f} s; "
        f"all pk-/spectral rows {variants_seconds:.0f} s"
    )
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
