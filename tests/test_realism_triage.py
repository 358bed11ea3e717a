"""The triage on telemetry as it really is (DESIGN §5.2's `[realism]`), served by the demo over real
sockets at today's epoch: a job scraped at its own interval with scrapes missed, an error storm far past
one page on a Loki without the pattern ingester, head-sampled traces with no exemplars and pods that
restart, low traffic in coarse buckets, a neighbour that saturates the shared pods."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from plugintop.analysis.model import TriageResult
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest

NOW = float(int(time.time()) // 60 * 60)

TOOL: dict[str, Any] = {
    "name": "grade",
    "calls_per_min": 60,
    "median_ms": 300,
    "llm_model": "gpt-4o-mini",
    "llm_share": 0.4,
    "error_ratio": 0.002,
    "functions": ["parse", "score"],
    "downstream": ["db.query", "catalog.fetch"],
}


def scenario(realism: dict[str, Any], incidents: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "plugin": "tutor",
        "version": "3.1.0",
        "seed": 11,
        "history": "4h",
        "tenants": ["north", "south", "east", "west"],
        "p99_target": "2s",
        "tools": [TOOL],
        "realism": realism,
        "incidents": incidents,
        **extra,
    }


def triage(data: dict[str, Any], tenant: str, since: float = 7200) -> TriageResult:
    """`report`'s triage of `tenant` over the last `since` seconds, against the scenario served."""
    with DemoStack(scenario_from(data), now=NOW, clock=lambda: NOW) as demo:
        ctx = context_from({k: {"url": u} for k, u in demo.urls.items()})

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                req = TriageRequest(plugin="tutor", tenant=tenant, range=TimeRange(NOW - since, NOW), deadline_s=30)
                return await Triage(b, ctx, req, clock=lambda: NOW).run()

        return asyncio.run(go())


def near(t: float, minutes_ago: float, slack_min: float = 4) -> bool:
    return abs(t - (NOW - minutes_ago * 60)) <= slack_min * 60


def test_a_job_scraped_every_minute_under_a_15s_global_is_still_an_incident() -> None:
    data = scenario(
        {"global_scrape_interval": "15s", "missed_scrapes": 0.05, "log_lag": "0.2s..3s"},
        [{"tenant": "south", "tool": "grade", "start": "-45m", "duration": "25m", "cause": "llm", "factor": 6.0}],
        scrape_interval="60s",
    )
    r = triage(data, "south")
    assert (r.scrape_interval_s, r.scrape_interval_source) == (60.0, "sample spacing")
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.tool) == ("incident", "llm", "grade"), v
    assert v.window is not None and near(v.window[0], 45) and near(v.window[1], 20, 6)


def test_a_storm_far_past_one_page_keeps_its_pattern() -> None:
    data = scenario(
        {"loki_patterns": False, "error_line_volume": 40, "log_lag": "0.1s..2s"},
        [
            {
                "tenant": "north",
                "tool": "grade",
                "start": "-40m",
                "duration": "20m",
                "cause": "errors",
                "factor": 0.3,
                "message": "grading backend refused connection from {ip}",
            }
        ],
    )
    r = triage(data, "north")
    v = r.verdict
    assert v is not None and (v.state, v.cause) == ("incident", "errors"), v
    pats = r.findings[0].patterns
    assert pats and pats[0].pattern == "grading backend refused connection from <_>", pats
    assert pats[0].count > 5000 and pats[0].sampled is not None and pats[0].sampled.startswith("1,000 of ")
    assert any("estimated from" in line for line in v.evidence), v.evidence


def test_sampled_traces_without_exemplars_and_restarting_pods_still_name_the_span() -> None:
    data = scenario(
        {"exemplars": False, "trace_sampling": 0.1, "pods": 3, "restarts": ["-30m"], "trace_lag": "2s..20s"},
        [
            {
                "tenant": "east",
                "tool": "grade",
                "start": "-50m",
                "duration": "30m",
                "cause": "downstream",
                "span": "catalog.fetch",
                "factor": 8.0,
            }
        ],
    )
    r = triage(data, "east")
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.scope) == ("incident", "downstream", "tenant"), v
    assert r.spans and all(s.source == "search" for s in r.spans)
    assert any("sampled traces in the window (no exemplars" in line for line in v.evidence), v.evidence
    assert not [f for f in r.findings if f.kind == "traffic"], r.findings  # a restart is no traffic spike


def test_a_healthy_tenant_across_pod_restarts_is_healthy() -> None:
    r = triage(scenario({"pods": 3, "restarts": ["-70m", "-20m"], "missed_scrapes": 0.03}, []), "west")
    assert r.verdict is not None and r.verdict.state == "healthy", (r.verdict, r.findings)


def test_low_traffic_in_coarse_buckets_is_no_incident() -> None:
    quiet = {**TOOL, "calls_per_min": 10, "median_ms": 600, "llm_share": 0.7}
    data = scenario(
        {"buckets": [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16], "log_lag": "0.2s..2s"},
        [],
        tools=[quiet],
        tenants=["north", "south", "east", "west", "up"],
    )
    data.pop("p99_target")
    for tenant in ("north", "up"):
        r = triage(data, tenant, since=3600)
        assert r.verdict is not None and r.verdict.state == "healthy", (tenant, r.verdict, r.findings)


def test_a_neighbours_surge_is_the_victims_cpu_not_their_model() -> None:
    data = scenario(
        {},
        [
            {
                "tenant": "north",
                "tool": "grade",
                "start": "-35m",
                "duration": "20m",
                "cause": "neighbour",
                "factor": 6.0,
                "contention": 3.0,
            }
        ],
        p99_target="1.5s",
    )
    for victim in ("south", "west"):
        r = triage(data, victim)
        v = r.verdict
        assert v is not None and (v.state, v.cause, v.tool) == ("incident", "cpu", "grade"), (victim, v)
        assert any(line.startswith("the plugin saturated") for line in v.evidence), v.evidence
        kinds = {c.kind for c in r.findings[0].explain.changes} if r.findings[0].explain else set()
        assert "neighbour_traffic" in kinds and "neighbour_cpu" not in kinds, kinds  # a surge, not dearer calls


def test_a_tenant_whose_calls_got_dearer_is_named_to_the_tenants_it_slowed() -> None:
    """One tenant's calls do 6× the CPU work (as many calls as before): the plugin's one CPU is busy, every
    tenant slows. The others' cause is the plugin's CPU, and their explanation names the tenant whose own
    work per call rose (neighbour_cpu); that tenant's own finding names its hot function instead."""
    culprit = {"tenant": "north", "tool": "grade", "start": "-35m", "duration": "20m", "cause": "cpu"}
    data = scenario({}, [{**culprit, "function": "score", "factor": 6.0, "contention": 3.0}], p99_target="1.5s")
    for victim in ("south", "east"):
        r = triage(data, victim)
        v = r.verdict
        assert v is not None and (v.state, v.cause, v.tool) == ("incident", "cpu", "grade"), (victim, v)
        assert any(line.startswith("the plugin saturated") for line in v.evidence), v.evidence
        top = r.findings[0]
        named = [c for c in top.explain.changes if c.kind == "neighbour_cpu"] if top.explain else []
        assert len(named) == 1 and named[0].what.startswith("north's calls of grade took ×"), named
        before, after = named[0].before, named[0].after
        assert isinstance(before, float) and isinstance(after, float) and after > 4 * before, named
        assert abs(named[0].at - (NOW - 35 * 60)) <= 300, named[0].at
    r = triage(data, "north")
    v = r.verdict
    assert v is not None and (v.state, v.cause, v.detail) == ("incident", "cpu", "score"), v
    top = r.findings[0]
    assert not [c for c in (top.explain.changes if top.explain else []) if c.kind == "neighbour_cpu"]
