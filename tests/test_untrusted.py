"""The command line with untrusted ids and closed pipes (issue 28): `plugintop trace ID` takes only a
trace id (anything else is a one-line usage error, exit 2, before any request); every command that writes
to stdout ends quietly when its reader goes away (exit 141, nothing on stderr)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from plugintop.cli.main import EXIT_PIPE
from tests.servers import Backend, serve


def plugintop(*args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGINTOP_")}
    return subprocess.run([sys.executable, "-m", "plugintop", *args], env=env, timeout=180, **kw)  # type: ignore[call-overload, no-any-return]


@pytest.mark.parametrize(
    "bad",
    [
        "0" * 32,
        "0" * 33,
        "../../../../api/admin/users?perpage=1000#",
        "4bf92f35 77b34da6",
        "g" * 32,
        "\x1b[2J" + "a" * 30,
    ],
)
def test_trace_with_no_trace_id_is_a_usage_error_and_asks_nothing(bad: str) -> None:
    backend = Backend()
    with serve(backend) as b:
        p = plugintop("trace", bad, "--tempo-url", b.url, "--loki-url", b.url, capture_output=True)
    err = p.stderr.decode()
    assert p.returncode == 2 and err.startswith("plugintop: not a trace id") and err.count("\n") == 1, err
    assert "\x1b" not in err and backend.requests == []


@pytest.mark.parametrize(
    "args",
    [
        ["alert", "draft", "--plugin", "recommender", "--signal", "p99", "--when", "> 2s"],
        ["demo", "serve"],
        ["report", "--demo", "--format", "json"],
        ["logs", "--demo", "--from", "now-1h", "--to", "now"],
    ],
    ids=["alert", "demo", "report", "logs"],
)
def test_a_closed_pipe_ends_the_command_quietly(args: list[str]) -> None:
    """`plugintop logs | head` once said "internal error: BrokenPipeError" and exited 70."""
    r, w = os.pipe()
    os.close(r)  # the reader is gone before the first line
    try:
        p = plugintop(*args, stdout=w, stderr=subprocess.PIPE)
    finally:
        os.close(w)
    assert (p.returncode, p.stderr.decode()) in ((EXIT_PIPE, ""), (0, ""))
