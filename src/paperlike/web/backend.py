"""What the web app needs from paperlike beyond the :class:`~paperlike.Recommender`'s own
methods: opening and warming an index generation, watching its manifest, adding uploaded files,
the map's figure and plotly.js, and one BLAS thread per request thread.

Queries themselves go through the Recommender (``ask``, ``paper``, ``records``,
``list_papers``, ``themes``) exactly as the CLI's do; see :mod:`.answers`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from paperlike import Recommender, get_embedder, map_figure, read_corpus
from paperlike.embedding import Embedder
from paperlike.errors import PaperlikeError, QueryError
from paperlike.records import ThemeSet
from paperlike.service.edits import add_papers
from paperlike.storage.manifest import MANIFEST, read_manifest

__all__ = [
    "manifest_file",
    "read_generation",
    "generation_of",
    "load_recommender",
    "embedder_for",
    "warm",
    "add_files",
    "map_figure_dict",
    "plotly_js",
    "limit_blas_threads",
]

log = logging.getLogger("paperlike.web")


def manifest_file(directory: Path) -> Path:
    """The file whose replacement marks a new index generation."""
    return Path(directory) / MANIFEST


def read_generation(directory: Path) -> str:
    """The generation named by the index's manifest (validated; opens no data file)."""
    return str(read_manifest(directory)["generation"])


def generation_of(rec: Recommender) -> str:
    return str(rec.index.manifest["generation"])


def load_recommender(index_dir: Path | None, embedder: Embedder | None = None) -> Recommender:
    """Open an index (the default one, built on first use, when ``index_dir`` is None)."""
    return Recommender.load(index_dir, embedder=embedder, progress=index_dir is None)


def embedder_for(rec: Recommender) -> Embedder:
    """The model named in the index's manifest (created lazily: no weights are loaded here)."""
    return rec.embedder if rec.embedder is not None else get_embedder(rec.index.model.get("name"))


def warm(rec: Recommender, with_lexical: bool = True, save: bool = True) -> None:
    """Load everything a query touches, once per generation, so no request pays for it: the
    aligned vectors, the id -> position map, the folded titles, the checked papers file and
    the BM25 index (each verified against the manifest here, not per request); on a big
    index the ranking shortlist (:meth:`Recommender.use_shortlist`, about 7 s at 96k papers);
    and the decoded LaTeX of every paper that has some (:meth:`PaperIndex.decode_texts`:
    about 18 s of CPU for the 3,000 such papers of 96k, once per server process; a new
    generation decodes only the papers it adds).

    The records are not all kept (``index.papers()``): a request parses the lines of its ten
    results in well under a millisecond, and with every record in memory the library's lookup
    by DOI or URL re-serialises all of them (about 3 s a lookup at 96k papers).

    With ``save`` False (a read-only server) the BM25 index is always loaded here, and built in
    memory when it was not saved: nothing is written beside the index, now or on a request.
    """
    index = rec.index
    index.all_vectors()
    for _ in range(6):  # past PaperIndex's "one-off lookup" scans: builds its id -> position dict
        index.position(index.ids[0] if index.ids else "")
    if index.count:
        index.papers_at([0])  # reads and checks the papers file once
        try:
            rec.find(index.titles[0])  # a title, not an id: builds the folded titles once
        except PaperlikeError:
            pass  # e.g. two papers share that title; the titles are folded all the same
    if with_lexical or not save:
        rec.lexical(save=save)
    if rec.use_shortlist():
        log.info("ranking %d papers through a shortlist", index.count)
    index.decode_texts()


def add_files(directory: Path, files: Sequence[tuple[Path, str]], fmt: str | None, strict: bool) -> dict[str, Any]:
    """Read uploaded files and add their papers, exactly as ``paperlike add`` does.

    Args:
        files: ``(temp path, name to show in messages)`` pairs.
    """
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


def map_figure_dict(rec: Recommender, themes: ThemeSet, title: str) -> dict[str, Any]:
    """The figure ``paperlike map`` draws, as plotly JSON (data + layout), and how it was projected."""
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
