"""Error messages in the API's words.

The library's messages name the CLI's options, since most of its users meet them there ("or
--text to search it as free text"); a caller of the JSON API has no such flags, so the messages it
gets name the query parameters instead ("or kind=text ..."). One table, applied to every API error.
"""

from __future__ import annotations

import re

__all__ = ["api_wording"]

# (CLI wording, API wording), most specific first; flags only where a whole option name stands.
_API_WORDING: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r'\(to search free text, quote it: paperlike similar "[^"]*"\)'),
        "(to search free text, give it as one q with kind=text)",
    ),
    (re.compile(r'quote it: paperlike similar "[^"]*" --text'), "give it as one q with kind=text"),
    (re.compile(r"(?<![\w-])--text(?![\w-])"), "kind=text"),
    (re.compile(r"(?<![\w-])--paper(?![\w-])"), "kind=paper"),
    (re.compile(r"(?<![\w-])--not(?![\w-])"), "the 'not' parameter"),
    (re.compile(r"(add |or )--theme-set ([\w.-]+)"), r"\1theme_set=\2"),
    (re.compile(r"(?<![\w-])-n/--seed(?![\w-])"), "n/seed"),
    (re.compile(r"(?<![\w-])--theme-set(?![\w-])"), "theme_set"),
    (re.compile(r"(?<![\w-])--seed(?![\w-])"), "seed"),
    (re.compile(r"(?<![\w-])--theme(?![\w-])"), "theme"),
    (re.compile(r"\b(list (?:all|ids) with): paperlike papers\b"), r"\1: GET /api/papers"),
)


def api_wording(message: str) -> str:
    """``message`` with the CLI's option names replaced by the API's parameter names."""
    for pattern, replacement in _API_WORDING:
        message = pattern.sub(replacement, message)
    return message
