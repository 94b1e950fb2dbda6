"""Reading a corpus file one line at a time: JSON lines and the arXiv metadata snapshot (all of
arXiv is a 4 GB file) are never held in memory whole, and their format is told from the head.

Lines are split on ``"\\n"`` only, as ``text.split("\\n")`` would split the decoded file (U+2028
and other separators are legal inside JSON strings), and numbered the same way, so a message
names the same line whether a file was streamed or read whole (the empty "line" after a final
``"\\n"`` is not given: a blank line is skipped anyway).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import CorpusError

__all__ = ["HEAD_BYTES", "MAX_LINE_BYTES", "SNIFF_CHARS", "read_head", "file_lines", "split_lines"]

# Enough of a file to tell its format: detection looks at its first SNIFF_CHARS characters.
HEAD_BYTES = 1 << 16
SNIFF_CHARS = 4000

# The longest line read (64 MiB): one paper's record; a longer line (a file of NUL bytes, a
# mistake) is skipped without being held in memory, with a note like any malformed line.
MAX_LINE_BYTES = 1 << 26
_SKIP_BYTES = 1 << 20


def read_head(handle: BinaryIO) -> tuple[bytes, str | None, bool]:
    """``(first bytes, their text, whole file)`` of an open file: at most :data:`HEAD_BYTES`
    bytes, decoded as UTF-8 (a BOM dropped, a character cut at the end left out). The text is
    None when the bytes are not UTF-8 (the whole-file reader then names the line)."""
    handle.seek(0)
    raw = handle.read(HEAD_BYTES)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(raw, final=False)
    except UnicodeDecodeError:
        text = None
    return raw, text, len(raw) < HEAD_BYTES


def file_lines(handle: BinaryIO, path: Path) -> Iterator[str | None]:
    """The lines of an open UTF-8 file from its start, decoded one at a time; None in place of a
    line over :data:`MAX_LINE_BYTES`, which is skipped unread.

    Raises:
        CorpusError: A line is not valid UTF-8 (names the file and line).
    """
    limit = MAX_LINE_BYTES
    handle.seek(0)
    lineno = 0
    while raw := handle.readline(limit + 1):
        lineno += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # the rest of the long line, a piece at a time
                raw = handle.readline(_SKIP_BYTES)
            yield None
            continue
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError:
            raise CorpusError(f"{path}:{lineno}: not valid UTF-8 text; save the file as UTF-8") from None
        yield line[:-1] if line.endswith("\n") else line


def split_lines(text: str | Iterable[str | None]) -> Iterator[str | None]:
    """The lines of ``text``, ``text.split("\\n")`` one at a time (no list of every line), or
    the lines of a file as :func:`file_lines` gives them."""
    if not isinstance(text, str):
        yield from text
        return
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]
