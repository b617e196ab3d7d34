"""``python -m dcmspec_compiler`` runs the command line."""

from .entry import run

run()
