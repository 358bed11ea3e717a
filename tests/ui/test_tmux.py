"""The real binary in a real terminal: tmux runs `plugintop --demo`, we read the screen and quit."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.terminal import terminal

pytestmark = pytest.mark.tmux


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (160, 48)])
def test_demo_in_a_real_terminal(cols: int, rows: int) -> None:
    exe = Path(sys.executable).parent / "plugintop"
    with terminal(f"TERM=xterm-256color {exe} --demo", cols, rows) as term:
        screen = term.wait_for(lambda s: "LLM · tenant" in s and "p99" in s)
        assert "Traceback" not in screen
        assert "acme" in screen and "p99" in screen, screen
        assert "INCIDENT · llm · tenant" in screen, screen  # the verdict line is visible
        lines = screen.splitlines()
        assert len(lines) <= rows and max(len(line) for line in lines) <= cols
        after = term.quit()
        assert "EXITED:0" in after, after


SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def colours(captured: str) -> set[str]:
    """The colour parameters of every SGR sequence on the screen (default fore/background, 39 and 49, are none)."""
    out = set()
    for params in SGR.findall(captured):
        codes = [c for c in re.split("[;:]", params) if c]
        i = 0
        while i < len(codes):
            n = int(codes[i])
            if n in (38, 48):  # 38;5;N or 38;2;R;G;B
                out.add(";".join(codes[i : i + (3 if codes[i + 1 : i + 2] == ["5"] else 5)]))
                i += 3 if codes[i + 1 : i + 2] == ["5"] else 5
                continue
            if 30 <= n <= 37 or 40 <= n <= 47 or 90 <= n <= 97 or 100 <= n <= 107:
                out.add(str(n))
            i += 1
    return out


def test_no_color_shows_no_colour_not_even_grey() -> None:
    exe = Path(sys.executable).parent / "plugintop"
    with terminal(f"NO_COLOR=1 TERM=xterm-256color {exe} --demo", 100, 30) as term:
        screen = term.wait_for(lambda s: "INCIDENT" in s, escapes=True)
        assert "INCIDENT" in screen, screen
        assert colours(screen) == set(), sorted(colours(screen))[:10]
        term.keys("q")
