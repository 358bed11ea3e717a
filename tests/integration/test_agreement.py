"""Every PromQL query plugintop issues gives the same answer from a real Prometheus and from the demo
stack on the same scenario (same series; values within 1e-6 relative), and the report agrees."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

import httpx
import pytest

from plugintop.analysis.model import TriageResult
from plugintop.clients.prometheus import PrometheusClient
from plugintop.clients.tempo import TempoClient
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.slots import BUCKETS
from plugintop.demo.stack import DemoStack
from plugintop.models.prometheus import QueryResult
from plugintop.queries.fleet import FleetQL, Span
from plugintop.queries.promql import PromQL, Scope
from plugintop.schema import Schema
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest
from tests.integration.prometheus import RealPrometheus

pytestmark = pytest.mark.real_prometheus

P = PromQL(Schema())
F = FleetQL(P)
ACME = Scope("recommender", "acme")
REST = Scope("recommender", "acme", "recommend_courses").rest()
SPAN = Span(end=0.0, length=1200, baseline=3600, baseline_offset=1500)
REL = 1e-6

RANGE_QUERIES = {
    "p50": P.quantile(0.5, ACME, "1m"),
    "p90": P.quantile(0.9, ACME, "1m"),
    "p99": P.quantile(0.99, ACME, "5m"),
    "fleet_p99": P.quantile(0.99, ACME.rest(), "1m"),
    "rate": P.request_rate(ACME, "1m"),
    "success": P.success_ratio(ACME, "5m"),
    "tokens": P.tokens_per_min(ACME, "5m"),
    "cost": P.cost_per_min(ACME, "5m"),
    "rate_tv_1h": P.request_rate(ACME, "1h", ("tool", "version")),
    **{
        f"{name}_tt": q
        for name, q in {
            "p99": P.quantile(0.99, Scope("recommender"), "1m", ("tool", "tenant")),
            "rate": P.request_rate(Scope("recommender"), "1m", ("tool", "tenant")),
            "fail": P.failure_rate(Scope("recommender"), "1m", ("tool", "tenant")),
            "usd": P.cost_rate(Scope("recommender"), "1m", ("tool", "tenant")),
            "tokens": P.token_rate(Scope("recommender"), "1m", ("tool", "tenant")),
        }.items()
    },
    **{
        f"{name}_tv": q
        for name, q in {
            "p99": P.quantile(0.99, ACME, "1m", ("tool", "version")),
            "rate": P.request_rate(ACME, "1m", ("tool", "version")),
            "fail": P.failure_rate(ACME, "1m", ("tool", "version")),
        }.items()
    },
    "rest_p99": P.quantile(0.99, ACME.rest(), "1m"),
}
INSTANT_QUERIES = {
    **{f"burn_{w}": P.burn_rate(ACME.all_tools(), w, 0.995) for w in ("5m", "30m", "1h", "6h")},
    "fleet_burn_1h": P.burn_rate(ACME.all_tools().rest(), "1h", 0.995),
    "p99_whole": P.quantile(0.99, ACME, "1h"),
    "success_whole": P.success_ratio(ACME, "2h", by=()),
    "cost_window": P.cost_per_min(Scope("recommender", "acme", "recommend_courses"), "20m"),
    "rest_burn_1h": P.burn_rate(ACME.all_tools().rest(), "1h", 0.995),
    "samples_in": P.samples_in(Scope("recommender"), "10m"),
    # the fleet's questions (queries.fleet), with lines every tenant crosses, so that each answer has series
    "fleet_told": F.told(REST, SPAN),
    "fleet_latency_line": F.latency(REST, SPAN, 0.05, 2.0),
    "fleet_latency_usual": F.latency(REST, SPAN, None, 0.5),
    "fleet_latency_count": F.count(F.latency(REST, SPAN, 0.05, 2.0)),
    "fleet_latency_top": F.top(F.latency(REST, SPAN, None, 0.5), 2),
    "fleet_errors": F.errors(REST, SPAN, 0, 0),
    "fleet_cost_usd": F.cost(REST, SPAN, 0.5, usd=True),
    "fleet_cost_tokens": F.cost(REST, SPAN, 0.5, usd=False),
    "fleet_surge": F.top(F.traffic(REST, SPAN, 0.1, surge=True), 3),
    "fleet_drop": F.traffic(REST, SPAN, 10.0, surge=False),
    "fleet_neighbours": F.neighbours(ACME.all_tools().rest(), SPAN, 0.1, 3),
    "fleet_rates_of": F.rates_of("recommender", [("recommend_courses", "globex"), ("search_catalog", "initech")], "5m"),
    "fleet_dearer": F.dearer(ACME.all_tools().rest(), SPAN, 0.1, 3),
    "fleet_per_call_of": F.per_call_of(
        "recommender", [("recommend_courses", "globex"), ("search_catalog", "initech")], "5m"
    ),
    # not asked by plugintop, answered by `demo serve` for Grafana and curl
    "quantile_over_time": f"quantile_over_time(0.9, {P.count(ACME)}[10m])",
    "stddev_by_tool": f"stddev by (tool) (rate({P.count(ACME)}[5m]))",
}


def disagreements(real: QueryResult, demo: QueryResult) -> list[str]:
    """Where the two answers differ: series, timestamps or values."""
    a = {frozenset(s.metric.items()): s.values for s in real.series}
    b = {frozenset(s.metric.items()): s.values for s in demo.series}
    out = []
    if set(a) != set(b):
        out.append(
            f"series differ: only real {sorted(map(sorted, set(a) - set(b)))[:3]}, "
            f"only demo {sorted(map(sorted, set(b) - set(a)))[:3]}"
        )
    for key in set(a) & set(b):
        pa, pb = dict(a[key]), dict(b[key])
        if set(pa) != set(pb):
            out.append(f"{sorted(key)}: timestamps differ ({len(pa)} vs {len(pb)})")
            continue
        for t, va in pa.items():
            vb = pb[t]
            same = (math.isnan(va) and math.isnan(vb)) or math.isclose(va, vb, rel_tol=REL, abs_tol=1e-9)
            if not same:
                out.append(f"{sorted(key)} at {t}: real {va!r}, demo {vb!r}")
                break
    return out


async def both(
    prometheus: RealPrometheus, demo: DemoStack, call: Callable[[PrometheusClient], Awaitable[QueryResult]]
) -> tuple[QueryResult, QueryResult]:
    async with (
        httpx.AsyncClient(base_url=prometheus.url, timeout=30) as hr,
        httpx.AsyncClient(base_url=demo.urls["prometheus"], timeout=30) as hd,
    ):
        return await call(PrometheusClient(hr)), await call(PrometheusClient(hd))


@pytest.mark.parametrize("name", sorted(RANGE_QUERIES))
@pytest.mark.parametrize(("span", "step"), [(3 * 3600, 60.0), (3600, 15.0)])
def test_range_queries_agree(prometheus: RealPrometheus, demo: DemoStack, name: str, span: float, step: float) -> None:
    q, now = RANGE_QUERIES[name], prometheus.now
    real, fake = asyncio.run(both(prometheus, demo, lambda c: c.query_range(q, now - span, now, step)))
    assert real.series, f"the real Prometheus has no data for {q}"
    assert not disagreements(real, fake), disagreements(real, fake)[:5]


@pytest.mark.parametrize("name", sorted(INSTANT_QUERIES))
def test_instant_queries_agree(prometheus: RealPrometheus, demo: DemoStack, name: str) -> None:
    q, now = INSTANT_QUERIES[name], prometheus.now
    for at in (now, now - 1800):
        real, fake = asyncio.run(both(prometheus, demo, lambda c, at=at: c.query(q, at)))  # type: ignore[misc]
        assert real.series
        assert not disagreements(real, fake), disagreements(real, fake)[:5]


def test_exemplars_from_the_live_scrape_point_at_traces_of_the_demo(
    prometheus: RealPrometheus, demo: DemoStack
) -> None:
    async def go() -> None:
        async with (
            httpx.AsyncClient(base_url=prometheus.url, timeout=30) as hr,
            httpx.AsyncClient(base_url=demo.urls["tempo"], timeout=30) as ht,
        ):
            real = PrometheusClient(hr)
            found = []
            for _ in range(60):
                found = await real.exemplars(P.buckets(ACME), prometheus.now - 60, prometheus.now + 3600)
                if sum(len(s.exemplars) for s in found) >= 5:
                    break
                await asyncio.sleep(0.5)
            assert found, "no exemplars scraped"
            checked = 0
            for series in found:
                le = float(series.series_labels["le"])
                lower = max([b for b in BUCKETS if b < le], default=0.0)
                for ex in series.exemplars[:2]:
                    assert lower < ex.value <= le
                    # the live endpoint runs the same scenario past "now": its traces follow the same rules
                    assert len(ex.labels["trace_id"]) == 32 and ex.labels["span_id"]
                    checked += 1
            assert checked >= 5
            # the demo answers the same exemplar query in the same shape, for traces Tempo can fetch
            async with httpx.AsyncClient(base_url=demo.urls["prometheus"], timeout=30) as hd:
                mine = await PrometheusClient(hd).exemplars(P.buckets(ACME), prometheus.now - 600, prometheus.now)
            ex = mine[0].exemplars[0]
            assert ex.trace_id is not None
            trace = await TempoClient(ht).trace(ex.trace_id)
            assert trace.spans

    asyncio.run(go())


def test_report_agrees(prometheus: RealPrometheus, demo: DemoStack) -> None:
    """The triage with the real Prometheus (other backends from the demo) finds the same window and verdict."""
    now = prometheus.now

    async def triage(prom_url: str) -> TriageResult:
        urls = {**demo.urls, "prometheus": prom_url}
        ctx = context_from({k: {"url": u} for k, u in urls.items()})
        async with await open_backends(ctx) as b:
            return await Triage(
                b,
                ctx,
                TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(now - 7200, now), p99_target_s=2.0),
            ).run()

    real = asyncio.run(triage(prometheus.url))
    fake = asyncio.run(triage(demo.urls["prometheus"]))
    assert not real.errors and real.verdict is not None and fake.verdict is not None
    assert (real.verdict.cause, real.verdict.scope, real.verdict.tool) == ("llm", "tenant", "recommend_courses")
    assert (real.verdict.cause, real.verdict.scope, real.verdict.tool) == (
        fake.verdict.cause,
        fake.verdict.scope,
        fake.verdict.tool,
    )
    assert real.slow_window is not None and fake.slow_window is not None
    assert (real.slow_window.start, real.slow_window.end) == (fake.slow_window.start, fake.slow_window.end)
    assert [t.tool for t in real.tools] == [t.tool for t in fake.tools]


def test_a_deliberate_change_in_the_demo_is_caught(
    prometheus: RealPrometheus, demo: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """p99 computed differently in the demo (the bucket's upper bound, no interpolation) must disagree."""
    import plugintop.demo.promql_columns as columns
    import plugintop.demo.promql_eval as engine

    def upper_bound(q: float, buckets: list[tuple[float, float]]) -> float:
        bs = sorted(buckets)
        total = bs[-1][1] if bs else 0
        return next((ub for ub, c in bs if c >= q * total), math.nan) if total else math.nan

    for module in (engine, columns):  # instant queries, range queries
        monkeypatch.setattr(module, "bucket_quantile", upper_bound)
    q, now = RANGE_QUERIES["p99"], prometheus.now
    real, fake = asyncio.run(both(prometheus, demo, lambda c: c.query_range(q, now - 3600, now, 60)))
    assert disagreements(real, fake)
