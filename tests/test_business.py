"""Business metrics: the plugin's own counters found by name, the tenant's window against the stretch before
it and against the rest of the fleet, and a finding only when one moved with an incident."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from typing import Any

import pytest

from plugintop.analysis.business import findings, kind_of, moved
from plugintop.analysis.model import BusinessMetric, Finding, TriageResult
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import load_scenario, scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.queries.promql import PromQL
from plugintop.report import render, to_json
from plugintop.schema import Schema
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest
from plugintop.triage.asking import Asker
from plugintop.triage.business import business_metrics
from tests.servers import Answer, Backend, serve

NOW = 1_800_000_000.0


def metric(
    window: float | None, baseline: float | None, fw: float | None = 100, fb: float | None = 100
) -> BusinessMetric:
    return BusinessMetric(
        name="x_total", kind="counter", window=window, baseline=baseline, fleet_window=fw, fleet_baseline=fb
    )


def test_a_move_is_half_or_double_with_the_fleet_still() -> None:
    assert moved(metric(49, 100)) and not moved(metric(51, 100))
    assert moved(metric(201, 100)) and not moved(metric(199, 100))
    assert not moved(metric(10, 100, fw=40, fb=100))  # the fleet fell too: not the tenant's own
    assert moved(metric(10, 100, fw=None, fb=None))  # no other tenant to compare with
    assert not moved(metric(10, 0)) and not moved(metric(None, 100))


def test_names_say_the_kind() -> None:
    assert [kind_of(n) for n in ("a_total", "a_queue_depth")] == ["counter", "gauge"]


@pytest.mark.parametrize(
    "name",
    [
        "recommender_courses_recommended_created",  # prometheus_client: a counter's creation time
        "recommender_grading_seconds_bucket",
        "recommender_grading_seconds_sum",
        "recommender_grading_seconds_count",
        "recommender_grading_seconds_created",
        "recommender_build_info",
        "otel_scope_info",
        "target_info",
        "recommender_queue_gcount",
        "recommender_queue_gsum",
    ],
)
def test_what_the_sdks_write_beside_a_metric_is_never_a_business_metric(name: str) -> None:
    assert kind_of(name) is None
    # the discovery's selector leaves the same names out on the server (`!~` is anchored, as in RE2)
    excluded = next(m for m in PromQL(Schema()).business_metrics("recommender", "acme").split(",") if "!~" in m)
    assert re.fullmatch(json.loads(excluded.split("!~", 1)[1]), name)
    assert not re.fullmatch(json.loads(excluded.split("!~", 1)[1]), "recommender_courses_recommended_total")


# What a real service instrumented with prometheus_client and the OpenTelemetry SDK exposes for its
# business metrics, as `/api/v1/series` lists them (a server that ignored the `!~` matcher).
REAL_SERIES = [
    "recommender_courses_recommended_total",
    "recommender_courses_recommended_created",
    "recommender_grading_seconds_bucket",
    "recommender_grading_seconds_sum",
    "recommender_grading_seconds_count",
    "recommender_grading_seconds_created",
    "recommender_build_info",
    "recommender_queue_depth",
    "target_info",
    "otel_scope_info",
]


def real_service(now: float) -> Backend:
    """A Prometheus that lists every series of `REAL_SERIES` whatever the matchers, and answers each
    instant query: a `_created` series holds a Unix timestamp (about now), the rest small figures."""

    class Prom(Backend):
        def answer(self, req):  # type: ignore[no-untyped-def]
            if req.path == "/api/v1/series":
                rows = [{"__name__": n, "tenant_id": "acme", "job": "recommender"} for n in REAL_SERIES]
                return Answer(200, {"status": "success", "data": rows})
            if req.path == "/api/v1/query":
                q = dict(req.params)["query"]
                v = now - 3600 if "_created" in q else 42.0
                row = {"metric": {}, "value": [now, str(v)]}
                return Answer(200, {"status": "success", "data": {"resultType": "vector", "result": [row]}})
            return Answer(404, "404 page not found\n", "text/plain")

    return Prom()


def test_a_real_sdks_companion_series_are_not_shown_as_business_metrics() -> None:
    """prometheus_client's `_created` was shown as a business metric ("1,796,645,975.8": a timestamp)."""
    now = time.time()
    with serve(real_service(now)) as prom:
        ctx = context_from({"prometheus": {"url": prom.url}})

        async def go() -> tuple[list[BusinessMetric], int]:
            async with await open_backends(ctx, only=("prometheus",)) as b:
                result = TriageResult(plugin="recommender", tenant="acme", start=now - 3600, end=now)
                asker = Asker(b, result, 60.0)
                return await business_metrics(
                    asker,
                    PromQL(Schema()),
                    "recommender",
                    "acme",
                    (now - 1200, now),
                    (now - 2400, now - 1200),
                    now - 3600,
                )

        metrics, found = asyncio.run(go())
    assert {m.name: m.kind for m in metrics} == {
        "recommender_courses_recommended_total": "counter",
        "recommender_queue_depth": "gauge",
    }
    assert found == 2
    assert all(m.window is not None and m.window < 1e6 for m in metrics)  # no timestamp among them
    asked = [dict(r.params).get("query", "") for r in prom.requests]
    assert not any("_created" in q or "_bucket" in q or "target_info" in q for q in asked)
    series = next(r for r in prom.requests if r.path == "/api/v1/series")
    assert '__name__!~".+_(created|bucket|sum|count|info|gcount|gsum)|target_info"' in dict(series.params)["match[]"]


def _finding(kind: str) -> Finding:
    return Finding(kind=kind, tool="t", start=1.0, end=2.0, severity=3.0, rank=5.0, cause="llm")


def test_a_business_finding_follows_an_incident_and_never_leads() -> None:
    m = [metric(22, 100)]
    assert findings(m, []) == []  # on its own a business move is not an incident here
    got = findings(m, [_finding("latency")])
    assert (
        len(got) == 1 and got[0].kind == "business" and got[0].rank == 0.0 and (got[0].start, got[0].end) == (1.0, 2.0)
    )
    assert math.isclose(got[0].severity, 100 / 22)


def triage(data: dict[str, Any] | None = None) -> TriageResult:
    sc = scenario_from(data) if data else load_scenario(None)
    with DemoStack(sc, now=NOW, clock=lambda: NOW) as st:
        ctx = context_from({k: {"url": u} for k, u in st.urls.items()})

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                req = TriageRequest(
                    plugin=sc.plugin, tenant=sc.tenants[0], range=TimeRange(NOW - 3600, NOW), p99_target_s=2.0
                )
                return await Triage(b, ctx, req).run()

        return asyncio.run(go())


def test_the_builtin_incident_shows_its_business_metric_falling() -> None:
    r = triage()
    assert [m.name for m in r.business] == ["recommender_courses_recommended_total"]
    m = r.business[0]
    assert m.change is not None and m.change < 0.5 and m.fleet_change is not None and abs(m.fleet_change - 1) < 0.25
    assert r.findings[-1].kind == "business" and r.findings[0].kind == "latency"
    assert r.verdict is not None and r.verdict.cause == "llm"
    d = to_json(r)
    assert d["business"][0]["name"] == m.name and d["business"][0]["change"] < 0.5
    text = render(r, "text")
    assert "BUSINESS" in text and "recommender_courses_recommended_total −" in text


def test_a_metric_that_did_not_move_makes_no_finding_and_platform_metrics_are_not_business() -> None:
    import tomllib
    from pathlib import Path

    data = tomllib.loads((Path(__file__).parent.parent / "plugintop" / "demo" / "builtin.toml").read_text())
    data["incidents"][0]["metric_factor"] = 1.0
    data["metrics"].append({"name": "tool_duration_seconds_count", "tool": "search_catalog", "per_call": 1.0})
    r = triage(data)
    names = [m.name for m in r.business]
    assert "recommender_courses_recommended_total" in names and all(not n.startswith("plugin_") for n in names)
    assert not any(f.kind == "business" for f in r.findings)


@pytest.mark.parametrize(
    ("plugin", "prefix"), [("recommender", "recommender_"), ("my-plugin.v2", "my_plugin_v2_"), ("9lives", "_9lives_")]
)
def test_the_prefix_is_the_plugin_made_a_metric_name(plugin: str, prefix: str) -> None:
    """The same name the demo (and the SDK) give the metrics: a leading digit is not a metric name."""
    assert Schema().business_prefix_of(plugin) == prefix


def test_a_plugin_named_with_a_leading_digit_still_finds_its_business_metrics() -> None:
    import tomllib
    from pathlib import Path

    data = tomllib.loads((Path(__file__).parent.parent / "plugintop" / "demo" / "builtin.toml").read_text())
    data["plugin"] = "9lives"
    r = triage(data)
    assert [m.name for m in r.business] == ["_9lives_courses_recommended_total"]
