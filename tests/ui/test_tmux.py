"""The real binary in a real terminal: tmux runs `plugintop --demo`, we read the screen and quit."""

from __future__ import annotations

import os
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
