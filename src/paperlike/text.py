"""Text helpers shared by every layer: cleaning, LaTeX decoding, folding, slugs, unique ids.

One home for each: readers, storage, themes and search all call these instead of their own copies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Container
from functools import lru_cache
from typing import Any

__all__ = ["clean_text", "plain_text", "fold", "slugify", "unique_name"]


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


def fold(text: str) -> str:
    """Whitespace collapsed and case folded: how titles and ids are compared."""
    return " ".join(text.split()).casefold()


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
