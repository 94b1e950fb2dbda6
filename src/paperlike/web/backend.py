"""The one place where the web app reaches into paperlike's internal modules.

Everything else in :mod:`paperlike.web` imports paperlike only through its public top-level
names (``from paperlike import Recommender``) and :mod:`paperlike.errors`. When modules move,
only the imports of this file need re-pointing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from paperlike import Recommender, read_corpus
from paperlike.errors import QueryError

__all__ = [
    "CORPUS_FORMATS",
    "EXPORT_FORMATS",
    "MODES",
    "manifest_file",
    "read_generation",
    "default_index_dir",
    "generation_of",
    "load_recommender",
    "embedder_for",
    "warm",
    "papers_by_id",
    "paper_record",
    "export_text",
    "add_files",
    "identifier_index",
    "normalize_identifier",
    "map_figure_dict",
    "plotly_js",
    "limit_blas_threads",
]

CORPUS_FORMATS: tuple[str, ...] = ("daily", "jsonl", "bibtex", "csv", "tsv", "arxiv-atom", "arxiv-json", "csl-json", "zotero")
EXPORT_FORMATS: tuple[str, ...] = ("bibtex", "jsonl", "csv")
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")
# Above this many papers the records are not all kept in memory (about 3 KB each).
MAX_CACHED_PAPERS = 250_000


def _check_lists() -> None:
    # The lists above are copied so importing this module stays cheap; fail loudly if they drift.
    from paperlike.export import EXPORT_FORMATS as exported
    from paperlike.readers.detect import FORMATS
    from paperlike.records import MODES as modes

    assert tuple(FORMATS) == CORPUS_FORMATS and tuple(exported) == EXPORT_FORMATS and tuple(modes) == MODES


def manifest_file(directory: Path) -> Path:
    """The file whose replacement marks a new index generation."""
    from paperlike.storage.manifest import MANIFEST

    return Path(directory) / MANIFEST


def read_generation(directory: Path) -> str:
    """The generation named by the index's manifest (validated; opens no data file)."""
    from paperlike.storage.manifest import read_manifest

    return str(read_manifest(directory)["generation"])


def default_index_dir() -> Path:
    from paperlike.settings import default_index_dir as where

    return where()[0]


def generation_of(rec: Recommender) -> str:
    return str(rec.index.manifest["generation"])


def load_recommender(index_dir: Path | None, embedder: Any = None) -> Recommender:
    """Open an index (the default one, built on first use, when ``index_dir`` is None)."""
    return Recommender.load(index_dir, embedder=embedder, progress=index_dir is None)


def embedder_for(rec: Recommender) -> Any:
    """The model named in the index's manifest (created lazily: no weights are loaded here)."""
    from paperlike import get_embedder

    return rec.embedder if rec.embedder is not None else get_embedder(rec.index.model.get("name"))


def warm(rec: Recommender, with_lexical: bool = True) -> None:
    """Load everything a query touches, once per generation, so no request pays for it:
    the aligned vectors, the id -> position map, folded titles, the BM25 index and the split
    papers file (each verified against the manifest here, not per request)."""
    index = rec.index
    index.all_vectors()
    for _ in range(6):  # past PaperIndex's "one-off lookup" scans: builds its id -> position dict
        index.position(index.ids[0] if index.ids else "")
    if index.ids:  # builds the title lookup (folded titles) once
        rec.find(index.ids[0])
    if index.count <= MAX_CACHED_PAPERS:
        # Every record parsed once and kept: papers_at() then hands out the same Paper objects,
        # whose plain text (LaTeX decoded, for the why) is computed once per paper, not per request.
        index.papers()
    elif index.count:
        index.papers_at([0])
    if with_lexical:
        rec.lexical()


def papers_by_id(rec: Recommender, ids: Sequence[str]) -> list:
    """Full records of papers by exact id (unknown ids are an error naming them)."""
    positions = [rec.index.position(i) for i in ids]
    unknown = [i for i, p in zip(ids, positions) if p is None]
    if unknown:
        raise QueryError(f"unknown paper id(s): {', '.join(unknown[:10])}; list ids with: paperlike papers")
    return rec.index.papers_at(positions)


def paper_record(rec: Recommender, query: str):
    """The record of the paper a query names (id, title, prefix, near miss: :meth:`Recommender.find`)."""
    return rec.index.papers_at([rec.find(query)])[0]


def all_papers(rec: Recommender) -> list:
    return rec.index.papers()


def export_text(papers: Sequence[Any], fmt: str) -> str:
    from paperlike.export import export_papers

    if fmt not in EXPORT_FORMATS:
        raise QueryError(f"unknown export format '{fmt}'; use one of: {', '.join(EXPORT_FORMATS)}")
    return export_papers(papers, fmt)


def add_files(directory: Path, files: Sequence[tuple[Path, str]], fmt: str | None, strict: bool) -> dict[str, Any]:
    """Read uploaded files and add their papers, exactly as ``paperlike add`` does.

    Args:
        files: ``(temp path, name to show in messages)`` pairs.
    """
    from paperlike.errors import PaperlikeError
    from paperlike.service.library import add_papers

    corpora = []
    for path, shown in files:
        try:
            corpora.append(read_corpus(path, fmt, strict=strict))
        except PaperlikeError as exc:
            # Messages name the temp file; the user knows the name they uploaded.
            try:
                renamed = type(exc)(str(exc).replace(str(path), shown))
            except TypeError:  # an error class with extra arguments: keep it as it is
                raise exc from None
            raise renamed from None
    notes = [n.replace(str(p), s) for c, (p, s) in zip(corpora, files) for n in c.notes]
    report = add_papers(directory, corpora)
    out = report.to_dict()
    out["notes"] = notes
    return out


def normalize_identifier(text: str) -> str | None:
    """``doi:10.1/X``, ``https://doi.org/10.1/x``, ``arXiv:2401.01234v2`` -> a lookup key, else None."""
    from paperlike.identity import normalize_arxiv_id, normalize_doi

    doi = normalize_doi(text)
    if doi:
        return f"doi:{doi}"
    stripped = text.strip()
    looks_arxiv = stripped.lower().startswith(("arxiv:", "http://arxiv.org", "https://arxiv.org")) or (
        stripped.replace(".", "").replace("v", "").isdigit() and "." in stripped
    )
    arxiv = normalize_arxiv_id(stripped) if looks_arxiv else None
    return f"arxiv:{arxiv}" if arxiv else None


def identifier_index(rec: Recommender) -> dict[str, str]:
    """``{"doi:...": id, "arxiv:...": id}`` over the index's papers (first record wins)."""
    from paperlike.identity import normalize_arxiv_id, normalize_doi

    out: dict[str, str] = {}
    for paper in rec.index.papers():
        doi, arxiv = normalize_doi(paper.doi), normalize_arxiv_id(paper.arxiv_id)
        if doi:
            out.setdefault(f"doi:{doi}", paper.id)
        if arxiv:
            out.setdefault(f"arxiv:{arxiv}", paper.id)
    return out


def map_figure_dict(rec: Recommender, themes: Any, title: str) -> dict[str, Any]:
    """The figure ``paperlike map`` draws, as plotly JSON (data + layout), and how it was projected."""
    from paperlike import map_figure

    frame = rec.map_2d(themes)
    fig = map_figure(frame, title)
    return {"figure": json.loads(fig.to_json()), "method": frame.attrs.get("method"), "papers": len(frame), "themes": len(themes)}


def plotly_js() -> bytes:
    """plotly.js as shipped inside the plotly package (the file ``paperlike map`` inlines)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise QueryError("the map needs plotly; run: pip install 'paperlike[map]' (or pip install plotly)") from None
    return get_plotlyjs().encode("utf-8")


def limit_blas_threads() -> Callable[[], None] | None:
    """One BLAS thread per request thread: on 2 cores OpenBLAS's own threads fight the server's,
    and a 5k x 384 product went from 0.2 ms to 9 ms with two. Returns an undo function."""
    import numpy  # noqa: F401 - threadpoolctl limits only the BLAS libraries already loaded

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    limiter = threadpool_limits(limits=1, user_api="blas")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return limiter.restore_original_limits
