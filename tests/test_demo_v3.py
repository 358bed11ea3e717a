"""Scenario v3's explanation keys and causes in the demo (DESIGN §5.2): users, the model mix, the plugin's
own attributes, `where`, a ramping onset, a grown prompt, throttling and a noisy neighbour, every signal
agreeing with the others."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from typing import Any

import pytest

from plugintop.demo.logs import LogStore
from plugintop.demo.metrics import MetricStore
from plugintop.demo.otlp import TraceBuilder
from plugintop.demo.profiles import ProfileStore
from plugintop.demo.promql_eval import Engine
from plugintop.demo.scenario import Scenario, scenario_from
from plugintop.demo.slots import Call
from plugintop.demo.world import World

NOW = float(int(time.time()) // 60 * 60)
TOOL: dict[str, Any] = {
    "name": "grade",
    "calls_per_min": 60,
    "median_ms": 300,
    "llm_share": 0.3,
    "functions": ["parse", "score"],
    "downstream": ["db.query"],
    "error_ratio": 0.0,
}


def scenario(tool: dict[str, Any] | None = None, **extra: Any) -> Scenario:
    data: dict[str, Any] = {
        "plugin": "coach",
        "seed": 11,
        "history": "2h",
        "tenants": ["acme", "globex", "initech"],
        "tools": [{**TOOL, **(tool or {})}],
        **extra,
    }
    return scenario_from(data)


def incident(**kw: Any) -> dict[str, Any]:
    return {"tenant": "acme", "tool": "grade", "start": "-40m", "duration": "30m", **kw}


def calls(w: World, start: float, end: float, tenant: int) -> list[Call]:
    return list(w.iter_calls(start, end, tenants=[tenant]))


def spans(w: World, c: Call) -> list[tuple[str, Any]]:
    return [(sp.name, sp) for _, _, sp, _, _ in TraceBuilder(w).spans(c)]


def instant(w: World, q: str, t: float) -> dict[str, float]:
    value = Engine(MetricStore(w)).instant(q, t)
    assert isinstance(value, list)
    return {",".join(f"{k}={v}" for k, v in sorted(lb.items())): x for lb, x in value}


def test_users_are_few_heavy_and_many_light_per_tenant() -> None:
    w = World(scenario({"users": 30}), now=NOW)
    for ti in range(3):
        users = Counter(c.user for c in calls(w, NOW - 3600, NOW, ti))
        assert set(users) <= {f"u-{i}" for i in range(1, 31)} and len(users) > 20
        top = users.most_common(1)[0][1]
        assert top > 3 * statistics.mean(users.values())  # a few heavy users
    c = calls(w, NOW - 60, NOW, 0)[0]
    root = spans(w, c)[0][1]
    assert root.attributes["user.id"] == c.user
    invoked = json.loads(LogStore(w).call_lines(c)[0].line)
    assert invoked["user_id"] == c.user


def test_the_model_mix_shows_in_spans_and_token_counters() -> None:
    w = World(scenario({"models": {"gpt-4o-mini": 0.75, "gpt-4o": 0.25}}), now=NOW)
    cs = calls(w, NOW - 3600, NOW, 0)
    share = sum(c.model == "gpt-4o" for c in cs) / len(cs)
    assert share == pytest.approx(0.25, abs=0.04)
    c = next(c for c in cs if c.model == "gpt-4o")
    names = [n for n, _ in spans(w, c)]
    assert "chat gpt-4o" in names
    by_model = instant(
        w, 'sum by (model) (increase(plugin_llm_tokens_total{direction="prompt", tenant="acme"}[30m]))', NOW
    )
    want: Counter[str] = Counter()
    for x in calls(w, NOW - 1800, NOW, 0):
        want[x.model] += x.prompt_tokens
    assert set(by_model) == {"model=gpt-4o", "model=gpt-4o-mini"}
    for model, v in by_model.items():
        assert v == pytest.approx(want[model.split("=")[1]], rel=0.05)
    cost = instant(w, 'sum by (model) (increase(plugin_llm_cost_usd_total{tenant="acme"}[30m]))', NOW)
    assert cost["model=gpt-4o"] > cost["model=gpt-4o-mini"]  # a third of the calls, 16 times the price


def test_the_plugins_attributes_are_on_the_tool_span() -> None:
    attrs = [{"name": "course_type", "values": {"video": 0.2, "text": 0.8}}, {"name": "candidates", "range": [10, 200]}]
    w = World(scenario({"attributes": attrs}), now=NOW)
    cs = calls(w, NOW - 3600, NOW, 1)
    video = sum(c.tags["course_type"] == "video" for c in cs) / len(cs)
    assert video == pytest.approx(0.2, abs=0.04)
    assert all(isinstance(c.tags["candidates"], int) and 10 <= c.tags["candidates"] <= 200 for c in cs)
    root = spans(w, cs[0])[1 - 1][1]
    assert root.attributes["course_type"] == cs[0].tags["course_type"]


def test_where_slows_only_the_matching_calls() -> None:
    attrs = [{"name": "course_type", "values": {"video": 0.2, "text": 0.8}}]
    inc = incident(cause="cpu", function="score", factor=8.0, where={"course_type": "video"})
    w = World(scenario({"attributes": attrs}, incidents=[inc]), now=NOW)
    cs = calls(w, NOW - 1500, NOW - 900, 0)
    video = [c.duration for c in cs if c.tags["course_type"] == "video"]
    text = [c.duration for c in cs if c.tags["course_type"] == "text"]
    assert statistics.median(video) > 5 * statistics.median(text)
    before = [c.duration for c in calls(w, NOW - 4000, NOW - 3000, 0)]
    assert statistics.median(text) == pytest.approx(statistics.median(before), rel=0.3)
    slow = next(c for c in cs if c.tags["course_type"] == "video")
    score = dict(spans(w, slow))["score"]
    assert score.duration > 0.5 * slow.duration  # the time is in the hot function
    # the histogram counts the slow calls: p99 of the incident window far above the healthy one
    q = 'histogram_quantile(0.99, sum by (le) (rate(plugin_tool_duration_seconds_bucket{tenant="acme"}[10m])))'
    assert instant(w, q, NOW - 900)[""] > 3 * instant(w, q, NOW - 3000)[""]


def test_a_ramp_grows_the_factor_over_its_length() -> None:
    inc = incident(cause="llm", factor=6.0, onset="ramp", ramp="20m")
    w = World(scenario(incidents=[inc]), now=NOW)
    early = statistics.median(c.duration for c in calls(w, NOW - 2400, NOW - 2220, 0))
    middle = statistics.median(c.duration for c in calls(w, NOW - 1860, NOW - 1740, 0))
    late = statistics.median(c.duration for c in calls(w, NOW - 1080, NOW - 900, 0))
    assert early < 1.6 * 0.3 and middle == pytest.approx(late / 2, rel=0.35) and late > 4 * 0.3


def test_a_grown_prompt_multiplies_the_prompt_tokens_only() -> None:
    inc = incident(cause="cost", factor=1.0, prompt_tokens_factor=4.0)
    w = World(scenario(incidents=[inc]), now=NOW)
    q = 'sum by (tenant, direction) (increase(plugin_llm_tokens_total{tenant=~"acme|globex"}[10m]))'
    during = instant(w, q, NOW - 900)
    p_acme = during["direction=prompt,tenant=acme"]
    p_globex = during["direction=prompt,tenant=globex"]
    c_acme = during["direction=completion,tenant=acme"]
    c_globex = during["direction=completion,tenant=globex"]
    assert p_acme == pytest.approx(4 * p_globex, rel=0.25) and c_acme == pytest.approx(c_globex, rel=0.25)
    c = calls(w, NOW - 1000, NOW - 900, 0)[0]
    root = spans(w, c)[0][1]
    assert root.attributes["llm.tokens.prompt"] == c.prompt_tokens > 1000


def test_throttling_retries_the_model_call_and_logs_each_429() -> None:
    inc = incident(cause="throttling", factor=4.0)
    w = World(scenario(incidents=[inc]), now=NOW)
    c = calls(w, NOW - 1200, NOW - 1100, 0)[0]
    assert c.ok
    llm = [sp for name, sp in spans(w, c)[1:] if name.startswith("chat ")]
    failed = [sp for sp in llm if sp.status == "error"]
    assert len(failed) == 3 and llm[-1].status == "unset"  # three 429s, then one that succeeds
    assert all(sp.attributes["http.response.status_code"] == 429 for sp in failed)
    assert sum(sp.duration for sp in llm) > 0.6 * c.duration  # the call's time is in the model calls
    warns = [json.loads(x.line) for x in LogStore(w).call_lines(c)]
    limited = [x for x in warns if x["event"] == "llm.rate_limited"]
    assert len(limited) == 3 and {x["level"] for x in limited} == {"warn"}
    healthy = calls(w, NOW - 1200, NOW - 1100, 1)[0]
    assert healthy.completion_tokens > 0 and all(p.error is None for p in healthy.parts)


def test_a_noisy_neighbour_surges_saturates_the_cpu_and_stretches_the_others_waits() -> None:
    inc = incident(tenant="globex", cause="neighbour", factor=6.0, contention=3.0)
    w = World(scenario(incidents=[inc]), now=NOW)
    base = World(scenario(), now=NOW)
    # the surge: globex's calls × 6
    during = len(calls(w, NOW - 1500, NOW - 900, 1))
    assert during == pytest.approx(6 * len(calls(base, NOW - 1500, NOW - 900, 1)), rel=0.1)
    # the others: 3 × slower, the extra time in the model call and the DB span, the model as fast as before
    slow = calls(w, NOW - 1500, NOW - 900, 0)
    calm = calls(base, NOW - 1500, NOW - 900, 0)
    assert statistics.median(c.duration for c in slow) == pytest.approx(
        3 * statistics.median(c.duration for c in calm), rel=0.1
    )
    s, b = slow[0], calm[0]
    assert s.trace_id == b.trace_id
    got, was = {p.name: p.seconds for p in s.parts}, {p.name: p.seconds for p in b.parts}
    assert got["parse"] == pytest.approx(was["parse"]) and got["score"] == pytest.approx(was["score"])
    assert got["db.query"] > 2 * was["db.query"] and got["chat gpt-4o-mini"] > 2 * was["chat gpt-4o-mini"]
    assert s.completion_tokens == b.completion_tokens
    # the surging tenant itself is as fast as ever
    assert statistics.median(c.duration for c in calls(w, NOW - 1500, NOW - 900, 1)) == pytest.approx(
        statistics.median(c.duration for c in calls(base, NOW - 1500, NOW - 900, 1)), rel=0.15
    )
    # the plugin's CPU per second rises with the extra work
    cpu_during = sum(ProfileStore(w).stacks(NOW - 1500, NOW - 900).values())
    cpu_calm = sum(ProfileStore(base).stacks(NOW - 1500, NOW - 900).values())
    assert cpu_during > 2 * cpu_calm
    # the log lines agree with the spans
    done = json.loads(LogStore(w).call_lines(s)[-1].line)
    assert done["duration_ms"] == pytest.approx(s.duration * 1000, abs=0.1)


def test_a_tenant_whose_calls_got_dearer_burns_the_cpu_and_stretches_the_others_waits() -> None:
    """Cause cpu with `contention`: globex's calls do 6× the work in `score` (as many calls as before), the
    plugin's CPU rises, and every other tenant's calls stretch where they wait, their code as fast as ever."""
    inc = incident(tenant="globex", cause="cpu", function="score", factor=6.0, contention=3.0)
    w = World(scenario(incidents=[inc]), now=NOW)
    base = World(scenario(), now=NOW)
    dear, calm_dear = calls(w, NOW - 1500, NOW - 900, 1), calls(base, NOW - 1500, NOW - 900, 1)
    assert len(dear) == len(calm_dear)  # no surge
    d, c = {p.name: p.seconds for p in dear[0].parts}, {p.name: p.seconds for p in calm_dear[0].parts}
    assert d["score"] > 10 * c["score"] and d["db.query"] == pytest.approx(c["db.query"])
    slow, calm = calls(w, NOW - 1500, NOW - 900, 0), calls(base, NOW - 1500, NOW - 900, 0)
    assert statistics.median(x.duration for x in slow) == pytest.approx(
        3 * statistics.median(x.duration for x in calm), rel=0.1
    )
    got, was = {p.name: p.seconds for p in slow[0].parts}, {p.name: p.seconds for p in calm[0].parts}
    assert got["score"] == pytest.approx(was["score"]) and got["chat gpt-4o-mini"] > 2 * was["chat gpt-4o-mini"]
    cpu_during = sum(ProfileStore(w).stacks(NOW - 1500, NOW - 900).values())
    cpu_calm = sum(ProfileStore(base).stacks(NOW - 1500, NOW - 900).values())
    assert cpu_during > 2 * cpu_calm


def test_contention_needs_the_one_tenant_whose_calls_got_dearer() -> None:
    from plugintop.structs import InvalidValue

    with pytest.raises(InvalidValue, match=r"incidents\.0\.tenant: contention needs one tenant"):
        scenario(incidents=[incident(tenant="*", cause="cpu", function="score", factor=6.0, contention=3.0)])
