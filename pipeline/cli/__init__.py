"""The ``newsmon`` command line: thin click commands over the library (see ``app``)."""

from pipeline.cli import articles, crawling, files
from pipeline.cli.app import cli

__all__ = ["articles", "cli", "crawling", "files"]
