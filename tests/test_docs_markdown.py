"""The Markdown docs render as written (docs/check_markdown.py, run by .ci/run): no fence left
open, no missing image, no relative link to a missing file; and the check fails on pages that
have one of those."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / "docs" / "check_markdown.py"
_spec = importlib.util.spec_from_file_location("check_markdown", SCRIPT)
assert _spec is not None and _spec.loader is not None
check_markdown = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_markdown)


def test_repo_docs_render() -> None:
    files = check_markdown.default_files()
    names = {str(f.relative_to(ROOT)) for f in files}
    assert {"README.md", "docs/errors.md", "docs/readme/themes.md", "docs/readme/lookups.md"} <= names
    assert [p for f in files for p in check_markdown.check_file(f)] == []


def test_script_exit_codes(tmp_path: Path) -> None:
    good = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "bad.md"
    bad.write_text("# t\n\n```\ncode\n```\n\ntext\n```\nleft open\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "bad.md:8: code fence '```' is never closed" in done.stderr


# The README's own break, small: a cog block's output, then leftover lines of an older output
# and its closing fence outside the block; the prose below then reads as code.
STRAY = """<!-- [[[cog run('x') ]]] -->
```
output
```
<!-- [[[end]]] -->
   1  0.633  leftover
```

How themes are made.

```
paperlike map
```

![map](map.png)
"""

BAD = {
    "stray fence": (STRAY, "code fence '```' is never closed"),
    "open at end": ("text\n\n```python\nx = 1\n", "code fence '```' is never closed"),
    "open tilde fence": ("~~~\nx\n```\n", "code fence '~~~' is never closed"),
    "short closing fence": ("````\nx\n```\n", "code fence '````' is never closed"),
    "open in a quote": ("> ```\n> x\n\nafter\n", "code fence '```' is never closed"),
    "missing image": ("![a map](nothere.png)\n", "image target 'nothere.png' does not exist"),
    "missing html image": ('<img src="gone/shot.png" alt="x">\n', "image target 'gone/shot.png' does not exist"),
    "missing link": ("see [the doc](docs/missing.md)\n", "link target 'docs/missing.md' does not exist"),
    "missing link with anchor": ("[x](other.md#part)\n", "link target 'other.md#part' does not exist"),
    "missing reference link": ("[x][r]\n\n[r]: ../nope.txt\n", "link target '../nope.txt' does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_documents_fail(case: str, tmp_path: Path) -> None:
    (tmp_path / "map.png").write_bytes(b"png")
    text, expected = BAD[case]
    problems = check_markdown.check_text(text, tmp_path, "page.md")
    assert len(problems) == 1 and expected in problems[0], problems


GOOD = {
    "closed fences": "```\na\n```\n\n~~~\nb\n~~~\n",
    "longer closing fence": "```\na\n`````\n",
    "fence inside a longer fence": "````\n```\nnot a fence\n```\n````\n",
    "closed in a quote": "> ```\n> x\n> ```\n",
    "closed in a list": "- item\n\n  ```\n  x\n  ```\n",
    "existing image and link": "![m](map.png) [s](sub/) [m](./map.png#top)\n",
    "external and anchors": "[a](https://example.org/x.md) [b](#ranking) [c](mailto:a@b.c) ![d](//cdn/x.png)\n",
    "link inside code is not a link": "```\n[x](missing.md)\n```\n\n`![y](missing.png)`\n",
}


@pytest.mark.parametrize("case", sorted(GOOD))
def test_good_documents_pass(case: str, tmp_path: Path) -> None:
    (tmp_path / "map.png").write_bytes(b"png")
    (tmp_path / "sub").mkdir()
    assert check_markdown.check_text(GOOD[case], tmp_path, "page.md") == []
