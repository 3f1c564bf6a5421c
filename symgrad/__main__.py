"""``python -m symgrad`` is the ``symgrad`` command."""

from symgrad.cli import run

run()
