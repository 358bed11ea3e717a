"""Provides `python -m plugintop`."""

from plugintop.cli import entry

entry()
