"""`plugintop trace ID` as a user runs it: a trace from the report opens with its critical path and its log
lines, an unknown id exits 1, a malformed one 2, and hostile span names print inert."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from tests.faults import Fault, fault_server

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as s:
        yield dict(s.urls)


def plugintop(urls: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    flags = [x for k, u in urls.items() for x in (f"--{k}-url", u)]
    return subprocess.run(
        [sys.executable, "-m", "plugintop", *args, *flags], capture_output=True, text=True, timeout=120
    )


def test_a_trace_from_the_report_opens_with_its_critical_path_and_logs(urls: dict[str, str]) -> None:
    rep = plugintop(
        urls,
        "report",
        "--plugin",
        "recommender",
        "--tenant",
        "acme",
        "--from",
        str(NOW - 3600),
        "--to",
        str(NOW),
        "--format",
        "json",
    )
    tid = json.loads(rep.stdout)["trace"]["trace_id"]
    text = plugintop(urls, "trace", tid, "--format", "text")
    assert text.returncode == 0, text.stderr
    assert f"TRACE {tid}" in text.stdout and "CRITICAL PATH" in text.stdout and "tenant acme" in text.stdout
    assert "LOG LINES" in text.stdout and "◆" in text.stdout
    doc = json.loads(plugintop(urls, "trace", tid, "--format", "json").stdout)
    assert doc["trace_id"] == tid and doc["plugin"] == "recommender" and doc["critical_path"] and doc["log_lines"]
    md = plugintop(urls, "trace", tid, "--format", "markdown").stdout
    assert md.startswith(f"### Trace `{tid}`") and "**Critical path**" in md


def test_an_unknown_id_exits_1_and_a_malformed_one_2(urls: dict[str, str]) -> None:
    unknown = plugintop(urls, "trace", "0123456789abcdef0123456789abcdef")
    assert unknown.returncode == 1 and "not found" in unknown.stderr and unknown.stdout == ""
    bad = plugintop(urls, "trace", "'; rm -rf /")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_hostile_span_names_print_inert(urls: dict[str, str]) -> None:
    with fault_server(Fault("hostile_trace", lambda p: p.startswith("/api/v2/traces/")), urls["tempo"]) as srv:
        r = plugintop({**urls, "tempo": srv.url}, "trace", "ab" * 16, "--format", "text")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x9b" not in r.stdout and "\u202e" not in r.stdout and "\x07" not in r.stdout
    assert "[/]" in r.stdout  # markup printed as the text it is
