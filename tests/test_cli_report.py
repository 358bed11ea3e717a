"""`plugintop report` as a user runs it: a hung backend gets one progress line on stderr, the deadline
ends the wait with what is in, and what did not answer is named as unchecked (never "healthy")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from tests.faults import Fault, fault_server


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with DemoStack(load_scenario(None)) as s:
        report(s.urls)  # warm the demo's caches: its first answers are computed, not looked up
        yield s


def report(urls: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    args = [f"--{k}-url={u}" for k, u in urls.items()]
    cmd = [sys.executable, "-m", "plugintop", "report", "--plugin", "recommender", "--tenant", "acme", "--since", "1h"]
    return subprocess.run([*cmd, *args, "--format", "json", *extra], capture_output=True, text=True, timeout=120)


def test_a_hung_tempo_is_said_on_stderr_and_left_unchecked_at_the_deadline(demo: DemoStack) -> None:
    with fault_server(Fault("stall_headers", lambda p: p.startswith("/api/")), demo.urls["tempo"]) as tempo:
        t = time.monotonic()
        r = report({**demo.urls, "tempo": tempo.url}, "--deadline", "8s", "--p99-target", "2s")
        took = time.monotonic() - t
    assert took < 25, took  # not the 2 minutes of read timeouts and retries
    lines = r.stderr.splitlines()
    assert "plugintop: waiting for tempo (2 s so far)…" in lines and len(lines) == len(set(lines)), r.stderr
    out = json.loads(r.stdout)
    v = out["verdict"]
    assert v["state"] == "unknown" and v["cause"] == "unknown", v  # a slow window whose cause needed Tempo
    assert any(u.startswith("tempo: no answer in") for u in v["unchecked"]), v["unchecked"]
    assert out["tools"] and out["findings"] and r.returncode == 0


def test_a_bad_deadline_is_one_line_and_exit_2() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "plugintop", "report", "--demo", "--plugin", "p", "--tenant", "t", "--deadline", "soon"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "soon" in r.stderr, r.stderr


@pytest.mark.parametrize("columns", ["160", None])
def test_the_text_report_follows_columns_even_in_a_pipe(demo: DemoStack, columns: str | None) -> None:
    """Evidence is not cut at 80 columns when the terminal (or COLUMNS) has room; a pipe without COLUMNS
    gets 80."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | ({"COLUMNS": columns} if columns else {})
    args = [f"--{k}-url={u}" for k, u in demo.urls.items()]
    cmd = [sys.executable, "-m", "plugintop", "report", "--plugin", "recommender", "--tenant", "acme", "--since", "1h"]
    r = subprocess.run([*cmd, *args, "--format", "text"], capture_output=True, text=True, timeout=120, env=env)
    widest = max(len(line) for line in r.stdout.splitlines())
    if columns:
        assert 80 < widest <= 160, r.stdout
    else:
        assert widest <= 80, r.stdout
