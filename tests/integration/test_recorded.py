"""plugintop's recording rules on a real Prometheus (`plugintop rules`, backfilled with `promtool tsdb
create-blocks-from rules`): the triage finds them by itself, asks every fleet question of them, and comes
to the same verdict, findings and scopes as from the raw series; each recorded question answers what its
raw twin answers (the fleet's p99 and rates within the difference of their windows, the same tenants hot)."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import plugintop.triage.run as run_mod
from plugintop.analysis.model import TriageResult
from plugintop.clients.prometheus import PrometheusClient
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import Scenario, scenario_from
from plugintop.queries.fleet import FleetQL, Span
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.recorded import Recorded, RecordedFleetQL, RecordedRest, RestQL
from plugintop.schema import Schema
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest
from tests.integration.prometheus import RealPrometheus, binaries, real_prometheus

pytestmark = pytest.mark.real_prometheus

TENANTS = [f"t{i:02d}" for i in range(24)]
P = PromQL(Schema())
RECORDED = Recorded(P)


def scenario() -> Scenario:
    """An LLM-bound incident of one tenant, a slow spell of every sixth other tenant on another tool, and
    a fleet-wide error storm on a third: each kind of fleet question has something to count."""
    data: dict[str, Any] = {
        "plugin": "recommender",
        "version": "1.4.2",
        "seed": 5,
        "history": "2h10m",
        "scrape_interval": "30s",
        "tenants": TENANTS,
        "p99_target": "2s",
        "tools": [
            {"name": "recommend_courses", "calls_per_min": 30, "median_ms": 180, "llm_model": "gpt-4o-mini",
             "llm_share": 0.5, "error_ratio": 0.002, "functions": ["rank"], "downstream": ["db.query"]},
            {"name": "search_catalog", "calls_per_min": 20, "median_ms": 90, "error_ratio": 0.002,
             "functions": ["parse"], "downstream": ["search.query"]},
            {"name": "give_feedback", "calls_per_min": 10, "median_ms": 60, "error_ratio": 0.002,
             "functions": ["store"], "downstream": []},
        ],
        "incidents": [
            {"tenant": "t00", "tool": "recommend_courses", "start": "-45m", "duration": "20m", "cause": "llm",
             "factor": 6.0},
            {"tenant": "*", "tool": "give_feedback", "start": "-30m", "duration": "15m", "cause": "errors",
             "factor": 0.3, "message": "store failed for {id}"},
            *[{"tenant": t, "tool": "search_catalog", "start": "-30m", "duration": "10m", "cause": "downstream",
               "span": "search.query", "factor": 8.0} for t in TENANTS[1::6]],
        ],
        "realism": {"buckets": [0.1, 0.25, 0.5, 1, 2.5, 5, 10]},
    }  # fmt: skip
    return scenario_from(data)


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    with real_prometheus(scenario(), Path(tmp_path_factory.mktemp("recorded")), rules=True) as p:
        yield p


def test_the_rules_pass_promtool(tmp_path: Path) -> None:
    made = subprocess.run([sys.executable, "-m", "plugintop", "rules"], capture_output=True, text=True, check=True)
    (tmp_path / "rules.yaml").write_text(made.stdout)
    _, promtool = binaries()
    checked = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yaml")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {sum(len(g.rules) for g in RECORDED.groups())} rules found" in checked.stdout


def triage(prom: RealPrometheus, tenant: str, monkeypatch: pytest.MonkeyPatch | None = None) -> TriageResult:
    """The tenant's triage over the last hour; with `monkeypatch`, as if the rules did not run."""
    if monkeypatch is not None:

        async def absent(*args: object) -> None:
            return None

        monkeypatch.setattr(run_mod, "recording_rules", absent)
    ctx = context_from({"prometheus": {"url": prom.url}})

    async def go() -> TriageResult:
        async with await open_backends(ctx, only=("prometheus",)) as b:
            req = TriageRequest(
                plugin="recommender", tenant=tenant, range=TimeRange(prom.now - 3600, prom.now), p99_target_s=2.0
            )
            return await Triage(b, ctx, req, clock=lambda: prom.now).run()

    return asyncio.run(go())


@pytest.mark.parametrize("tenant", ["t00", "t01"])
def test_the_triage_reads_the_rules_and_decides_as_from_the_raw_series(
    prom: RealPrometheus, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = triage(prom, tenant)
    asked = recorded.queries.get("prometheus", [])
    assert any(RECORDED.fleet_buckets in q for q in asked) and any(RECORDED.tenant_calls in q for q in asked)
    assert any("recording rules" in n for n in recorded.notes)
    assert not any("tenant!=" in q and "_bucket{" in q for q in asked), "no raw fleet-wide histogram is asked"
    raw = triage(prom, tenant, monkeypatch)
    assert not any(RECORDED.fleet_calls in q for q in raw.queries.get("prometheus", []))
    for r in (recorded, raw):
        assert r.verdict is not None and r.verdict.state == "incident", r.verdict
    assert recorded.verdict is not None and raw.verdict is not None
    assert (recorded.verdict.cause, recorded.verdict.scope, recorded.verdict.tool) == (
        raw.verdict.cause,
        raw.verdict.scope,
        raw.verdict.tool,
    )
    assert [(f.kind, f.tool, f.scope) for f in recorded.findings] == [(f.kind, f.tool, f.scope) for f in raw.findings]
    for a, b in zip(recorded.findings, raw.findings, strict=True):
        # the few named of many alike (a fleet-wide storm) are any of them; of a few, the same but one
        assert len(a.others) == len(b.others), (a.kind, a.tool, a.others, b.others)
        if a.scope != "fleet":
            assert len(set(a.others) & set(b.others)) >= len(b.others) - 1, (a.kind, a.tool, a.others, b.others)
    for ours, theirs in zip(recorded.tools, raw.tools, strict=True):
        assert ours.tool == theirs.tool and close(ours.fleet_p99_s, theirs.fleet_p99_s, 0.2), (ours, theirs)
    assert recorded.slo is not None and raw.slo is not None
    for w, v in raw.slo.fleet_burn_rate.items():
        assert close(recorded.slo.fleet_burn_rate[w], v, 0.15, 0.3), (w, recorded.slo.fleet_burn_rate, raw.slo)


def close(a: float, b: float, rel: float, absolute: float = 0.0) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), absolute)


def test_each_recorded_question_answers_as_its_raw_twin(prom: RealPrometheus) -> None:
    now = prom.now
    tenant = Scope("recommender", "t00")
    rest_raw, rest_rec = RestQL(P), RecordedRest(RECORDED)
    fleet_raw, fleet_rec = FleetQL(P), RecordedFleetQL(RECORDED)
    storm = Span(end=now - 15 * 60, length=15 * 60, baseline=3600, baseline_offset=45 * 60)
    slow = Span(end=now - 20 * 60, length=10 * 60, baseline=3600, baseline_offset=50 * 60)
    feedback, search = (
        Scope("recommender", "t00", "give_feedback").rest(),
        Scope("recommender", "t00", "search_catalog").rest(),
    )

    async def go() -> None:
        async with await open_backends(context_from({"prometheus": {"url": prom.url}}), only=("prometheus",)) as b:
            client = b.prometheus
            assert isinstance(client, PrometheusClient)

            async def values(q: str, at: float = now) -> dict[str, float]:
                res = await client.query(q, at)
                return {",".join(f"{k}={v}" for k, v in sorted(s.metric.items())): s.last_value() for s in res.series}

            asks: list[Callable[[RestQL], str]] = [
                lambda r: r.quantile(0.99, tenant, "1h", ranged=False),
                lambda r: r.rate(tenant, "1h", ranged=False, by=("tool",)),
                lambda r: r.rate(tenant, "1h", ranged=False, by=("tool", "version"), failed=True),
                lambda r: r.burn_rate(tenant.all_tools(), "30m", 0.995),
            ]
            for ask in asks:
                raw, rec = await values(ask(rest_raw)), await values(ask(rest_rec))
                assert raw and raw.keys() == rec.keys(), (raw, rec)
                assert all(close(rec[k], v, 0.15) for k, v in raw.items()), (raw, rec)
            errors = (feedback, storm, 5, 0.05)
            told_raw = await values(fleet_raw.told(feedback, storm), storm.end)
            told_rec = await values(fleet_rec.told(feedback, storm), storm.end)
            assert list(told_raw.values()) == list(told_rec.values()) == [len(TENANTS) - 1]
            hot: dict[str, Callable[[FleetQL], str]] = {
                "errors": lambda q: q.errors(*errors),
                "latency": lambda q: q.latency(search, slow, 0.5, 3.0),
                "slower than usual": lambda q: q.latency(search, slow, None, 3.0),
            }
            for name, expr in hot.items():
                at = storm.end if name == "errors" else slow.end
                raw_hot, rec_hot = set(await values(expr(fleet_raw), at)), set(await values(expr(fleet_rec), at))
                assert raw_hot and raw_hot == rec_hot, (name, raw_hot, rec_hot)
            # whose calls got dearer (seconds per call raw, p99 recorded): the slow spell's tenants, in both
            slowed = {f"tenant=t{i:02d},tool=search_catalog" for i in range(1, len(TENANTS), 6)}
            for fleet in (fleet_raw, fleet_rec):
                dearer = set(await values(fleet.dearer(tenant.all_tools().rest(), slow, 2.0, 3), slow.end))
                assert len(dearer) == 3 and dearer <= slowed, (type(fleet).__name__, dearer)

    asyncio.run(go())
