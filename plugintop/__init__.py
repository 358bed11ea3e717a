"""plugintop: one-screen triage of a slow plugin for a tenant."""

import sys
from types import ModuleType

__version__ = "0.1.0"


def _without_httpx_cli() -> None:
    """`import httpx` also imports httpx's own command-line client (click, rich.progress, pygments:
    ~35 ms, half of httpx's import, measured in `report`'s start) unless `httpx._main` is loaded
    already (encode/httpx#3547, still open). plugintop never runs that client: a stand-in takes its
    place, saying what httpx says when the client's extras are missing."""
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stub = ModuleType("httpx._main")

    def main() -> None:
        print("The httpx command line client is not loaded inside plugintop; run `httpx` on its own.")
        sys.exit(1)

    stub.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stub


_without_httpx_cli()
