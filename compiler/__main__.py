"""``python -m dcmspec`` runs the command line."""

from .cli import main

main()
