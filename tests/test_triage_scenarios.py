"""One scenario per cause, through the demo stack over real sockets: the verdict names it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from plugintop.analysis.model import TriageResult
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import Scenario, scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.report import exit_code, render, to_json
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest

HERE = Path(__file__).parent / "scenarios"
NOW = 1_800_000_000.0


def scenario(name: str) -> Scenario:
    import tomllib

    data: dict[str, Any] = tomllib.loads((HERE / "base.toml").read_text())
    data.update(tomllib.loads((HERE / f"{name}.toml").read_text()))
    return scenario_from(data)


def triage(name: str, tenant: str = "acme", since: float = 7200) -> TriageResult:
    with DemoStack(scenario(name), now=NOW, clock=lambda: NOW) as st:
        ctx = context_from({k: {"url": u} for k, u in st.urls.items()})

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                return await Triage(
                    b,
                    ctx,
                    TriageRequest(
                        plugin="recommender", tenant=tenant, range=TimeRange(NOW - since, NOW), p99_target_s=2.0
                    ),
                ).run()

        return asyncio.run(go())


def overlaps(r: TriageResult, start: float, end: float) -> bool:
    w = r.slow_window
    return w is not None and w.start < end and w.end > start


def test_cpu() -> None:
    r = triage("cpu")
    assert r.verdict is not None and (r.verdict.state, r.verdict.cause, r.verdict.scope) == (
        "incident",
        "cpu",
        "tenant",
    ), r.verdict
    assert r.profile is not None and r.profile.hotter[0].function == "score_candidates"
    assert "score_candidates" in r.verdict.summary
    assert overlaps(r, NOW - 45 * 60, NOW - 25 * 60)


def test_downstream() -> None:
    r = triage("downstream")
    assert r.verdict is not None and r.verdict.cause == "downstream", r.verdict
    assert any("catalog.fetch" in e for e in r.verdict.evidence)
    assert r.trace is not None and r.trace.slowest_child == "catalog.fetch"


def test_errors() -> None:
    r = triage("errors")
    assert r.verdict is not None and (r.verdict.state, r.verdict.cause) == ("incident", "errors"), r.verdict
    assert r.verdict.tool == "search_catalog" and r.verdict.scope == "tenant"
    assert r.slo is not None and r.slo.alerts_firing, r.slo
    assert any("alerts firing" in e for e in r.verdict.evidence)
    assert r.findings[0].patterns and r.findings[0].patterns[0].trace_id


def test_fleet() -> None:
    r = triage("fleet")
    assert r.verdict is not None and (r.verdict.cause, r.verdict.scope) == ("llm", "fleet"), r.verdict
    assert r.slow_window is not None and set(r.slow_window.other_tenants_slow) == {"globex", "initech"}


def test_healthy() -> None:
    r = triage("healthy")
    assert r.verdict is not None and (r.verdict.state, r.verdict.cause) == ("healthy", "none"), r.verdict
    assert r.slow_window is None and r.findings == []
    assert exit_code(r) == 0 and r.tools


def test_no_data_for_an_unknown_tenant() -> None:
    r = triage("healthy", tenant="nobody")
    assert r.verdict is not None and r.verdict.state == "no_data"
    assert not r.has_data and exit_code(r) == 1 and r.tools == []
    assert r.known_tenants == ["acme", "globex", "initech"]


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_formats_render(fmt: str) -> None:
    r = triage("cpu")
    out = render(r, fmt)
    assert out and "\x1b" not in out
    if fmt == "text":
        assert max(len(line) for line in out.splitlines()) <= 80
    if fmt == "json":
        d = to_json(r)
        assert set(d) == {
            "plugin",
            "tenant",
            "range",
            "tools",
            "slow_window",
            "spans",
            "trace",
            "profile",
            "cost",
            "logs",
            "slo",
            "business",
            "verdict",
            "errors",
            "findings",
            "known_tenants",
            "known_plugins",
            "scrape_interval_s",
            "notes",
        }
        assert {s["source"] for s in d["spans"]} <= {"exemplar", "search"}
