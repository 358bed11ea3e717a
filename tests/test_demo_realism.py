"""Scenario v3's `[realism]` table in the demo (DESIGN §5.2): every key behaves as the real backend does,
and the defaults keep the perfect world."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from plugintop.demo.logs import LogStore
from plugintop.demo.metrics import MetricStore
from plugintop.demo.promql_eval import Engine, RangeRows
from plugintop.demo.scenario import Scenario, scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.demo.world import World
from tests.demo_stack import fetch, stack

NOW = float(int(time.time()) // 60 * 60)
"""Today, on a minute boundary."""
TOOL: dict[str, Any] = {
    "name": "grade",
    "calls_per_min": 60,
    "median_ms": 300,
    "functions": ["parse", "score"],
    "downstream": ["db.query"],
    "error_ratio": 0.01,
}


def scenario(realism: dict[str, Any], **extra: Any) -> Scenario:
    data: dict[str, Any] = {
        "plugin": "coach",
        "seed": 5,
        "history": "2h",
        "tenants": ["acme", "globex"],
        "tools": [TOOL],
        "realism": realism,
        **extra,
    }
    return scenario_from(data)


def get(demo: DemoStack, backend: str, path: str, status: int = 200, **params: object) -> Any:
    got, _, body = fetch(demo.urls[backend], "GET", path, [(k, str(v)) for k, v in params.items()])
    assert got == status, body
    return body


def instant(store: MetricStore, q: str, t: float) -> dict[tuple[tuple[str, str], ...], float]:
    value = Engine(store).instant(q, t)
    assert isinstance(value, list)
    return {tuple(sorted(lb.items())): v for lb, v in value}


REALISTIC: dict[str, Any] = {
    "global_scrape_interval": "15s",
    "missed_scrapes": 0.05,
    "pods": 3,
    "restarts": ["-30m"],
    "partial": ["prometheus", "loki", "tempo"],
    "exemplars": False,
    "loki_patterns": False,
    "buckets": [0.1, 0.5, 1, 4],
}


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with stack(scenario(REALISTIC, scrape_interval="60s"), now=NOW) as s:
        yield s


@pytest.fixture(scope="module")
def plain() -> Iterator[DemoStack]:
    with stack(scenario({}), now=NOW) as s:
        yield s


# ----- Prometheus ------------------------------------------------------------------------------------
def test_the_global_interval_differs_from_the_jobs_which_the_targets_tell(demo: DemoStack) -> None:
    yaml = get(demo, "prometheus", "/api/v1/status/config")["data"]["yaml"]
    assert "global:\n  scrape_interval: 15s\n" in yaml
    assert "- job_name: plugins\n  honor_timestamps: true\n  scrape_interval: 60s\n" in yaml
    data = get(demo, "prometheus", "/api/v1/targets")["data"]
    targets = data["activeTargets"]
    assert len(targets) == 3 and data["droppedTargets"] == []
    assert {t["scrapeInterval"] for t in targets} == {"60s"}
    assert {t["labels"]["job"] for t in targets} == {"plugins"}
    assert len({t["labels"]["instance"] for t in targets}) == 3
    assert all(t["health"] in ("up", "down") and t["lastScrape"].endswith("Z") for t in targets)


def test_the_plain_world_keeps_its_config_and_one_target(plain: DemoStack) -> None:
    yaml = get(plain, "prometheus", "/api/v1/status/config")["data"]["yaml"]
    assert "global:\n  scrape_interval: 15s\n" in yaml and "scrape_interval: 15s\n  scrape_timeout" in yaml
    assert len(get(plain, "prometheus", "/api/v1/targets")["data"]["activeTargets"]) == 1
    names = get(plain, "prometheus", "/api/v1/label/__name__/values")["data"]
    assert "up" not in names
    assert "instance" not in get(plain, "prometheus", "/api/v1/labels")["data"]


def test_each_pod_has_its_series_and_up(demo: DemoStack) -> None:
    store = demo.metrics
    pods = {s.labels["pod"] for s in store.series if s.labels["__name__"] == "plugin_tool_duration_seconds_count"}
    assert len(pods) == 3
    up = instant(store, "up", NOW - 600)
    assert len(up) <= 3 and set(up.values()) <= {0.0, 1.0}
    # the calls are split among the pods: each counts about a third
    per_pod = instant(store, 'sum by (pod) (increase(plugin_tool_duration_seconds_count{tenant="acme"}[20m]))', NOW)
    total = sum(per_pod.values())
    assert len(per_pod) == 3 and all(v == pytest.approx(total / 3, rel=0.2) for v in per_pod.values())


def test_a_lost_scrape_leaves_a_gap_in_every_series_of_its_pod(demo: DemoStack) -> None:
    store, w = demo.metrics, demo.world
    got = store.select([])
    by_pod: dict[str, set[int]] = {}
    for s in got:
        if s.labels["__name__"] == "up":
            continue
        gaps = {j for j, v in enumerate(s.values) if math.isnan(v)}
        by_pod.setdefault(s.labels["pod"], gaps)
        assert by_pod[s.labels["pod"]] == gaps  # one lost scrape: all the pod's metrics at once
    n = len(got[0].values)
    shares = [len(g) / n for g in by_pod.values()]
    assert all(0.0 < x < 0.15 for x in shares), shares  # 5 % of 120 scrapes
    # the raw samples skip the lost scrapes (spacing 60 s, sometimes 120 s); `up` is 0 there
    q = 'plugin_tool_duration_seconds_count{tenant="acme", outcome="success"}[2h]'
    rows = Engine(store).instant(q, NOW)
    assert isinstance(rows, RangeRows)
    times: list[list[float]] = [[t for t, _ in row[1]] for row in rows]
    steps = {b - a for ts in times for a, b in zip(ts, ts[1:], strict=False)}
    assert 60.0 in steps and max(steps) >= 120.0
    pod = next(iter(by_pod))
    k = w.first_slot + min(by_pod[pod])
    assert w.missed(next(p for p in range(3) if store.targets[p]["pod"] == pod), k)


def test_a_restart_resets_the_counters_but_rate_stays_right(demo: DemoStack) -> None:
    store, w = demo.metrics, demo.world
    restart = NOW - 1800
    q = 'plugin_tool_duration_seconds_count{tenant="acme", outcome="success"}'
    before = instant(store, q, restart - 120)
    after = instant(store, q, restart + 130)
    common = set(before) & set(after)
    assert common and all(after[k] < before[k] / 5 for k in common)  # a counter reset, every pod
    rate = 'sum(rate(plugin_tool_duration_seconds_count{tenant="acme"}[10m]))'
    for t in (restart + 60, restart + 300, restart + 540):  # windows that hold the reset
        truth = sum(w.slot(0, 0, k).n for k in w.slots(t - 600, t)) / 600
        assert instant(store, rate, t)[()] == pytest.approx(truth, rel=0.12)  # resets counted in: no spike
    calls = sum(w.slot(0, 0, k).n for k in w.slots(restart - 1800, restart + 1800))
    inc = instant(store, 'sum(increase(plugin_tool_duration_seconds_count{tenant="acme"}[60m]))', restart + 1800)[()]
    assert inc == pytest.approx(calls, rel=0.1)


def test_a_range_query_across_the_restart_has_no_spike(demo: DemoStack) -> None:
    body = get(
        demo,
        "prometheus",
        "/api/v1/query_range",
        query='sum(rate(plugin_tool_duration_seconds_count{tenant="globex"}[5m]))',
        start=NOW - 3600,
        end=NOW,
        step=60,
    )
    values = [float(v) for _, v in body["data"]["result"][0]["values"]]
    assert max(values) < 1.5 * sorted(values)[len(values) // 2]


def test_partial_responses_carry_the_warning(demo: DemoStack, plain: DemoStack) -> None:
    for d, want in ((demo, True), (plain, False)):
        q = "sum(plugin_tool_duration_seconds_count)"
        one = get(d, "prometheus", "/api/v1/query", query=q, time=NOW)
        rng = get(d, "prometheus", "/api/v1/query_range", query=q, start=NOW - 600, end=NOW, step=60)
        logs = get(d, "loki", "/loki/api/v1/query_range", query='{plugin="coach"}', limit=5)
        for body in (one, rng, logs):
            assert ("warnings" in body) == want
            if want:
                assert body["warnings"][0].startswith("partial response")
    found = get(demo, "tempo", "/api/search", q="{}", start=int(NOW - 600), end=int(NOW), limit=5)
    assert found["metrics"]["completedJobs"] < found["metrics"]["totalJobs"]


def test_without_exemplar_storage_the_answer_is_empty(demo: DemoStack, plain: DemoStack) -> None:
    q = "plugin_tool_duration_seconds_bucket"
    assert get(demo, "prometheus", "/api/v1/query_exemplars", query=q, start=NOW - 600, end=NOW)["data"] == []
    assert get(plain, "prometheus", "/api/v1/query_exemplars", query=q, start=NOW - 600, end=NOW)["data"]


def test_the_buckets_are_the_scenarios(demo: DemoStack) -> None:
    les = get(demo, "prometheus", "/api/v1/label/le/values")["data"]
    assert sorted(les, key=float) == ["0.1", "0.5", "1", "4", "+Inf"]


# ----- Loki ------------------------------------------------------------------------------------------
def test_without_the_pattern_ingester_patterns_is_404(demo: DemoStack) -> None:
    status, _, body = fetch(
        demo.urls["loki"], "GET", "/loki/api/v1/patterns", [("query", '{plugin="coach"}'), ("step", "60s")]
    )
    assert status == 404 and body == ""


def test_a_line_is_absent_until_its_lag_has_passed() -> None:
    clock = [NOW + 60]
    w = World(scenario({"log_lag": "1s..3s"}), now=NOW, clock=lambda: clock[0])
    store = LogStore(w)
    lines = store.lines([0], NOW + 20, NOW + 40)
    newest = max(lines, key=lambda x: x.ts_ns)
    ts = newest.ts_ns / 1e9
    clock[0] = ts + 0.5  # too early for any lag
    assert all(x.ts_ns != newest.ts_ns for x in store.lines([0], ts - 5, ts + 5))
    clock[0] = ts + 3.01  # past the longest lag
    assert any(x.ts_ns == newest.ts_ns for x in store.lines([0], ts - 5, ts + 5))
    # lags vary within the range: part of the last 3 s is there, part is not yet
    clock[0] = NOW + 120
    recent = {x.ts_ns for x in store.lines([0], NOW + 110, NOW + 120)}
    everything = {
        x.ts_ns
        for x in LogStore(World(scenario({}), now=NOW, clock=lambda: NOW + 120)).lines([0], NOW + 110, NOW + 120)
    }
    assert recent < everything
    assert {t for t in everything if t <= (NOW + 117) * 1e9} <= recent


def test_without_a_lag_a_line_is_there_at_its_timestamp_not_when_its_slot_ends() -> None:
    """A shipper sends each line as it is written: the newest lines are seconds old, never a slot (15 s)."""
    w = World(scenario({}), now=NOW, clock=lambda: NOW)
    slot = w.slot_s
    mid = (NOW // slot) * slot + slot * 0.9  # most of a slot has run
    store = LogStore(World(scenario({}), now=NOW, clock=lambda: mid))
    newest = max(x.ts_ns for x in store.lines([0], mid - 60, mid)) / 1e9
    assert mid - newest < slot / 2, f"the newest line is {mid - newest:.1f} s old"


def test_a_live_tail_sees_late_lines_behind_its_cursor() -> None:
    clock = [NOW + 30]
    w = World(scenario({"log_lag": "0.2s..3s"}), now=NOW, clock=lambda: clock[0])
    store = LogStore(w)
    cursor = NOW + 30
    seen = {x.ts_ns for x in store.lines([0, 1], NOW, cursor)}
    clock[0] = NOW + 40
    late = [x for x in store.lines([0, 1], NOW, cursor) if x.ts_ns not in seen]
    assert late and all(x.ts_ns < cursor * 1e9 for x in late)


def test_an_error_storm_runs_far_past_one_page() -> None:
    sc = scenario(
        {"error_line_volume": 50},
        incidents=[
            {"tenant": "acme", "tool": "grade", "start": "-20m", "duration": "20m", "cause": "errors", "factor": 0.3}
        ],
    )
    with stack(sc, now=NOW) as d:
        q = '{plugin="coach", tenant_id="acme"} |= "plugin.tool.failed"'
        page = get(d, "loki", "/loki/api/v1/query_range", query=q, start=int((NOW - 600) * 1e9), limit=5000)
        lines = [json.loads(v[1]) for s in page["data"]["result"] for v in s["values"]]
        assert len(lines) == 5000
        assert len({x["trace_id"] for x in lines}) < 5000 / 40  # the same failures, logged again and again
        count = get(d, "loki", "/loki/api/v1/query", query=f"sum(count_over_time({q}[10m]))", time=NOW)
        assert float(count["data"]["result"][0]["value"][1]) > 6_000  # past the page of 5,000 it answered


# ----- Tempo -----------------------------------------------------------------------------------------
def test_head_sampling_keeps_a_tenth_of_the_traces_and_the_logs_keep_every_trace_id() -> None:
    sc = scenario({"trace_sampling": 0.1})
    with stack(sc, now=NOW) as d:
        w = d.world
        calls = list(w.iter_calls(NOW - 1800, NOW))
        kept = [c for c in calls if w.sampled(c.trace_id)]
        assert len(kept) / len(calls) == pytest.approx(0.1, abs=0.02)
        found = get(d, "tempo", "/api/search", q="{}", start=int(NOW - 300), end=int(NOW), limit=1000)
        ids = {t["traceID"].rjust(32, "0") for t in found["traces"]}
        assert ids and all(w.sampled(i) for i in ids)
        dropped = next(c for c in calls if not w.sampled(c.trace_id))
        status, _, _ = fetch(d.urls["tempo"], "GET", f"/api/traces/{dropped.trace_id}")
        assert status == 404
        assert get(d, "tempo", f"/api/traces/{kept[0].trace_id}")["batches"]
        lines = LogStore(w).call_lines(dropped)
        assert all(json.loads(x.line)["trace_id"] == dropped.trace_id for x in lines)
        ex = get(d, "prometheus", "/api/v1/query_exemplars", query="plugin_tool_duration_seconds_bucket")["data"]
        assert ex and all(w.sampled(e["labels"]["trace_id"]) for s in ex for e in s["exemplars"])


def test_a_trace_is_searchable_only_after_its_lag() -> None:
    clock = [NOW]
    sc = scenario({"trace_lag": "5s..20s"})
    with DemoStack(sc, now=NOW, clock=lambda: clock[0]) as d:
        newest = max(d.world.iter_calls(NOW - 60, NOW), key=lambda c: c.end)
        assert newest.end > NOW - 60
        clock[0] = newest.end + 1
        status, _, _ = fetch(d.urls["tempo"], "GET", f"/api/traces/{newest.trace_id}")
        assert status == 404
        found = get(d, "tempo", "/api/search", q="{}", start=int(NOW - 60), end=int(clock[0]) + 1, limit=1000)
        assert newest.trace_id.lstrip("0") not in {t["traceID"] for t in found["traces"]}
        clock[0] = newest.end + 21
        assert get(d, "tempo", f"/api/traces/{newest.trace_id}")["batches"]
        found = get(d, "tempo", "/api/search", q="{}", start=int(NOW - 60), end=int(clock[0]) + 1, limit=1000)
        assert newest.trace_id.lstrip("0") in {t["traceID"] for t in found["traces"]}
