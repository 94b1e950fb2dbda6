"""The lines of a mapped papers file, found through an array of where each line starts.

``papers_at`` (theme labels, ``--why``, the map, each search's results) needs a few lines of a
file that holds a million; splitting a copy of the file into a list of lines cost 3 GB at 1M
papers, the array of line starts 8 bytes a line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Lines"]

_SCAN_BYTES = 1 << 20  # bytes searched for line ends at a time (a mask of this many bytes)


class Lines:
    """Line ``i`` of ``data`` (bytes or a mapped file) as ``data.split(b"\\n")[i]`` would give it.

    Split on ``"\\n"`` only: U+2028 and friends may sit inside JSON strings.
    """

    def __init__(self, data: Any, scan: int = _SCAN_BYTES):
        self.data = data
        view = np.frombuffer(data, dtype=np.uint8) if len(data) else np.zeros(0, np.uint8)
        ends = [np.flatnonzero(view[s : s + scan] == 10) + s for s in range(0, len(view), scan)]
        self.starts = np.concatenate([np.zeros(1, np.int64), *(e + 1 for e in ends)])

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> bytes:
        if not 0 <= i < len(self.starts):
            raise IndexError(i)
        end = int(self.starts[i + 1]) - 1 if i + 1 < len(self.starts) else len(self.data)
        return bytes(self.data[int(self.starts[i]) : end])

    def __iter__(self) -> Iterator[bytes]:
        return (self[i] for i in range(len(self)))
