"""The ``paperlike`` command line: option parsing and output only; the library does the work.

Every library error (:class:`~paperlike.errors.PaperlikeError`) and every usage error becomes a
single ``Error: ...`` line on stderr with exit code 2.
"""

from . import index, library, model, query, rank, serve, themes, triage  # noqa: F401  (each registers its commands)
from .app import cli, main

__all__ = ["cli", "main"]
