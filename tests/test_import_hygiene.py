"""`--help` imports nothing heavy. (The layers themselves are import-linter contracts in .importlinter,
checked by `lint-imports` in tox's lint env.)"""

from __future__ import annotations

import subprocess
import sys


def test_cli_import_is_light() -> None:
    code = (
        "import sys, plugintop.cli; print(sorted(m for m in ('textual','httpx','msgspec','rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
