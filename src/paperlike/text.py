"""Text helpers shared by every layer: cleaning, LaTeX decoding, folding, slugs, unique ids.

One home for each: readers, storage, themes and search all call these instead of their own copies.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Container
from functools import lru_cache
from typing import Any

__all__ = [
    "clean_text",
    "collapse_spaces",
    "plain_text",
    "has_markup",
    "fold",
    "cut_words",
    "slugify",
    "unique_name",
    "MAX_TEXT_CHARS",
    "clip_text",
]


# The most characters of a paper's title + abstract that search and explanations use. Real
# abstracts stay far below it (the longest in ACM-CR and the bundled papers are a few thousand
# characters); MiniLM reads only the first ~256 word pieces anyway. Without a bound, one paper
# with a 50 MB abstract made every lookup of it take over a minute (BM25 query + explanation).
MAX_TEXT_CHARS = 20_000


# Control characters (NUL, ESC...) in a field would reach terminals and JSON consumers; lone
# surrogates (possible in JSON "\ud800" escapes) cannot be encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def collapse_spaces(text: str) -> str:
    """Whitespace runs (any Unicode space, line breaks) as one space, none at the ends: the one
    place whitespace is folded."""
    return " ".join(text.split())


def clean_text(value: Any) -> str:
    """Field text safe to store and print: control characters as spaces, whitespace runs
    collapsed, lone surrogates replaced (used by every reader, and for queries and seed names)."""
    if value is None:
        return ""
    return collapse_spaces(_SURROGATE.sub("\ufffd", _CONTROL.sub(" ", str(value))))


def cut_words(text: str, width: int = 60) -> str:
    """``text`` (a title in a message) cut to at most ``width`` characters at a word boundary,
    with an ellipsis when cut; one word longer than ``width`` is cut inside, as it has to be."""
    text = collapse_spaces(text)
    if len(text) <= width:
        return text
    cut = text[: max(width - 1, 1)]
    space = cut.rfind(" ")
    if text[len(cut)].isalnum() and cut[-1].isalnum() and space > 0:  # the cut falls inside a word
        cut = cut[:space]
    # Drop a dangling separator (a colon or dash before the cut) so the ellipsis follows a word.
    return cut.rstrip(" :;,-–—") + "…"


def clip_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at a space when one is near the cut.

    What search (BM25), explanations and the embedder see of a paper (:attr:`Paper.text` is
    clipped with it), so one huge abstract cannot make every lookup slow.
    """
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", max(0, limit - 200))
    return cut[:space] if space > 0 else cut


_LATEX_HINT = re.compile(r"[\\{}$]")

# Characters of decoded texts (source and result) that :func:`plain_text` keeps: about 3,000 of
# ACM-CR's 96k papers have LaTeX in their abstract, 8 million characters in all.
DECODED_KEPT_CHARS = 32_000_000


class _Decoded:
    """Decoded texts by source text, up to a total number of characters (the oldest go first)."""

    def __init__(self, budget: int):
        self.budget = budget
        self._kept: dict[str, str] = {}
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> str | None:
        return self._kept.get(text)

    def put(self, text: str, decoded: str) -> None:
        size = len(text) + len(decoded)
        if size > self.budget // 100:
            return  # one huge text does not push out a hundred ordinary ones
        with self._lock:
            if text in self._kept:
                return
            self._kept[text] = decoded
            self._chars += size
            while self._chars > self.budget:
                oldest = next(iter(self._kept))
                self._chars -= len(oldest) + len(self._kept.pop(oldest))


_DECODED = _Decoded(DECODED_KEPT_CHARS)


@lru_cache(maxsize=1)
def _latex_decoder():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


def has_markup(text: str) -> bool:
    """Whether :func:`plain_text` has LaTeX to decode in ``text`` (slow: milliseconds a paper)."""
    return _LATEX_HINT.search(text) is not None


def plain_text(text: str) -> str:
    """Text with LaTeX markup decoded (accents, ``\\%``, ``{\\em ...}``, braces), whitespace collapsed.

    Plain text passes through untouched (and fast); math stays as written. Decoded texts are
    kept (:data:`DECODED_KEPT_CHARS`): decoding is pure Python, about 5 ms for an abstract, and
    explanations decode the same papers' texts again and again.
    """
    if not _LATEX_HINT.search(text):
        return text
    decoded = _DECODED.get(text)
    if decoded is None:
        decoded = _decode(text)
        _DECODED.put(text, decoded)
    return decoded


def _decode(text: str) -> str:
    try:
        # A bare & or % is text here, not an alignment tab or a comment that eats the rest.
        escaped = re.sub(r"(?<!\\)([&%])", r"\\\1", text)
        decoded = _latex_decoder().latex_to_text(escaped)
    except Exception:  # pylatexenc gives up on some malformed markup: fall back to stripping braces
        decoded = re.sub(r"[{}]", "", text)
    return collapse_spaces(decoded) or text


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


def fold(text: str) -> str:
    """Whitespace collapsed and case folded: how titles and ids are compared."""
    return collapse_spaces(text).casefold()


def unique_name(base: str, taken: Container[str], fallback: Callable[[], str] | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not in ``taken`` first.

    Args:
        base: The wanted name (a slug); when empty, ``fallback()`` gives one.
        taken: Names already used (the caller adds the result when it keeps it).
    """
    base = base or (fallback() if fallback else "")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name
