"""Findings end to end: scenarios of the v2 format served by the demo stack over real sockets, the
triage run against them as `report` runs it, and what the verdict says checked."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from plugintop.analysis.model import TriageResult
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest

NOW = 1_796_000_000.0

BASE: dict[str, Any] = {
    "plugin": "helper",
    "version": "2.0.0",
    "seed": 5,
    "history": "3h",
    "tenants": ["t1", "t2", "t3"],
    "tools": [
        {
            "name": "ask",
            "calls_per_min": 30,
            "median_ms": 300,
            "llm_model": "gpt-4o",
            "llm_share": 0.6,
            "functions": ["plan", "render"],
            "downstream": ["vector.search"],
        },
        {
            "name": "lookup",
            "calls_per_min": 20,
            "median_ms": 120,
            "llm_model": "gpt-4o-mini",
            "llm_share": 0.2,
            "functions": ["parse"],
            "downstream": ["db.query"],
        },
    ],
}


def closed_port() -> str:
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{so.getsockname()[1]}"


def triage(
    extra: dict[str, Any],
    tenant: str = "t1",
    since: float = 3600,
    target: float | None = None,
    down: tuple[str, ...] = (),
    ahead: float = 0.0,
    slo: dict[str, Any] | None = None,
) -> TriageResult:
    sc = scenario_from({**BASE, **extra})
    with DemoStack(sc, now=NOW, clock=lambda: NOW) as st:
        urls = {k: (closed_port() if k in down else u) for k, u in st.urls.items()}
        ctx = context_from({**{k: {"url": u} for k, u in urls.items()}, **({"slo": slo} if slo else {})})

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                req = TriageRequest(
                    plugin="helper", tenant=tenant, range=TimeRange(NOW - since, NOW + ahead), p99_target_s=target
                )
                return await Triage(b, ctx, req, clock=lambda: NOW).run()

        return asyncio.run(go())


def near(t: float, minutes_ago: float, slack_min: float = 2.0) -> bool:
    return abs(t - (NOW - minutes_ago * 60)) <= slack_min * 60


def test_an_error_storm_with_latency_unchanged_is_found() -> None:
    r = triage(
        {
            "incidents": [
                {
                    "tenant": "t2",
                    "tool": "lookup",
                    "start": "-40m",
                    "duration": "25m",
                    "cause": "errors",
                    "factor": 0.1,
                    "message": "upstream {ip} refused connection after {ms} ms",
                }
            ]
        },
        tenant="t2",
    )
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.scope, v.tool) == ("incident", "errors", "tenant", "lookup"), v
    assert v.window is not None and near(v.window[0], 40) and near(v.window[1], 15)
    pats = r.findings[0].patterns
    assert pats and pats[0].pattern == "upstream <_> refused connection after <_> ms" and pats[0].trace_id


def test_a_60s_scrape_is_found_and_followed() -> None:
    """A Prometheus that scrapes every 60 s: rate windows of 4 minutes, never `[1m]` (which answers nothing)."""
    r = triage(
        {
            "scrape_interval": "60s",
            "incidents": [
                {"tenant": "t1", "tool": "ask", "start": "-40m", "duration": "20m", "cause": "llm", "factor": 6.0}
            ],
        },
        target=2.0,
    )
    assert r.scrape_interval_s == 60 and r.scrape_interval_source == "sample spacing"
    assert all("[1m]" not in q for q in r.queries["prometheus"])
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.tool) == ("incident", "llm", "ask"), v
    assert v.window is not None and near(v.window[0], 40, 4) and near(v.window[1], 20, 5)


def test_a_long_incident_without_a_target_does_not_hide_itself() -> None:
    """45 of the range's 60 minutes at 5x: the baseline comes from before the range."""
    r = triage(
        {
            "incidents": [
                {
                    "tenant": "t1",
                    "tool": "ask",
                    "start": "-50m",
                    "duration": "45m",
                    "cause": "downstream",
                    "span": "vector.search",
                    "factor": 5.0,
                }
            ]
        },
    )
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.tool) == ("incident", "downstream", "ask"), v
    assert len([f for f in r.findings if f.kind == "latency"]) == 1
    assert v.window is not None and near(v.window[0], 50, 3) and near(v.window[1], 5, 3)


def test_healthy_only_when_every_pillar_answered() -> None:
    r = triage({})
    assert r.verdict is not None and r.verdict.state == "healthy", r.verdict
    r = triage({}, down=("pyroscope",))
    assert r.verdict is not None and (r.verdict.state, r.verdict.cause) == ("unknown", "unknown")
    assert any(u.startswith("pyroscope:") for u in r.verdict.unchecked)


def test_tempo_down_leaves_a_slow_window_unknown() -> None:
    r = triage(
        {
            "incidents": [
                {"tenant": "t1", "tool": "ask", "start": "-30m", "duration": "20m", "cause": "llm", "factor": 6.0}
            ]
        },
        target=2.0,
        down=("tempo",),
    )
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.tool) == ("unknown", "unknown", "ask"), v
    assert r.findings[0].kind == "latency" and any(u.startswith("tempo:") for u in v.unchecked)


def test_loki_down_still_finds_the_error_storm_and_says_what_is_missing() -> None:
    r = triage(
        {
            "incidents": [
                {"tenant": "t1", "tool": "ask", "start": "-30m", "duration": "20m", "cause": "errors", "factor": 0.2}
            ]
        },
        down=("loki",),
    )
    v = r.verdict
    assert (
        v is not None
        and (v.state, v.cause) == ("incident", "errors")
        and any(u.startswith("loki:") for u in v.unchecked)
    )


def test_a_range_reaching_into_the_future_takes_nothing_from_there() -> None:
    r = triage(
        {
            "incidents": [
                {"tenant": "t1", "tool": "ask", "start": "-40m", "duration": "20m", "cause": "llm", "factor": 6.0}
            ]
        },
        target=2.0,
        ahead=1800,
    )
    assert r.verdict is not None and r.verdict.window is not None and r.verdict.window[1] <= NOW
    assert all(f.end <= NOW for f in r.findings)


def test_a_deploy_regression_of_some_tenants_is_scoped_to_the_version() -> None:
    r = triage(
        {
            "rollouts": [{"version": "2.1.0", "start": "-30m", "tenants": ["t1", "t2"]}],
            "incidents": [
                {
                    "tenant": "*",
                    "tool": "ask",
                    "start": "-30m",
                    "duration": "30m",
                    "cause": "errors",
                    "factor": 0.3,
                    "version": "2.1.0",
                    "message": "schema mismatch in reply {id}",
                }
            ],
        },
        since=7200,
    )
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.scope, v.version) == ("incident", "errors", "version", "2.1.0"), v


def test_a_cost_spike_with_latency_unchanged() -> None:
    r = triage(
        {
            "incidents": [
                {"tenant": "t3", "tool": "lookup", "start": "-50m", "duration": "30m", "cause": "cost", "factor": 3.0}
            ]
        },
        tenant="t3",
        since=7200,
        target=2.0,
    )
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.scope, v.tool) == ("incident", "cost", "tenant", "lookup"), v
    assert not any(f.kind == "latency" for f in r.findings)


def test_a_tenant_typo_is_no_data_with_the_known_tenants() -> None:
    r = triage({}, tenant="t4")
    assert r.verdict is not None and r.verdict.state == "no_data"
    assert r.known_tenants == ["t1", "t2", "t3"]


def test_an_unknown_plugin_names_the_plugins() -> None:
    sc = scenario_from(BASE)
    with DemoStack(sc, now=NOW, clock=lambda: NOW) as st:
        ctx = context_from({k: {"url": u} for k, u in st.urls.items()})

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                req = TriageRequest(plugin="helpr", tenant="t1", range=TimeRange(NOW - 3600, NOW))
                return await Triage(b, ctx, req, clock=lambda: NOW).run()

        r = asyncio.run(go())
    assert r.verdict is not None and r.verdict.state == "no_data" and r.known_plugins == ["helper"]


def test_without_the_servers_configuration_the_samples_tell_the_scrape_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mimir and Grafana Cloud have no /api/v1/status/config: the samples' count in 10 minutes says it."""
    from plugintop.clients.prometheus import PrometheusClient
    from plugintop.errors import NotFound

    async def hidden(self: PrometheusClient) -> float | None:
        raise NotFound("prometheus", "HTTP 404")

    monkeypatch.setattr(PrometheusClient, "scrape_interval", hidden)
    r = triage({"scrape_interval": "60s"})
    assert (r.scrape_interval_s, r.scrape_interval_source) == (60, "sample spacing")
    assert r.verdict is not None and r.verdict.state == "healthy"


def test_the_contexts_scrape_interval_wins() -> None:
    sc = scenario_from({**BASE, "scrape_interval": "30s"})
    with DemoStack(sc, now=NOW, clock=lambda: NOW) as st:
        ctx = context_from(
            {
                **{k: {"url": u} for k, u in st.urls.items()},
                "prometheus": {"url": st.urls["prometheus"], "scrape_interval": "45s"},
            }
        )

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                req = TriageRequest(plugin="helper", tenant="t1", range=TimeRange(NOW - 3600, NOW))
                return await Triage(b, ctx, req, clock=lambda: NOW).run()

        r = asyncio.run(go())
    assert (r.scrape_interval_s, r.scrape_interval_source) == (45, "context")  # the server says 30 s
    assert any("[3m]" in q for q in r.queries["prometheus"])  # $__rate_interval: max(30 s + 45 s, 4 x 45 s)


def test_the_fleet_line_leaves_the_tenant_out() -> None:
    """A tenant-only incident does not lift "the fleet" it is compared with."""
    r = triage(
        {
            "incidents": [
                {"tenant": "t1", "tool": "ask", "start": "-40m", "duration": "20m", "cause": "llm", "factor": 8.0}
            ]
        },
        target=2.0,
    )
    ask = next(t for t in r.tools if t.tool == "ask")
    assert max(v for _, v in ask.p99_series) > 2.0 > max(v for _, v in ask.fleet_p99_series)
    assert any('tenant!="t1"' in q for q in r.queries["prometheus"])
    assert r.verdict is not None and r.verdict.scope == "tenant"
