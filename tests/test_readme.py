"""The README's Usage lines run as written against `plugintop demo serve` (its URLs in `PLUGINTOP_*_URL`, as
the README says), in order, in one directory: each exits 0 with no traceback and prints something (or writes
its file). `[…]` is left out and `TRACE_ID` is the report's trace; the screen's lines run in tmux, where
the screen must show the tenant's verdict and `q` exit 0."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.terminal import terminal

README = Path(__file__).resolve().parents[1] / "README.md"
EXE = str(Path(sys.executable).parent / "plugintop")
OPTIONAL = re.compile(r"\[[^\[\]]*\]")


def usage_lines() -> list[str]:
    """The Usage block's commands: continuation lines joined, comments and `[…]` left out."""
    text = README.read_text().split("## Usage\n", 1)[1].strip("\n").split("\n\n", 1)[0]
    joined = re.sub(r"\\\n\s*", "", text)
    lines = []
    for line in joined.splitlines():
        line = OPTIONAL.sub("", line.split(" # ", 1)[0]).strip()
        if line.startswith("plugintop"):
            lines.append(" ".join(line.split()))
    return lines


def test_the_usage_block_is_read_whole() -> None:
    """The parser sees every command of the block (a README edit that breaks it fails here, not silently)."""
    lines = usage_lines()
    subcommands = {shlex.split(x)[1] for x in lines if not shlex.split(x)[1].startswith("-")}
    assert {"report", "tail", "logs", "trace", "bundle", "alert", "rules", "check", "demo"} <= subcommands
    assert sum(1 for x in lines if shlex.split(x)[1].startswith("-")) == 2  # the screen, live and replayed
    assert not any("[" in x or "]" in x or "#" in x for x in lines), lines


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`plugintop demo serve` running; the environment the README names, and nothing of the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGINTOP_")}
    env |= {"XDG_CONFIG_HOME": str(tmp_path / "config"), "NO_COLOR": "1"}
    with subprocess.Popen(
        [EXE, "demo", "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as serve:
        try:
            assert serve.stdout is not None
            for _ in range(4):
                name, url = serve.stdout.readline().strip().split("=", 1)
                env[f"PLUGINTOP_{name.upper()}_URL"] = url
            yield env
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(timeout=10)
            except subprocess.TimeoutExpired:
                serve.kill()


def on_screen(args: list[str], env: dict[str, str], cwd: Path, expect: str) -> None:
    """Runs a screen command in tmux at 120x40; `expect` must show, then `q` exits 0."""
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("PLUGINTOP_", "XDG_")))
    with terminal(
        f"cd {shlex.quote(str(cwd))} && env {exports} TERM=xterm-256color {shlex.join(args)}", 120, 40
    ) as term:
        screen = term.wait_for(lambda s: expect in s)
        assert expect in screen and "Traceback" not in screen, screen
        screen = term.quit()
        assert "EXITED:0" in screen, screen


def test_every_usage_line_runs_as_written_against_demo_serve(demo_env: dict[str, str], tmp_path: Path) -> None:
    trace_id = ""
    ran = []
    for line in usage_lines():
        args = [EXE, *shlex.split(line)[1:]]
        if args[1:3] == ["demo", "serve"]:
            continue  # the stack the others run against
        if "TRACE_ID" in args:
            assert trace_id, "the report before `trace` names a trace"
            args[args.index("TRACE_ID")] = trace_id
        if args[1].startswith("-"):
            on_screen(args, demo_env, tmp_path, "REPLAY" if "--replay" in args else "INCIDENT")
            ran.append(line)
            continue
        r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=demo_env, cwd=tmp_path)
        assert r.returncode == 0 and "Traceback" not in r.stderr, (line, r.returncode, r.stderr[-800:])
        wrote = args[args.index("-o") + 1] if "-o" in args else None
        assert (tmp_path / wrote).stat().st_size > 0 if wrote else r.stdout.strip(), (line, r.stdout[-300:])
        if args[1] == "report" and not trace_id:
            shown = subprocess.run(
                [*args, "--format", "json"], capture_output=True, text=True, timeout=120, env=demo_env
            )
            trace_id = json.loads(shown.stdout)["trace"]["trace_id"]
        ran.append(line)
    assert len(ran) == len(usage_lines()) - 1, ran
