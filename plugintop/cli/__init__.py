"""The command line: one module per command, over what they share (`common`)."""

from plugintop.cli.main import entry, main

__all__ = ["entry", "main"]
