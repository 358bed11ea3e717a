"""A command in a real terminal: tmux runs it at a size; the tests read the screen and type keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest


def need_tmux() -> str:
    """tmux's path; skipped without it locally, a failure under CI (`scripts/install-deps.sh` installs it)."""
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI"):
            raise AssertionError("tmux is missing under CI: scripts/install-deps.sh installs it")
        pytest.skip("tmux not installed (apt-get install tmux, or run scripts/install-deps.sh)")
    return tmux


class Terminal:
    """One tmux session running the command; `EXITED:<status>` is printed when it ends."""

    def __init__(self, tmux: str, session: str) -> None:
        self.tmux, self.session = tmux, session

    def screen(self, escapes: bool = False) -> str:
        """What the terminal shows (with `escapes`, its SGR sequences too)."""
        flags = ["-e"] if escapes else []
        cmd = [self.tmux, "capture-pane", *flags, "-p", "-t", self.session]
        return subprocess.run(cmd, capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([self.tmux, "send-keys", "-t", self.session, *keys], check=True)

    def wait_for(self, done: Callable[[str], bool], seconds: float = 45.0, escapes: bool = False) -> str:
        """The screen once `done(screen)` holds or the command ended, at most `seconds`."""
        screen = ""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (done(screen) or "EXITED" in screen):
            time.sleep(0.5)
            screen = self.screen(escapes)
        return screen

    def quit(self) -> str:
        """`q`, then the screen once the command ended (`EXITED:0` on it when it exited 0)."""
        self.keys("q")
        return self.wait_for(lambda s: False, seconds=10.0)


@contextmanager
def terminal(command: str, cols: int, rows: int) -> Iterator[Terminal]:
    """`command` (a shell line) running in a `cols`×`rows` tmux session, killed afterwards."""
    tmux = need_tmux()
    session = f"plugintop-test-{uuid.uuid4().hex[:8]}"
    line = f"{command}; echo EXITED:$?; sleep 30"
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", str(cols), "-y", str(rows), line], check=True)
    try:
        yield Terminal(tmux, session)
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True)
