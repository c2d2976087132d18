"""``python -m pipeline`` is the ``newsmon`` command."""

from pipeline.cli import cli

cli()
