"""The ``newsmon`` command line: thin click commands over the library (see ``app``)."""

from pipeline.cli import articles, crawling, files
from pipeline.cli import daemon as daemon  # `run` and `status`
from pipeline.cli import stories as stories  # `stories` and `dedupe`
from pipeline.cli.app import cli

__all__ = ["articles", "cli", "crawling", "files"]
