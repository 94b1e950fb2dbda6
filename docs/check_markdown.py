"""Checks that the Markdown docs render as written: ``python docs/check_markdown.py [FILE ...]``.

``cog --check`` only compares the generated blocks; a stray fence outside them turns the rest of
a page inside out (prose shown as code, code and images shown as prose) and nothing else notices.
This parses each page with a CommonMark parser (markdown-it-py, the one rich uses) and fails on:

- a code fence left open: its block runs to the end of the page (or of its list item / quote)
  without a closing fence, which is what an odd number of fence lines gives;
- an image whose file does not exist;
- a relative link to a file or folder that does not exist.

Without arguments it checks README.md and every tracked Markdown page the README links to or
lives beside (docs/*.md, docs/readme/*.md, index/, models/ and notebooks/ README.md). Prints one
line per problem (``file:line: what``) and exits 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["check_file", "check_text", "default_files", "main"]

ROOT = Path(__file__).resolve().parents[1]
# A target with a scheme (https:, mailto:) or protocol-relative: not a file of this checkout.
_EXTERNAL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//)")
# <img src="..."> written as HTML in the page.
_HTML_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def default_files(root: Path = ROOT) -> list[Path]:
    """README.md, docs/*.md, docs/readme/*.md and the README.md of index/, models/, notebooks/."""
    files = [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "docs" / "readme").glob("*.md"))]
    files += [root / sub / "README.md" for sub in ("index", "models", "notebooks")]
    return [f for f in files if f.is_file()]


def _fence_closed(token: Token, lines: list[str]) -> bool:
    """Whether a fence token's last line is its closing fence (a fence left open runs to the end
    of its container instead, and its last line is content or blank)."""
    assert token.map is not None
    start, end = token.map
    if end - start < 2:  # only the opening line: nothing after it closed it
        return False
    # Drop the blockquote / list indentation a fence inside a container carries.
    last = lines[end - 1].lstrip(" \t>").rstrip()
    char, width = token.markup[0], len(token.markup)
    return len(last) >= width and set(last) == {char}


def _targets(tokens: list[Token]) -> Iterator[tuple[str, str, int]]:
    """(kind, target, 0-based line) for every image and link, HTML <img> included."""
    for token in tokens:
        line = token.map[0] if token.map else 0
        if token.type in ("html_block", "html_inline"):
            for src in _HTML_IMG.findall(token.content):
                yield "image", src, line
        for child in token.children or ():
            if child.type == "image":
                yield "image", str(child.attrGet("src") or ""), line
            elif child.type == "link_open":
                yield "link", str(child.attrGet("href") or ""), line
            elif child.type == "html_inline":
                for src in _HTML_IMG.findall(child.content):
                    yield "image", src, line


def check_text(text: str, folder: Path, name: str = "<text>") -> list[str]:
    """The problems of one Markdown document whose relative links start from ``folder``."""
    lines = text.splitlines()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    problems = []
    for token in tokens:
        if token.type == "fence" and not _fence_closed(token, lines):
            assert token.map is not None
            problems.append(
                f"{name}:{token.map[0] + 1}: code fence {token.markup!r} is never closed (its block runs to line "
                f"{token.map[1]}): a stray or missing fence turns prose and code around"
            )
    for kind, target, line in _targets(tokens):
        if not target or target.startswith("#") or _EXTERNAL.match(target):
            continue
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if path and not (folder / path).exists():
            problems.append(f"{name}:{line + 1}: {kind} target {target!r} does not exist")
    return problems


def check_file(path: Path) -> list[str]:
    """The problems of one Markdown file (its relative links start from its folder)."""
    try:
        name = str(path.resolve().relative_to(ROOT))
    except ValueError:
        name = str(path)
    return check_text(path.read_text(encoding="utf-8"), path.resolve().parent, name)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    files = [Path(a) for a in args] or default_files()
    problems = [p for f in files for p in check_file(f)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(files)} Markdown files checked: {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
