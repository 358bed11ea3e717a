"""Business metrics: the plugin's own counters found by name, the tenant's window against the stretch before
it and against the rest of the fleet, and a finding only when one moved with an incident."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from plugintop.analysis.business import findings, kind_of, moved
from plugintop.analysis.model import BusinessMetric, Finding, TriageResult
from plugintop.config.context import context_from
from plugintop.demo.scenario import load_scenario, scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.report import render, to_json
from plugintop.schema import Schema
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest
from plugintop.triage.connections import open_backends

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
    assert [kind_of(n) for n in ("a_total", "a_count", "a_bucket", "a_sum", "a_queue_depth")] == [
        "counter",
        "counter",
        None,
        None,
        "gauge",
    ]


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
