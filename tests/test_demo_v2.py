"""Scenario v2 in the demo (DESIGN §5.1): rollouts, versioned incidents, messages, costs, the scrape
interval, business counters and Loki's patterns, every signal agreeing with the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from plugintop.demo.scenario import scenario_from
from plugintop.demo.stack import DemoStack
from tests.demo_stack import fetch, stack

NOW = 1_796_000_000.0
SCENARIO: dict[str, Any] = {
    "plugin": "my-plugin",
    "version": "1.0.0",
    "seed": 9,
    "history": "2h",
    "scrape_interval": "30s",
    "tenants": ["a", "b"],
    "tools": [
        {
            "name": "ask",
            "calls_per_min": 40,
            "median_ms": 200,
            "functions": ["plan"],
            "downstream": ["kb"],
            "error_ratio": 0.02,
            "error_messages": ["kb returned {ms} for {id}"],
        },
    ],
    "rollouts": [{"version": "1.1.0", "start": "-30m", "tenants": ["a"]}],
    "incidents": [
        {
            "tenant": "*",
            "tool": "ask",
            "start": "-30m",
            "duration": "30m",
            "cause": "errors",
            "factor": 0.4,
            "version": "1.1.0",
            "message": "quota exceeded for model {model}",
            "latency_factor": 3.0,
            "metric_factor": 0.5,
        },
    ],
    "metrics": [{"name": "answers", "tool": "ask", "per_call": 2.0}],
}


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with stack(scenario_from(SCENARIO), now=NOW) as s:
        yield s


def get(demo: DemoStack, backend: str, path: str, **params: object) -> Any:
    status, _, body = fetch(demo.urls[backend], "GET", path, [(k, str(v)) for k, v in params.items()])
    assert status == 200, body
    return body


def test_the_scrape_interval_is_the_scenarios(demo: DemoStack) -> None:
    yaml = get(demo, "prometheus", "/api/v1/status/config")["data"]["yaml"]
    assert "global:\n  scrape_interval: 30s\n" in yaml
    raw = get(demo, "prometheus", "/api/v1/query", query='plugin_tool_duration_seconds_count{tenant="b"}[5m]', time=NOW)
    ts = [float(t) for t, _ in raw["data"]["result"][0]["values"]]
    assert {b - a for a, b in zip(ts, ts[1:], strict=False)} == {30.0}


def test_only_the_rolled_out_tenant_fails_and_only_on_the_new_version(demo: DemoStack) -> None:
    q = 'sum by (tenant, version) (increase(plugin_tool_duration_seconds_count{outcome="error"}[25m]))'
    res = get(demo, "prometheus", "/api/v1/query", query=q, time=NOW)["data"]["result"]
    failed = {(r["metric"]["tenant"], r["metric"]["version"]): float(r["value"][1]) for r in res}
    assert failed[("a", "1.1.0")] > 100  # 40 % of ~1000 calls
    assert failed[("b", "1.0.0")] < 40 and failed.get(("a", "1.0.0"), 0.0) < 5


def test_versions_agree_across_metrics_spans_and_logs(demo: DemoStack) -> None:
    w = demo.world
    calls = list(w.iter_calls(NOW - 600, NOW - 560, tenants=[0]))
    assert calls and {c.version for c in calls} == {"1.1.0"}
    failed = next(c for c in calls if not c.ok)
    assert failed.error == "quota exceeded for model gpt-4o-mini"
    trace = get(demo, "tempo", f"/api/v2/traces/{failed.trace_id}")
    root = trace["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    attrs = {a["key"]: a["value"] for a in root["attributes"]}
    assert attrs["plugin.version"] == {"stringValue": "1.1.0"}
    assert root["status"] == {"code": "STATUS_CODE_ERROR", "message": failed.error}
    q = '{plugin="my-plugin", tenant_id="a"} | json | level="error"'
    body = get(
        demo,
        "loki",
        "/loki/api/v1/query_range",
        query=q,
        start=int((failed.end - 1) * 1e9),
        end=int((failed.end + 1) * 1e9),
        limit=100,
    )
    lines = [json.loads(v[1]) for s in body["data"]["result"] for v in s["values"]]
    mine = [x for x in lines if x["trace_id"] == failed.trace_id]
    assert mine and mine[0]["version"] == "1.1.0" and mine[0]["msg"] == failed.error
    assert mine[0]["event"] == "plugin.tool.failed"


def test_failures_may_be_slow_in_an_errors_incident(demo: DemoStack) -> None:
    calls = list(demo.world.iter_calls(NOW - 900, NOW - 600, tenants=[0]))
    slow = [c.duration for c in calls if not c.ok]
    fast = [c.duration for c in calls if c.ok]
    assert sorted(slow)[len(slow) // 2] > 2 * sorted(fast)[len(fast) // 2]


def test_patterns_from_the_message_field(demo: DemoStack) -> None:
    body = get(
        demo,
        "loki",
        "/loki/api/v1/patterns",
        query='{plugin="my-plugin", tenant_id="b"}',
        start=int((NOW - 3600) * 1e9),
        end=int(NOW * 1e9),
        step="60s",
    )
    pats = {p["pattern"]: p for p in body["data"]}
    assert "kb returned <_> for <_>" in pats  # the tool's own failures, numbers and ids masked
    assert "tool ask invoked" not in pats  # fewer than four tokens: skipped, as Loki's ingester does
    assert all(isinstance(n, int) and t % 60 == (NOW - 3600) % 60 for p in body["data"] for t, n in p["samples"])


def test_business_counters_follow_calls_and_the_incident(demo: DemoStack) -> None:
    q = "sum by (tenant_id) (increase(my_plugin_answers_total[10m]))"
    before = get(demo, "prometheus", "/api/v1/query", query=q, time=NOW - 3000)["data"]["result"]
    during = get(demo, "prometheus", "/api/v1/query", query=q, time=NOW - 60)["data"]["result"]
    b = {r["metric"]["tenant_id"]: float(r["value"][1]) for r in before}
    d = {r["metric"]["tenant_id"]: float(r["value"][1]) for r in during}
    assert b["a"] == pytest.approx(800, rel=0.25)  # 40 calls/min x 10 min x 2 per call
    assert d["a"] == pytest.approx(b["a"] * 0.5, rel=0.3) and d["b"] == pytest.approx(b["b"], rel=0.3)


def test_a_bad_scenario_is_one_line_naming_the_key() -> None:
    from plugintop.structs import InvalidValue

    with pytest.raises(InvalidValue, match="rollouts.0.tenants"):
        scenario_from({**SCENARIO, "rollouts": [{"version": "2", "start": "-1m", "tenants": ["zz"]}]})
    with pytest.raises(InvalidValue, match="scrape_interval"):
        scenario_from({**SCENARIO, "scrape_interval": "5s"})
    with pytest.raises(InvalidValue, match="incidents.0.version"):
        scenario_from({**SCENARIO, "incidents": [{**SCENARIO["incidents"][0], "version": "9.9"}]})
