"""The one output layer: tables, JSON, records (BibTeX / JSONL / CSV) and notes, so every command
prints the same way, and nothing from a paper or a file reaches the terminal raw.

Text that came from papers and files (titles, ids, authors, excerpts, paths) is shown through
:func:`safe`, which escapes control characters (ESC, C1 codes, bidi overrides), so a hostile
title cannot move the cursor, recolour the terminal or reorder what is shown. JSON escapes them
too (:func:`emit_json`); BibTeX / JSONL / CSV go through :func:`paperlike.export.export_papers`.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from ..format_registry import EXPORT_FORMATS
from ..mode_registry import DEFAULT_MODE, MODES, find_mode
from .choices import RegistryChoice

__all__ = [
    "safe",
    "one_line",
    "note",
    "NoteHandler",
    "emit_json",
    "emit_records",
    "output_options",
    "json_option",
    "print_results",
    "print_answer",
    "print_table",
    "print_changes",
    "shorten",
]

F = TypeVar("F", bound=Callable[..., Any])

# C0 and C1 control characters, DEL, and the Unicode bidi controls ("Trojan Source").
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object) -> str:
    """``text`` fit for a terminal: control characters shown escaped (``\\x1b``), never sent."""
    return _UNSAFE.sub(_escaped, str(text))


def one_line(message: str) -> str:
    """A message on one line (whitespace runs, newlines included, become single spaces)."""
    return " ".join(message.split())


def shorten(text: str, width: int) -> str:
    """``text`` made terminal-safe and cut to ``width`` characters with an ellipsis."""
    text = safe(text)
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def note(message: str) -> None:
    """A note for the user on stderr (through the library's logger, like the library's own)."""
    logging.getLogger("paperlike").info(message)


class NoteHandler(logging.Handler):
    """Shows the library's notes on stderr, one escaped line each, above any progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        line = f"note: {safe(one_line(record.getMessage()))}"
        if "tqdm" in sys.modules:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)  # clears a running bar, prints, redraws it below
        else:
            click.echo(line, err=True)


# JSON escapes C0 controls itself; with ensure_ascii=False C1 codes and bidi controls would pass.
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def emit_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON (UTF-8 text, every control character escaped)."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    click.echo(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def emit_records(papers: Sequence[Any], fmt: str, output: Path | None = None) -> None:
    """Full paper records as BibTeX, JSONL or CSV on stdout, or into ``output`` (``-`` is stdout;
    see :func:`~paperlike.storage.files.write_output` for links, devices and FIFOs). CSV cells a spreadsheet would run as formulas are neutralised by the export."""
    from ..export import export_papers

    text = export_papers(papers, fmt)
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    from ..storage.files import write_output

    write_output(output, text.encode("utf-8"))
    click.echo(f"wrote {len(papers)} papers to {safe(output)}", err=True)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def output_options(formats: bool = False) -> Callable[[F], F]:
    """The output options every listing command shares: ``--json``, and, with ``formats``,
    ``--format`` to print the full paper records instead (e.g. for a reference manager), in
    any format of :mod:`paperlike.format_registry`."""

    def decorate(func: F) -> F:
        if formats:
            func = click.option(
                "--format",
                "export_format",
                type=RegistryChoice(lambda: EXPORT_FORMATS),
                default=None,
                help="Print the papers as full records in this format (CSV cells that a spreadsheet "
                "would run as formulas are neutralised).",
            )(func)
        return json_option(func)

    return decorate


def print_table(rows: Iterable[Sequence[object]], header: Sequence[str] | None = None) -> None:
    """Left-aligned columns (all but the last padded), every cell made terminal-safe."""
    cells = [[safe(c) for c in row] for row in rows]
    if header is not None:
        cells.insert(0, list(header))
    if not cells:
        return
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(len(cells[0]) - 1)]
    for row in cells:
        click.echo("  ".join([c.ljust(w) for c, w in zip(row, widths)] + list(row[len(widths) :])).rstrip())


def _score_label(mode: str, diverse: bool) -> str:
    """The ranking note after a header; the default mode, not diverse, needs none."""
    note = find_mode(mode).scale_note if mode in MODES else None
    parts = [mode] + ([note] if note else [])
    if diverse:
        parts.append("diverse: ordered by MMR gain (the mmr column), score = relevance")
    return f"  (ranking: {'; '.join(parts)})" if mode != DEFAULT_MODE or diverse else ""


def link_lines(before: str, link: str | None, width: int) -> list[str]:
    """``before · link`` in ``width`` characters: ``before`` is shortened, the link never (a cut
    link leads nowhere); when both do not fit on one line, the link gets a line of its own."""
    link = safe(link) if link else ""
    if not link:
        return [shorten(before, width)] if before else []
    room = width - len(link) - 3
    if not before:
        return [link]
    return [f"{shorten(before, room)} · {link}"] if room >= 20 else [shorten(before, width), link]


def _detail_lines(r: Any, why: bool, width: int) -> list[str]:
    """The lines under a result: byline and link, then the why (when asked for)."""
    lines = link_lines(r.byline(), r.link, width)
    if why and r.why is not None:
        lines.append(f"why: {shorten(r.why.short(width - 3), width)}")
        if r.why.result_sentence:
            lines.append(f'     "{shorten(r.why.result_sentence, width - 10)}"')
    return lines


def print_results(results: Sequence[Any], why: bool = False, diverse: bool = False) -> None:
    """The ranked results as a table: rank, (mmr,) score, id, title, then a line with first
    author(s), year, venue and link when the record has them, and the why when asked for."""
    if not results:
        click.echo("(no results)")
        return
    # Ids are never shortened: users copy them into the next command.
    ids = [safe(r.id) for r in results]
    id_width = max(len(i) for i in ids)
    lead = 13 + (8 if diverse else 0)  # "rank  score  " (+ "    mmr  ")
    title_width = max(shutil.get_terminal_size((120, 24)).columns - id_width - lead - 3, 30)
    click.echo(f"{'rank':>4}  {'   mmr  ' if diverse else ''}{'score':>5}  {'id':<{id_width}}  title")
    for r, rid in zip(results, ids):
        gain = "" if not diverse else f"{r.mmr:6.3f}  " if r.mmr is not None else f"{'-':>6}  "
        click.echo(f"{r.rank:>4}  {gain}{r.score:5.2f}  {rid:<{id_width}}  {shorten(r.title, title_width)}")
        for line in _detail_lines(r, why, title_width + id_width):
            click.echo(" " * (lead + 2) + line)


def _answer_header(answer: Any) -> str:
    if answer.kind == "paper":
        return f"Papers like: {safe(answer.paper_title)} [{safe(answer.paper_id)}]"
    if answer.kind == "text" and answer.query_kind == "online" and answer.paper_title:  # a paper fetched with --online
        return f"Papers like: {safe(answer.paper_title)} [{safe(answer.query)}, fetched online]"
    if answer.kind == "text":
        return f"Papers like the text: {shorten(answer.query, 100)}"
    header = "Papers like: " + "; ".join(f"{safe(title)} [{safe(pid)}]" for pid, title in answer.papers)
    if answer.unlike:
        header += "\nand unlike: " + "; ".join(f"[{safe(pid)}]" for pid, _ in answer.unlike)
    return header


def note_reading(answer: Any) -> None:
    """Say on stderr how the query was read, with the other reading when there is one."""
    line = f"query read as: {answer.read_as}"
    if answer.note:
        line += f": {answer.note}"
    if answer.query_kind in ("title_prefix", "near_match"):
        line += "; to search it as free text instead, add --text"
    note(line)


def print_answer(answer: Any, *, why: bool, as_json: bool) -> None:
    """An :class:`~paperlike.records.Answer` as JSON (a list of results, each with the answer's
    ``query_kind``) or as a table with a header."""
    note_reading(answer)
    if as_json:
        emit_json([{**r.to_dict(), "query_kind": answer.query_kind} for r in answer.results])
        return
    click.echo(_answer_header(answer) + _score_label(answer.mode, answer.diverse))
    print_results(answer.results, why, answer.diverse)


def print_changes(changes: dict) -> None:
    parts = [
        f"{key} {', '.join(safe(c) for c in changes[key])}" for key in ("new", "grown", "shrunk", "gone") if changes.get(key)
    ]
    parts += [f"merged {safe(old)} into {safe(new)}" for old, new in sorted(changes.get("merged", {}).items())]
    if parts:
        click.echo("changes since the last themes of this index: " + "; ".join(parts))
