"""The command line's start-up: the collector, off while `entry` imports, is back on (with start-up's
objects frozen) before any command does its work."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from plugintop import cli
from plugintop.cli.common import settled

ARGS = ["--plugin", "p", "--tenant", "t"] + [
    f"--{b}-url=http://127.0.0.1:9" for b in ("prometheus", "loki", "tempo", "pyroscope")
]


class Stop(Exception):
    """Raised where a command's work would start."""


@pytest.fixture
def collector_off() -> Iterator[list[bool]]:
    """The collector as `entry` leaves it for `main`; restored afterwards. Yields what the command
    found when its work started."""
    seen: list[bool] = []
    gc.disable()
    try:
        yield seen
    finally:
        gc.enable()
        gc.unfreeze()


def _record(seen: list[bool]) -> Any:
    def at_work(*args: Any, **kwargs: Any) -> Any:
        for a in args:
            if asyncio.iscoroutine(a):
                a.close()
        seen.append(gc.isenabled())
        raise Stop

    return at_work


@pytest.mark.parametrize(
    "argv", [["report", *ARGS], ["check", *ARGS], ["tail", *ARGS], ARGS, ["demo", "serve"]], ids=lambda a: a[0]
)
def test_each_command_turns_the_collector_back_on_before_its_work(
    argv: list[str], collector_off: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command (the screen's too) does its work in `asyncio.run`, after its imports."""
    monkeypatch.setattr(asyncio, "run", _record(collector_off))
    monkeypatch.setattr("plugintop.cli.app.need_terminal", lambda: None)  # pytest's stdout is no terminal
    cli.main(argv)
    assert collector_off == [True] and gc.get_freeze_count() > 0


def test_settled_is_a_no_op_when_entry_did_not_turn_the_collector_off() -> None:
    """`main` called as a library (the tests do) has the collector on: nothing is frozen."""
    before = gc.get_freeze_count()
    assert gc.isenabled()
    settled()
    assert gc.isenabled() and gc.get_freeze_count() == before


def test_httpx_comes_without_its_command_line_client() -> None:
    """httpx imports its own CLI (click, rich.progress, pygments) on `import httpx` when click is
    installed: ~35 ms of every command's start. plugintop puts a stand-in there first: httpx takes it,
    and none of those modules is loaded."""
    code = (
        "import sys, plugintop, httpx\n"
        "print(httpx.main.__qualname__.split('.')[0])\n"
        "print(sorted(m for m in ('click', 'rich.progress', 'pygments.lexers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["_without_httpx_cli", "[]"]
    shown = subprocess.run(
        [sys.executable, "-c", "import plugintop, httpx; httpx.main()"], capture_output=True, text=True
    )
    assert shown.returncode == 1 and "httpx" in shown.stdout


def test_the_screen_on_a_pipe_is_one_line_and_exit_2_not_escape_codes() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "plugintop", "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "needs a terminal" in done.stderr and "plugintop report" in done.stderr
