"""The real binary in a real terminal: tmux runs `plugintop --demo`, we read the screen and quit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

TMUX = shutil.which("tmux")


def _need_tmux() -> str:
    if TMUX is None:
        if os.environ.get("CI"):
            raise AssertionError("tmux is missing under CI: scripts/install-deps.sh installs it")
        pytest.skip("tmux not installed (apt-get install tmux, or run scripts/install-deps.sh)")
    return TMUX


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (160, 48)])
def test_demo_in_a_real_terminal(cols: int, rows: int, tmp_path: Path) -> None:
    tmux = _need_tmux()
    session = f"plugintop-test-{uuid.uuid4().hex[:8]}"
    exe = Path(sys.executable).parent / "plugintop"
    cmd = f"TERM=xterm-256color {exe} --demo; echo EXITED:$?; sleep 30"
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", str(cols), "-y", str(rows), cmd], check=True)
    try:
        screen = ""
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            time.sleep(0.5)
            screen = subprocess.run([tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if "LLM · tenant" in screen and "p99" in screen and "EXITED" not in screen:
                break
        assert "Traceback" not in screen
        assert "acme" in screen and "p99" in screen, screen
        assert "INCIDENT · llm · tenant" in screen, screen  # the verdict line is visible
        lines = screen.splitlines()
        assert len(lines) <= rows and max(len(line) for line in lines) <= cols
        subprocess.run([tmux, "send-keys", "-t", session, "q"], check=True)
        for _ in range(20):
            time.sleep(0.3)
            after = subprocess.run([tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if "EXITED" in after:
                break
        assert "EXITED:0" in after, after
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True)


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
    tmux = _need_tmux()
    session = f"plugintop-test-{uuid.uuid4().hex[:8]}"
    exe = Path(sys.executable).parent / "plugintop"
    cmd = f"NO_COLOR=1 TERM=xterm-256color {exe} --demo; echo EXITED:$?; sleep 30"
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd], check=True)
    try:
        screen = ""
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and "INCIDENT" not in screen:
            time.sleep(0.5)
            screen = subprocess.run(
                [tmux, "capture-pane", "-e", "-p", "-t", session], capture_output=True, text=True
            ).stdout
        assert "INCIDENT" in screen, screen
        assert colours(screen) == set(), sorted(colours(screen))[:10]
        subprocess.run([tmux, "send-keys", "-t", session, "q"], check=True)
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True)
