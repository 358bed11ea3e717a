"""Provides `python -m plugintop`."""

from plugintop.cli import main

raise SystemExit(main())
