"""Load: ``paperlike serve`` under 50 concurrent clients, on the 5,250 PwC papers and the 96,373
ACM-CR papers.

The indexes are built once with the hashing embedder (this measures serving, not embedding;
the ranking work per request is the same whatever model made the vectors) and cached in
``~/.cache/paperlike/bench`` (``$PAPERLIKE_BENCH_CACHE``). The server is started as a separate
process (``paperlike serve``, exactly as a user starts it) on 127.0.0.1; every request is
loopback traffic. It is warmed (BM25 built or loaded, one request of each kind) before timing.

Workloads, each for ``--seconds`` (default 60) with ``--clients`` (default 50) clients, each
client an async keep-alive HTTP connection issuing one request after the other:

- ``id``: ``GET /api/similar?q=<random paper id>`` (hybrid ranking, with the why: what the paper
  page and ``paperlike similar ID --json`` compute);
- ``text``: ``GET /api/text?q=<random paper's title>`` (free text: embedded, then ranked);
- ``id-popular``: as ``id``, but the papers asked for follow a Zipf law (the paper of rank r is
  asked with weight 1/r, over all papers in a fixed random order), as when a lab's members open
  the same papers: the server keeps recent answers per index generation, and this row shows
  what that is worth. The ``id`` row asks for every paper evenly: few repeats, no flattering.

Two pacings: ``paced`` clients wait a random 0-2 s (mean ``--think`` = 1 s) before their first request
and after each answer,
as people clicking through pages or a plugin do; ``saturated`` clients send the next request as
soon as the answer arrives, which measures the most requests per second the server manages
(its latency is then mostly queueing: 50 clients / throughput, by Little's law).

Each row also prints the server's CPU time per request (user + system, all its processes, via
psutil) and the machine's load average: latency depends on what else the machine runs, CPU time
per request much less.

Usage::

    python benchmarks/serve_load.py [--eval-dir ../shared/eval] [--seconds 60] [--clients 50]
        [--corpus pwc --corpus acm] [--kind id --kind text --kind id-popular] [--pacing paced --pacing saturated] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import acm_corpus, cache_dir, eval_dir_from, pwc_corpus  # noqa: E402


def build_cached(name: str, eval_dir: Path) -> Path:
    """The hashing-embedder index of a corpus, built once into the bench cache.

    A note beside it records the hash of the corpus it was built from and the generation built:
    the manifest's own corpus hash is taken after the build's id and duplicate handling, so it
    cannot be compared with a freshly read corpus.
    """
    from paperlike.embedding import HashingEmbedder
    from paperlike.service.build import build_index
    from paperlike.storage.manifest import read_manifest

    directory = cache_dir() / f"serve-{name}-hashing"
    note = directory.parent / f"{directory.name}.built.json"
    corpus = pwc_corpus(eval_dir)[0] if name == "pwc" else acm_corpus(eval_dir, progress=False)[0]
    read_sha = corpus.sha256()  # before the build, which may give papers ids
    try:
        built = json.loads(note.read_text())
        if built == {"corpus_sha256": read_sha, "generation": read_manifest(directory)["generation"]}:
            return directory
    except Exception:  # noqa: BLE001 - missing or stale: build it
        pass
    started = time.perf_counter()
    build_index(corpus, HashingEmbedder(), directory, progress=False)
    note.write_text(json.dumps({"corpus_sha256": read_sha, "generation": read_manifest(directory)["generation"]}))
    print(f"built the {name} index ({len(corpus)} papers, hashing embedder) in {time.perf_counter() - started:.0f} s", flush=True)
    return directory


def start_server(directory: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """``paperlike serve`` on a free loopback port; returns the process and its base URL."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperlike", "serve", "--index-dir", str(directory), "--port", "0", "--workers", str(workers)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.time() + 900  # a first start at 96k builds the BM25 index (about a minute)
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise SystemExit(f"paperlike serve exited with {proc.returncode}")
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise SystemExit("paperlike serve did not start in time")


def server_cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU time (user + system) used so far by the server and its worker processes; NaN without psutil.

    Unlike latency, this hardly depends on what else the machine is running."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    root = psutil.Process(proc.pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def zipf_weights(n: int) -> list[float]:
    """Cumulative weights of a Zipf law over ``n`` items (rank r has weight 1/r)."""
    total, out = 0.0, []
    for r in range(1, n + 1):
        total += 1.0 / r
        out.append(total)
    return out


async def _client(
    http,
    base: str,
    path: str,
    queries: list[str],
    rng: random.Random,
    deadline: float,
    think: float,
    out: dict,
    weights: list[float] | None = None,
) -> None:
    if think:  # people do not all click at the same instant: a paced client starts after a pause too
        await asyncio.sleep(rng.uniform(0, 2 * think))
    while time.perf_counter() < deadline:
        q = rng.choices(queries, cum_weights=weights)[0] if weights else rng.choice(queries)
        started = time.perf_counter()
        try:
            response = await http.get(f"{base}{path}", params={"q": q})
            ok = response.status_code == 200 and response.json().get("results") is not None
            if not ok:
                out.setdefault("failures", []).append(f"HTTP {response.status_code}: {response.text[:120]}")
        except Exception as exc:  # noqa: BLE001 - a failed request is counted, not fatal
            ok = False
            out.setdefault("failures", []).append(repr(exc)[:120])
        if time.perf_counter() <= deadline:  # requests cut off by the end are not counted
            out["latency"].append(time.perf_counter() - started)
            out["errors"] += 0 if ok else 1
        if think:
            await asyncio.sleep(rng.uniform(0, 2 * think))


async def load(
    base: str,
    path: str,
    queries: list[str],
    clients: int,
    seconds: float,
    think: float,
    seed: int,
    weights: list[float] | None = None,
) -> dict:
    import httpx

    out: dict = {"latency": [], "errors": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as http:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client(http, base, path, queries, random.Random(seed * 1000 + i), deadline, think, out, weights)
                for i in range(clients)
            )
        )
        elapsed = time.perf_counter() - started
    lat = out["latency"]
    return {
        "requests": len(lat),
        "rps": len(lat) / elapsed,
        "p50_ms": percentile(lat, 50) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
        "mean_ms": statistics.fmean(lat) * 1e3 if lat else float("nan"),
        "errors": out["errors"],
        "failures": out.get("failures", [])[:3],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--think", type=float, default=1.0, help="mean pause of a paced client after each answer, seconds")
    ap.add_argument("--corpus", action="append", choices=["pwc", "acm"])
    ap.add_argument("--kind", action="append", choices=["id", "text", "id-popular"])
    ap.add_argument("--pacing", action="append", choices=["paced", "saturated"])
    ap.add_argument("--workers", type=int, default=1, help="paperlike serve --workers")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    eval_dir = eval_dir_from(args.eval_dir)
    rows = []
    for name in args.corpus or ["pwc", "acm"]:
        directory = build_cached(name, eval_dir)
        from paperlike import Recommender

        index = Recommender.load(directory).index
        rng = random.Random(7)
        ids = list(index.ids)  # every paper can be asked for: few repeats, so no cache flatters the figures
        popular = random.Random(11).sample(ids, len(ids))  # the order of popularity for id-popular
        texts = [" ".join(t.split()[:12]) for t in rng.sample(index.titles, min(5000, index.count))]
        proc, base = start_server(directory, args.workers)
        try:
            import httpx

            for _ in range(2 * args.workers):  # warm: a request of each kind (each worker, on fresh connections)
                for path, q in (("/api/similar", ids[0]), ("/api/text", texts[0])):
                    httpx.get(f"{base}{path}", params={"q": q}, timeout=600).raise_for_status()
            for kind in args.kind or ["id", "text"]:
                path, queries = {"id": ("/api/similar", ids), "text": ("/api/text", texts)}.get(kind, ("/api/similar", popular))
                weights = zipf_weights(len(popular)) if kind == "id-popular" else None
                for pacing in args.pacing or ["paced", "saturated"]:
                    think = args.think if pacing == "paced" else 0.0
                    load_before, cpu_before = os.getloadavg()[0], server_cpu_seconds(proc)
                    result = asyncio.run(load(base, path, queries, args.clients, args.seconds, think, len(rows), weights))
                    cpu_ms = (server_cpu_seconds(proc) - cpu_before) / max(result["requests"], 1) * 1e3
                    row = {
                        "corpus": name,
                        "papers": index.count,
                        "kind": kind,
                        "pacing": pacing,
                        "think_s": think,
                        **result,
                        "server_cpu_ms_per_request": cpu_ms,
                        "loadavg_before": load_before,
                        "loadavg_after": os.getloadavg()[0],
                    }
                    rows.append(row)
                    print(
                        f"{name:<4} {index.count:>6} papers  {kind:<10} {pacing:<9}  {row['requests']:>6} requests  "
                        f"{row['rps']:7.1f} req/s  p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  "
                        f"errors {row['errors']}  server CPU {cpu_ms:.1f} ms/request  "
                        f"(load average {load_before:.1f} -> {row['loadavg_after']:.1f})",
                        flush=True,
                    )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print()
    print(
        f"{args.clients} concurrent clients, {args.seconds:.0f} s per row, loopback only; paced clients pause "
        f"0-{2 * args.think:.0f} s (mean {args.think:.1f} s) after each answer; paperlike serve --workers {args.workers}; "
        f"{os.cpu_count()} CPU cores; the load average includes this benchmark's own server and clients"
    )
    print(
        "| corpus | papers | requests | pacing | requests/s | p50 | p99 | errors | server CPU per request | load average (1 min) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        what = {
            "id": "id lookup (/api/similar)",
            "text": "text query (/api/text)",
            "id-popular": "id lookup, popular papers (Zipf)",
        }[r["kind"]]
        print(
            f"| {r['corpus']} | {r['papers']:,} | {what} | {r['pacing']} | {r['rps']:.1f} | {r['p50_ms']:.1f} ms | "
            f"{r['p99_ms']:.1f} ms | {r['errors']} | {r['server_cpu_ms_per_request']:.1f} ms | "
            f"{r['loadavg_before']:.1f} -> {r['loadavg_after']:.1f} |"
        )
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
