"""Markdown tables of ``benchmarks/scale_build.py`` runs (docs/scale.md): one table per corpus
size, and the extrapolation of every step to larger corpora.

The extrapolation fits each step's time and peak RSS to ``a + b * f(n)`` through the two largest
sizes measured (``f(n) = n``; ``n log n`` for the HNSW graph and the build that makes it), so the
fixed part (the interpreter and its libraries, about 0.1-0.2 GB) is not multiplied; from a single
size, or when the two sizes disagree (noise: a smaller figure at the larger size), it scales the
largest size's figure in proportion to ``f(n)`` (for memory, what lies above the RSS of the bare
process; libraries a step imports still count as growing, so this overestimates). Each row says
which. The map is t-SNE up to 20,000 papers and PCA above: only PCA sizes are extrapolated. The
build uses HNSW from 200,000 papers only, so ``n log n`` fits it from there. Sizes on disk scale
with n.
"""

from __future__ import annotations

import math

__all__ = ["LABELS", "run_table", "extrapolation_table", "all_tables"]

LABELS = {
    "parse": "read + parse the JSONL",
    "dedupe": "de-duplicate + ids (collect)",
    "hash": "text hashes (embedded text of every paper)",
    "build": "`index build` end to end (read + build_index), vectors from checkpoints",
    "write_exact": "write_index, exact search (files + flat FAISS)",
    "hnsw": "HNSW graph (M=32, efConstruction 80)",
    "load": "load_index + all paper records",
    "bm25": "BM25 index (first query after a build)",
    "themes": "themes, automatic number",
    "map": "map projection (map_2d)",
}
# Steps that grow as n log n: building the HNSW graph (and the build, which makes it from 200k papers).
N_LOG_N = {"hnsw", "build"}


def _duration(seconds: float) -> str:
    if seconds >= 7200:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _gb(mb: float) -> str:
    return f"{mb / 1024:.2f} GB"


def _f(step: str, n: float) -> float:
    return n * math.log(n) if step in N_LOG_N else float(n)


def _fit(step: str, points: list[tuple[int, float]], target: int, fixed: float = 0.0) -> tuple[float, str]:
    """``(value at target, how it was found)`` from ``(n, value)`` points; from one point, what
    lies above ``fixed`` (the bare process's RSS, for memory) grows in proportion."""
    points = sorted(dict(points).items())
    n2, y2 = points[-1]
    if len(points) >= 2:
        n1, y1 = points[-2]
        slope = (y2 - y1) / (_f(step, n2) - _f(step, n1))
        if slope > 0:
            return y2 + slope * (_f(step, target) - _f(step, n2)), f"fit to {n1:,} and {n2:,}"
    fixed = min(fixed, y2)
    above = f" above {_gb(fixed)}" if fixed else ""
    return fixed + (y2 - fixed) * _f(step, target) / _f(step, n2), f"in proportion to {n2:,}{above}"


def _by_step(results: list[dict]) -> dict[str, list[tuple[int, dict]]]:
    found: dict[str, list[tuple[int, dict]]] = {}
    for result in results:
        for row in result["rows"]:
            found.setdefault(row["step"], []).append((result["n"], row))
    return found


def run_table(result: dict) -> str:
    """The table of one run: each step's wall and CPU time, peak RSS, the RSS it started from,
    the peak of anonymous RSS (runs before it was measured: -), the machine's load while it ran,
    then the sizes on disk."""
    lines = [
        f"| {result['n']:,} papers: step | wall time | CPU time | peak RSS | RSS before the step "
        "| peak anonymous RSS | load (1 min) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["rows"]:
        load = f"{row['load']:.1f}" if "load" in row else "-"
        lines.append(
            f"| {LABELS.get(row['step'], row['step'])} | {row['seconds']:.1f} s | {row['cpu_s']:.1f} s "
            f"| {_gb(row['peak_mb'])} | {_gb(row['before_mb'])} "
            f"| {_gb(row['peak_anon_mb']) if 'peak_anon_mb' in row else '-'} | {load} |"
        )
    disk = {row["step"]: row for row in result["rows"] if "disk_mb" in row}
    parts = [f"the JSONL file {result['corpus_mb']:,.0f} MB"] if "corpus_mb" in result else []
    if "build" in disk:
        files = ", ".join(f"{kind} {mb:,.0f} MB" for kind, mb in disk["build"].get("files_mb", {}).items())
        parts.append(f"the index files {disk['build']['disk_mb']:,.0f} MB ({files})")
    if "bm25" in disk:
        parts.append(f"the BM25 folder {disk['bm25']['disk_mb']:,.0f} MB")
    if parts:
        lines += ["", f"On disk at {result['n']:,} papers: " + "; ".join(parts) + "."]
    return "\n".join(lines)


def extrapolation_table(results: list[dict], targets: list[int]) -> str:
    """Each step's time and peak RSS at the ``targets`` sizes (see the module docstring)."""
    largest = max(r["n"] for r in results)
    head = f"| step | measured at {largest:,} | " + " | ".join(f"{t:,} papers" for t in targets) + " | how |"
    lines = [head, "| --- " * (len(targets) + 3) + "|"]
    # The RSS of the bare process (the smallest any step started from) does not grow with n.
    bare = min(r["before_mb"] for result in results for r in result["rows"])
    for step, found in _by_step(results).items():
        rows = dict(found)
        cells = [f"{_duration(rows[largest]['seconds'])}, {_memory(rows[largest])}" if largest in rows else "-"]
        if step == "map":  # only sizes whose map is PCA say how a big map grows (t-SNE up to 20,000 papers)
            found = [(n, r) for n, r in found if r.get("method") == "PCA"]
            if not found:
                lines.append(
                    f"| {LABELS[step]} | {cells[0]} | " + " | ".join("-" for _ in targets) + " | t-SNE at this size; "
                    "above 20,000 papers the map is PCA: measure a larger size |"
                )
                continue
        for target in targets:
            seconds, how = _fit(step, [(n, r["seconds"]) for n, r in found], target)
            peak, how_peak = _fit(step, [(n, r["peak_mb"]) for n, r in found], target, bare)
            memory = {"peak_mb": peak}
            if all("peak_anon_mb" in r for _, r in found):
                anon = _fit(step, [(n, r["peak_anon_mb"]) for n, r in found], target, bare)[0]
                memory["peak_anon_mb"] = min(anon, peak)  # (two fits: the part cannot exceed the whole)
            cells.append(f"{_duration(seconds)}, {_memory(memory)}")
        scaling = "n log n" if step in N_LOG_N else "n"
        lines.append(f"| {LABELS.get(step, step)} | " + " | ".join(cells) + f" | {scaling}; time {how}, memory {how_peak} |")
    for step, what in (("build", "index files on disk"), ("bm25", "BM25 folder on disk")):
        sizes = [(n, r["disk_mb"]) for n, r in _by_step(results).get(step, []) if "disk_mb" in r]
        if sizes:
            n, mb = max(sizes)
            cells = [_gb(mb)] + [_gb(mb * t / n) for t in targets]
            lines.append(f"| {what} | " + " | ".join(cells) + f" | n; in proportion to {n:,} |")
    return "\n".join(lines)


def _memory(row: dict) -> str:
    """Peak RSS, and its anonymous part where it was measured."""
    anon = f" ({_gb(row['peak_anon_mb'])} anonymous)" if "peak_anon_mb" in row else ""
    return _gb(row["peak_mb"]) + anon


def all_tables(results: list[dict], targets: list[int]) -> str:
    """The table of each run (smallest first), then the extrapolation (time, peak RSS)."""
    results = sorted(results, key=lambda r: r["n"])
    parts = [run_table(r) for r in results]
    if targets:
        parts.append("Extrapolated (time, peak RSS and its anonymous part):\n\n" + extrapolation_table(results, targets))
    return "\n\n".join(parts)
