"""Scenarios of the v2 format that are not the shared sample (other plugins, tenants, tools, numbers,
timings and scrape intervals), each served by the demo stack and triaged: state, cause, scope, tool,
version, window and log pattern as the scenario says."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from plugintop.analysis.model import TriageResult
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.timerange import TimeRange, parse_duration
from plugintop.triage import Triage, TriageRequest

HERE = Path(__file__).parent / "scenarios_v2"
NOW = 1_796_000_000.0
CASES: list[dict[str, Any]] = json.loads((HERE / "expected.json").read_text())


def closed_port() -> str:
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{so.getsockname()[1]}"


def run(case: dict[str, Any]) -> TriageResult:
    sc = load_scenario(str(HERE / case["scenario"]))
    with DemoStack(sc, now=NOW, clock=lambda: NOW) as st:
        urls = {k: closed_port() if k == case.get("break") else u for k, u in st.urls.items()}
        ctx = context_from({k: {"url": u} for k, u in urls.items()})
        target = parse_duration(case["target"]) if "target" in case else None

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                rng = TimeRange(NOW - parse_duration(case["since"]), NOW)
                req = TriageRequest(plugin=sc.plugin, tenant=case["tenant"], range=rng, p99_target_s=target)
                return await Triage(b, ctx, req, clock=lambda: NOW).run()

        return asyncio.run(go())


@pytest.mark.parametrize("case", CASES, ids=[c.get("name", c["scenario"].removesuffix(".toml")) for c in CASES])
def test_scenario(case: dict[str, Any]) -> None:
    r = run(case)
    v = r.verdict
    assert v is not None
    got = {"state": v.state, "cause": v.cause, "scope": v.scope, "tool": v.tool, "version": v.version}
    want = {k: case[k] for k in got if k in case}
    assert {k: got[k] for k in want} == want, (v.summary, v.unchecked)
    if "incident" in case:
        ago, minutes = case["incident"]
        start, end = NOW - ago * 60, NOW - ago * 60 + minutes * 60
        assert v.window is not None
        assert v.window[0] < end + 120 and v.window[1] > start - 120, v.window
        overlap = min(v.window[1], end) - max(v.window[0], start)
        assert overlap >= 0.6 * (end - start), (v.window, start, end)  # most of the incident, not a sliver
    if "pattern" in case:
        pats = [p.pattern + " " + p.example for f in r.findings for p in f.patterns]
        assert any(case["pattern"] in p for p in pats), pats[:3]
