"""Scenario v2 on a real Prometheus scraping every 30 s and every 60 s: the findings' PromQL answers the
same from Prometheus and from the demo, and the triage reads the scrape interval from the server and
finds the same deploy regression with either."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from plugintop.analysis.model import TriageResult
from plugintop.clients.prometheus import PrometheusClient
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import Scenario, scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.queries.promql import PromQL, Scope
from plugintop.schema import Schema
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest, rate_window
from tests.integration.prometheus import RealPrometheus, real_prometheus
from tests.integration.test_agreement import disagreements

pytestmark = pytest.mark.real_prometheus

P = PromQL(Schema())


def scenario(scrape: str) -> Scenario:
    data: dict[str, Any] = {
        "plugin": "helper",
        "version": "4.0.0",
        "seed": 31,
        "history": "3h",
        "scrape_interval": scrape,
        "tenants": ["t1", "t2", "t3"],
        "p99_target": "2s",
        "tools": [
            {"name": "ask", "calls_per_min": 30, "median_ms": 300, "functions": ["plan"], "downstream": ["kb"]},
            {"name": "list", "calls_per_min": 12, "median_ms": 80, "functions": ["scan"], "downstream": []},
        ],
        "rollouts": [{"version": "4.1.0", "start": "-40m", "tenants": ["*"]}],
        "incidents": [
            {
                "tenant": "*",
                "tool": "ask",
                "start": "-40m",
                "duration": "40m",
                "cause": "errors",
                "factor": 0.25,
                "version": "4.1.0",
                "message": "kb returned {ms} for {id}",
            },
        ],
    }
    return scenario_from(data)


@pytest.fixture(scope="module", params=["30s", "60s"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RealPrometheus, DemoStack]]:
    sc = scenario(request.param)
    with real_prometheus(sc, Path(tmp_path_factory.mktemp(f"prom{request.param}"))) as prom:
        now = prom.now
        with DemoStack(sc, now=now, clock=lambda: now) as demo:
            yield prom, demo


def queries(scrape: float) -> dict[str, str]:
    rw = rate_window(60, scrape)
    t1 = Scope("helper", "t1")
    every = Scope("helper")
    return {
        "p99_tt": P.quantile(0.99, every, rw, ("tool", "tenant")),
        "rate_tt": P.request_rate(every, rw, ("tool", "tenant")),
        "fail_tt": P.failure_rate(every, rw, ("tool", "tenant")),
        "usd_tt": P.cost_rate(every, rw, ("tool", "tenant")),
        "p99_tv": P.quantile(0.99, t1, rw, ("tool", "version")),
        "rate_tv": P.request_rate(t1, rw, ("tool", "version")),
        "fail_tv": P.failure_rate(t1, rw, ("tool", "version")),
        "rest_p99": P.quantile(0.99, t1.rest(), rw),
        "resets": P.counter_resets(every, "5m"),
    }


def test_the_findings_queries_agree(pair: tuple[RealPrometheus, DemoStack]) -> None:
    prom, demo = pair
    scrape = demo.world.slot_s

    async def go() -> None:
        async with (
            httpx.AsyncClient(base_url=prom.url, timeout=30) as hr,
            httpx.AsyncClient(base_url=demo.urls["prometheus"], timeout=30) as hd,
        ):
            real, fake = PrometheusClient(hr), PrometheusClient(hd)
            for name, q in queries(scrape).items():
                a = await real.query_range(q, prom.now - 7200, prom.now, 60)
                b = await fake.query_range(q, prom.now - 7200, prom.now, 60)
                assert a.series, f"{name}: the real Prometheus has no data"
                assert not disagreements(a, b), (name, disagreements(a, b)[:3])
            assert await real.scrape_interval() == scrape == await fake.scrape_interval()

    asyncio.run(go())


def test_the_triage_agrees_and_follows_the_scrape_interval(pair: tuple[RealPrometheus, DemoStack]) -> None:
    prom, demo = pair
    now = prom.now

    async def triage(prom_url: str) -> TriageResult:
        urls = {**demo.urls, "prometheus": prom_url}
        ctx = context_from({k: {"url": u} for k, u in urls.items()})
        async with await open_backends(ctx) as b:
            req = TriageRequest(plugin="helper", tenant="t2", range=TimeRange(now - 7200, now), p99_target_s=2.0)
            return await Triage(b, ctx, req, clock=lambda: now).run()

    real = asyncio.run(triage(prom.url))
    fake = asyncio.run(triage(demo.urls["prometheus"]))
    assert real.scrape_interval_s == demo.world.slot_s and real.scrape_interval_source == "sample spacing"
    for r in (real, fake):
        v = r.verdict
        assert v is not None and (v.state, v.cause, v.scope, v.version, v.tool) == (
            "incident",
            "errors",
            "version",
            "4.1.0",
            "ask",
        ), v
    assert real.verdict is not None and fake.verdict is not None and real.verdict.window == fake.verdict.window
