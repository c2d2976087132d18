"""The ``newsmon`` command line: thin click commands over the library (see ``app``).

Subcommand modules (``crawling``, ``files``, ``articles``, ``daemon``, ``stories``) are loaded
by ``cli`` when one of their commands is asked for.
"""

from pipeline.cli.app import cli

__all__ = ["cli"]
