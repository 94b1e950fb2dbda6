"""The plain records every layer passes around: papers, themes, results. No I/O, no heavy imports."""

from .papers import Corpus, Paper, embedded_text, paper_text_hash, remember_text_hash, text_hash
from .results import DEFAULT_MODE, MODES, Answer, Result, Results, Why
from .themes import Seed, Theme, ThemePaper, ThemeSet, parse_seeds

__all__ = [
    "Paper",
    "Corpus",
    "text_hash",
    "embedded_text",
    "paper_text_hash",
    "remember_text_hash",
    "Why",
    "Result",
    "Results",
    "Answer",
    "MODES",
    "DEFAULT_MODE",
    "Seed",
    "ThemePaper",
    "Theme",
    "ThemeSet",
    "parse_seeds",
]
