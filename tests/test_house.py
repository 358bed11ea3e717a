"""The house's size rule (issue "The house"): no module of the package over 400 non-blank lines, the
median at most 150, so a module that grows past it is split when it does, not found later."""

from __future__ import annotations

import statistics
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "plugintop"


def test_no_module_over_400_lines_and_the_median_at_most_150() -> None:
    sizes = {
        str(p.relative_to(PACKAGE)): sum(1 for line in p.read_text().splitlines() if line.strip())
        for p in PACKAGE.rglob("*.py")
    }
    assert {p: n for p, n in sizes.items() if n > 400} == {}
    assert statistics.median(sizes.values()) <= 150
