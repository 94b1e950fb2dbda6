"""``python -m paperlike`` runs the CLI."""

from .cli import main

main()
