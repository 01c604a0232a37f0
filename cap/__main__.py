"""``python -m cap`` runs the ``tocsin`` command."""

from cap.cli import run

run()
