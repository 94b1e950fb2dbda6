"""Papers and the readers that turn corpus files into them.

Two formats are read here: the text of a Hugging Face "Daily Papers" page (title and abstract
paragraphs separated by blank lines, after a short header) and JSONL (one JSON object a line).
Every paper gets a short id that is stable for the same input: an explicit ``id`` field when the
file has one, otherwise a slug of the title.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Union

from .errors import CorpusError

__all__ = [
    "Paper",
    "Corpus",
    "FORMATS",
    "read_corpus",
    "read_daily_papers",
    "read_jsonl",
    "bundled_corpus",
    "bundled_file_sha256",
    "slugify",
    "assign_ids",
    "collect",
    "paper_from_fields",
    "plain_text",
]

log = logging.getLogger("paperlike")

FORMATS = ("daily", "jsonl", "bibtex", "csv", "tsv", "arxiv-atom", "arxiv-json", "csl-json")

# A title paragraph longer than this is almost surely an abstract: the page lost a blank line or
# split an abstract in two, and pairing would silently shift every later paper.
_MAX_TITLE_CHARS = 400

# Boilerplate lines of a copied "Daily Papers" page, compared case-insensitively.
_DAILY_HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
_DATE_LINE = re.compile(r"^[A-Z][a-z]{2,8}\.? \d{1,2}(, \d{4})?$")



@dataclass(frozen=True)
class Paper:
    """One paper of a corpus.

    Attributes:
        id: Short unique id, usable on the command line.
        title: Title as written in the source.
        abstract: Abstract as written in the source; may be empty.
        authors: Author names, in order.
        year: Publication year, if known.
        url: Link to the paper, if known.
        arxiv_id: arXiv identifier, if known.
        doi: DOI, if known.
        source: Where the record came from (file name or collection).
    """

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    url: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    source: str | None = None

    @cached_property
    def text(self) -> str:
        """The text that is embedded: ``title + ". " + abstract`` (the title alone if no abstract),
        with LaTeX markup turned into plain text (``f{\\"u}r`` -> ``für``, ``{\\em x}`` -> ``x``).
        The title and abstract themselves keep the source's text for display."""
        title = plain_text(self.title)
        if not self.abstract.strip():
            return title
        return f"{title}. {plain_text(self.abstract)}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that drops empty optional fields."""
        data = asdict(self)
        data["authors"] = list(self.authors)
        return {k: v for k, v in data.items() if v not in (None, [], ()) or k in ("id", "title", "abstract")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        """Inverse of :meth:`to_dict`; unknown keys are ignored.

        Raises:
            ValueError: A field has the wrong type (the record did not come from :meth:`to_dict`).
        """
        if not isinstance(data, dict):
            raise ValueError("paper record is not a JSON object")
        for key in ("id", "title"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"paper record has no string '{key}'")
        for key in ("abstract", "url", "arxiv_id", "doi", "source"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"paper field '{key}' is not a string")
        authors = data.get("authors") or []
        if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
            raise ValueError("paper field 'authors' is not a list of strings")
        year = data.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise ValueError("paper field 'year' is not an integer")
        return cls(
            id=data["id"],
            title=data["title"],
            abstract=data.get("abstract") or "",
            authors=tuple(authors),
            year=year,
            url=data.get("url"),
            arxiv_id=data.get("arxiv_id"),
            doi=data.get("doi"),
            source=data.get("source"),
        )


@dataclass
class Corpus:
    """Papers read from one file, with the notes the reader made.

    Attributes:
        papers: The papers, in file order.
        source: Path of the file (or ``bundled:...`` for the bundled corpus).
        notes: Human-readable notes about what was repaired or skipped (e.g. empty abstracts).
        skipped: Malformed entries that were skipped.
        merged: Records merged into an earlier record of the same paper (same arXiv id, DOI or title).
        explicit_ids: Ids the source gave (the others were made from titles).
        file_sha256: SHA-256 of the source file's bytes, when known (lets the default index
            see that the bundled papers are unchanged without parsing them).
    """

    papers: list[Paper]
    source: str
    notes: list[str] = field(default_factory=list)
    skipped: int = 0
    merged: int = 0
    explicit_ids: frozenset[str] = frozenset()
    file_sha256: str | None = None

    def __len__(self) -> int:
        return len(self.papers)

    def sha256(self) -> str:
        """Hash of ids and embedded texts: equal hashes mean the same vectors would be built
        (other fields, such as authors or year, are not part of it)."""
        from .cache import paper_text_hash

        digest = hashlib.sha256()
        for paper in self.papers:
            digest.update(json.dumps([paper.id, paper_text_hash(paper)], ensure_ascii=False).encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()


# Control characters (NUL, ESC...) in a field would reach terminals and JSON consumers; lone
# surrogates (possible in JSON "\ud800" escapes) cannot be encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: Any) -> str:
    """Text safe to store and print: see :func:`_clean` (public for queries and seed names)."""
    return _clean(value)


def _clean(value: Any) -> str:
    """Field text with control characters as spaces, whitespace runs collapsed, no lone surrogates."""
    if value is None:
        return ""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", str(value)))
    return " ".join(text.split())


_LATEX_HINT = re.compile(r"[\\{}$]")


@lru_cache(maxsize=1)
def _latex_decoder():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


def plain_text(text: str) -> str:
    """Text with LaTeX markup decoded (accents, ``\\%``, ``{\\em ...}``, braces), whitespace collapsed.

    Plain text passes through untouched (and fast); math stays as written.
    """
    if not _LATEX_HINT.search(text):
        return text
    try:
        # A bare & or % is text here, not an alignment tab or a comment that eats the rest.
        escaped = re.sub(r"(?<!\\)([&%])", r"\\\1", text)
        decoded = _latex_decoder().latex_to_text(escaped)
    except Exception:  # pylatexenc gives up on some malformed markup: fall back to stripping braces
        decoded = re.sub(r"[{}]", "", text)
    return " ".join(decoded.split()) or text


def slugify(title: str, max_words: int = 6, max_chars: int = 40) -> str:
    """Short, shell-friendly id from a title.

    A short name before a colon ("AutoDistil: Few-shot ...") becomes the whole slug; otherwise the
    first words are used, without trailing filler words.

    Args:
        title: Paper title.
        max_words: Most words kept.
        max_chars: Most characters kept (cut at a word boundary).

    Returns:
        A lowercase ``a-z0-9-`` slug, or ``""`` when the title has no ASCII letters or digits.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    ascii_title = re.sub(r"(?<=[a-z])'(?=[a-z])", "", ascii_title)  # "don't" -> "dont", not "don-t"
    head, colon, _ = ascii_title.partition(":")
    words = re.findall(r"[a-z0-9]+", head)
    if not (colon and 1 <= len(words) <= 3):
        words = re.findall(r"[a-z0-9]+", ascii_title)
    words = words[:max_words]
    while len(words) > 1 and words[-1] in {"a", "an", "the", "of", "for", "and", "in", "on", "to", "with", "via", "from", "by"}:
        words.pop()
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_chars and slug:
            break
        slug = candidate[:max_chars]
    return slug


def assign_ids(papers: list[Paper], where: list[str]) -> list[Paper]:
    """Give every paper a unique id; explicit ids are kept, others become title slugs.

    Args:
        papers: Papers whose ``id`` is ``""`` where the source had none.
        where: For each paper, its location (``file:line``) for error messages.

    Returns:
        The papers with ids filled in; generated clashes get ``-2``, ``-3``... in file order.

    Raises:
        CorpusError: Two papers carry the same explicit id.
    """
    seen: dict[str, str] = {}
    dupes: list[str] = []
    for paper, loc in zip(papers, where):
        if paper.id:
            if paper.id in seen:
                dupes.append(f"'{paper.id}' ({seen[paper.id]} and {loc})")
            else:
                seen[paper.id] = loc
    if dupes:
        raise CorpusError(
            f"duplicate ids in corpus: {', '.join(dupes[:5])}"
            + (f" and {len(dupes) - 5} more" if len(dupes) > 5 else "")
            + "; give each paper a unique 'id' or drop the 'id' field to use title slugs"
        )
    taken = set(seen)
    out = []
    for paper in papers:
        if not paper.id:
            base = slugify(paper.title) or "paper-" + hashlib.sha1(paper.title.encode("utf-8")).hexdigest()[:8]
            new_id, n = base, 1
            while new_id in taken:
                n += 1
                new_id = f"{base}-{n}"
            taken.add(new_id)
            paper = Paper(**{**asdict(paper), "id": new_id})
        out.append(paper)
    return out


def _finish(papers: list[Paper], where: list[str], source: str) -> Corpus:
    return collect(list(zip(where, papers)), source)


Entry = tuple[str, Union["Paper", CorpusError]]  # (file:line, the paper read there or why it was skipped)


def collect(entries: Iterable[Entry], source: str, *, strict: bool = False) -> Corpus:
    """Turn the entries a reader produced into a corpus: skip malformed ones (or fail, ``strict``),
    merge duplicates, give every paper its id, and note what was done.

    Args:
        entries: ``(location, Paper or CorpusError)`` in file order; papers may have ``id == ""``.
        source: The file, for messages.
        strict: Raise on the first malformed entry instead of skipping it.

    Raises:
        CorpusError: No paper at all, a malformed entry under ``strict``, or two different papers
            with the same explicit id.
    """
    from .dedupe import merge_duplicates

    papers, where, problems = [], [], []
    source = clean_text(source)
    for loc, item in entries:
        if isinstance(item, CorpusError):
            if strict:
                raise CorpusError(f"{item} (--strict: nothing was written)")
            problems.append(str(item))
        else:
            papers.append(item if item.source is None else Paper(**{**asdict(item), "source": clean_text(item.source)}))
            where.append(loc)
    if not papers:
        if problems:
            raise CorpusError(f"no paper could be read from {source}; first problem: {problems[0]}")
        raise CorpusError(
            f"{source}: no papers found, only a page header; add each paper's title and abstract as paragraphs"
        )
    papers, where, merged = merge_duplicates(papers, where)
    notes = []
    if problems:
        notes.append(f"skipped {len(problems)} malformed entr{'y' if len(problems) == 1 else 'ies'}: {problems[0]}"
                     + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    if merged:
        notes.append(f"{source}: merged {merged} duplicate record(s) (same arXiv id, DOI or title)")
    empty = [loc for paper, loc in zip(papers, where) if not paper.abstract.strip()]
    if empty:
        notes.append(
            f"{source}: {len(empty)} paper(s) have an empty abstract and are indexed on their title only"
            f" (first at {empty[0]})"
        )
    explicit = frozenset(p.id for p in papers if p.id)
    return Corpus(assign_ids(papers, where), source, notes, skipped=len(problems), merged=merged, explicit_ids=explicit)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path}; check the path")
    if path.is_dir():
        raise CorpusError(f"corpus path is a directory: {path}; give a file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not valid UTF-8 text; save the file as UTF-8") from None


def read_daily_papers(path: str | Path, *, text: str | None = None, source: str | None = None) -> Corpus:
    """Read the text of a copied Hugging Face "Daily Papers" page.

    The page header (``New``, ``Subscribe``, ``Daily Papers``, a date...) is skipped; the rest
    must alternate title and abstract paragraphs, separated by blank lines.

    Args:
        path: The text file.
        text: The file's content, when already read.
        source: Name to record as the papers' source (defaults to the path).

    Returns:
        The corpus, papers in page order.

    Raises:
        CorpusError: The file is missing, empty, or its paragraphs do not pair up.
    """
    path = Path(path)
    src = source or str(path)
    if text is None:
        text = _read_text(path)
    paragraphs: list[tuple[int, str]] = []  # (first line number, text)
    start, buf = 0, []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = _clean(line)
        if line:
            if not buf:
                start = lineno
            buf.append(line)
        elif buf:
            paragraphs.append((start, " ".join(buf)))
            buf = []
    if buf:
        paragraphs.append((start, " ".join(buf)))
    while paragraphs and (
        paragraphs[0][1].casefold() in _DAILY_HEADER_LINES or _DATE_LINE.match(paragraphs[0][1])
    ):
        paragraphs.pop(0)
    papers, where = [], []
    for (t_line, title), (_, abstract) in zip(paragraphs[0::2], paragraphs[1::2]):
        if len(title) > _MAX_TITLE_CHARS:
            raise CorpusError(
                f"{src}:{t_line}: expected a title but found a {len(title)}-character paragraph; "
                "check that every title and abstract is one paragraph separated by a blank line"
            )
        papers.append(Paper(id="", title=title, abstract=abstract, source=src))
        where.append(f"{src}:{t_line}")
    if len(paragraphs) % 2:
        lineno, para = paragraphs[-1]
        raise CorpusError(
            f"{src}:{lineno}: title without an abstract ('{para[:60]}'); "
            "each title must be followed by a blank line and its abstract"
        )
    return _finish(papers, where, src)


def _year(value: Any, loc: str) -> int | None:
    """A four-digit year from a number or text such as "2024", " 2024-05-01" or "May 2024"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1000 <= value < 3000:
        return int(value)
    match = re.search(r"(?<!\d)(1\d{3}|2\d{3})(?!\d)", str(value)) if isinstance(value, str) else None
    if match is None:
        raise CorpusError(f"{loc}: 'year' must be a year such as 2024, got {str(value)[:40]!r}; fix or drop the field")
    return int(match.group(1))


def paper_from_fields(obj: Any, loc: str, src: str) -> Paper:
    """A paper from a dict of fields (title, abstract, id, authors, year, url, arxiv_id, doi, source).

    Raises:
        CorpusError: Not a dict, no title, or a field of the wrong kind (names ``loc``).
    """
    if not isinstance(obj, dict):
        raise CorpusError(f"{loc}: expected a JSON object with 'title' and 'abstract', got {type(obj).__name__}")
    for key in ("title", "abstract", "id", "url", "arxiv_id", "doi", "source"):
        if isinstance(obj.get(key), (dict, list, bool)):
            raise CorpusError(f"{loc}: '{key}' must be text, got {type(obj[key]).__name__}")
    title = _clean(obj.get("title"))
    if not title:
        raise CorpusError(f"{loc}: paper has no title; add a non-empty 'title' field")
    authors = obj.get("authors") or ()
    if isinstance(authors, str):
        # "A and B" (BibTeX style, names may hold commas), "A; B", else "A, B".
        sep = r"\s+and\s+" if re.search(r"\s+and\s+", authors) else ";" if ";" in authors else ","
        authors = [a.strip() for a in re.split(sep, authors) if a.strip()]
    elif not isinstance(authors, (list, tuple)):
        raise CorpusError(f"{loc}: 'authors' must be a list of names or a string")
    year = _year(obj.get("year"), loc)
    extra = {k: (_clean(obj[k]) or None) for k in ("url", "arxiv_id", "doi") if obj.get(k) is not None}
    return Paper(
        id=_clean(obj.get("id")),
        title=title,
        abstract=_clean(obj.get("abstract")),
        authors=tuple(_clean(a) for a in authors),
        year=year,
        source=_clean(obj.get("source")) or src,
        **extra,
    )


def read_jsonl(path: str | Path, *, text: str | None = None, strict: bool = False) -> Corpus:
    """Read a JSON-lines corpus: one object a line with ``title``, ``abstract`` and optional
    ``id``, ``authors``, ``year``, ``url``, ``arxiv_id``, ``doi``, ``source``. Blank lines are
    skipped; so are malformed lines, with a note (``strict`` makes them an error).

    Raises:
        CorpusError: The file is missing or holds no readable paper (or any bad line, ``strict``).
    """
    path = Path(path)
    src = str(path)
    if text is None:
        text = _read_text(path)
    return collect(_jsonl_entries(text, src, paper_from_fields), src, strict=strict)


def _jsonl_entries(text: str, src: str, convert) -> Iterable[Entry]:
    # split("\n"), not splitlines(): U+2028 and other separators are legal inside JSON strings.
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        loc = f"{src}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield loc, CorpusError(f"{loc}: not valid JSON ({exc.msg}); each line must be one JSON object")
            continue
        except ValueError as exc:  # e.g. an integer too long to convert
            yield loc, CorpusError(f"{loc}: not usable JSON ({_clean(exc)[:80]}); each line must be one JSON object")
            continue
        except RecursionError:
            yield loc, CorpusError(f"{loc}: JSON nested too deeply; each line must be one flat JSON object")
            continue
        try:
            yield loc, convert(obj, loc, src)
        except CorpusError as exc:
            yield loc, exc


def read_corpus(
    path: str | Path,
    fmt: str | None = None,
    *,
    strict: bool = False,
    title_col: str | None = None,
    abstract_col: str | None = None,
) -> Corpus:
    """Read a corpus file in any known format, detected from the extension and content.

    Args:
        path: The corpus file.
        fmt: One of :data:`FORMATS` to skip detection.
        strict: Fail on the first malformed entry instead of skipping it with a note.
        title_col: CSV/TSV: the title column (default: found by name).
        abstract_col: CSV/TSV: the abstract column (default: found by name).

    Returns:
        The corpus; duplicates (same arXiv id, DOI or normalised title) merged into one paper.

    Raises:
        CorpusError: Unknown format, or the file cannot be read (see the readers).
    """
    from . import formats

    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise CorpusError(f"unknown corpus format '{fmt}'; known formats: {', '.join(FORMATS)}")
    text = _read_text(path)
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty; give a corpus with at least one paper")
    fmt = fmt or formats.detect_format(path, text)
    if fmt == "daily":
        return read_daily_papers(path, text=text)
    if fmt == "jsonl":
        return read_jsonl(path, text=text, strict=strict)
    return formats.READERS[fmt](path, text, strict=strict, title_col=title_col, abstract_col=abstract_col)


BUNDLED_SOURCE = "bundled:daily_papers_seed.txt"


def bundled_file_sha256() -> str:
    """SHA-256 of the bundled corpus file (cheap: no parsing)."""
    return hashlib.sha256(resources.files("paperlike").joinpath("data/daily_papers_seed.txt").read_bytes()).hexdigest()


def bundled_corpus() -> Corpus:
    """The 75 seed papers that ship with paperlike (a "Daily Papers" page)."""
    text = resources.files("paperlike").joinpath("data/daily_papers_seed.txt").read_text(encoding="utf-8")
    corpus = read_daily_papers(BUNDLED_SOURCE, text=text, source=BUNDLED_SOURCE)
    corpus.file_sha256 = bundled_file_sha256()
    return corpus


