"""The findings on hand-made series at today's epoch: each kind at its line (just under, just over),
the window finder on real shapes, the scope rules and the verdict's states."""

from __future__ import annotations

import math
import random

import pytest

from plugintop.analysis import findings as fx
from plugintop.analysis import scope as sc
from plugintop.analysis.model import Finding, Points
from plugintop.analysis.signals import Frame, Sig, ToolSignals
from plugintop.analysis.verdict import decide

NOW = 1_796_000_000.0  # 2026-11-30: floats this large resolve ~0.24 µs, as real timestamps do
STEP = 15.0
RANGE = 3600.0
FRAME = Frame(start=NOW - RANGE, end=NOW, baseline_start=NOW - 2 * RANGE, step=STEP, success_target=0.995)


def series(f: object, start: float = FRAME.baseline_start, end: float = NOW) -> Points:
    """f(t) sampled every STEP from start to end (f takes minutes before NOW)."""
    n = int((end - start) // STEP)
    return [(start + i * STEP, f((NOW - (start + i * STEP)) / 60)) for i in range(n + 1)]  # type: ignore[operator]


def during(a: float, b: float, inside: float, outside: float) -> object:
    """A level of `inside` from `a` to `b` minutes ago, `outside` otherwise."""
    return lambda m: inside if b <= m < a else outside


def noisy(level: float, seed: int = 1, spread: float = 0.1) -> object:
    rng = random.Random(seed)
    return lambda m: level * rng.uniform(1 - spread, 1 + spread)


def tool(tenant: Sig, target: float | None = None, **kw: Sig) -> ToolSignals:
    return ToolSignals(tool="answer", tenant=tenant, versions=dict(kw), p99_target_s=target)


def calm(p99: float = 0.5, rate: float = 1.0, seed: int = 0) -> Sig:
    return Sig(p99=series(noisy(p99, seed)), rate=series(noisy(rate, seed + 1)), failures=[])


# ----- latency ---------------------------------------------------------------------------------
def test_an_incident_longer_than_half_the_range_is_one_window_of_its_length() -> None:
    """Without a target the line is drawn from the time before the range: a 40-minute 5x stretch in a
    1-hour range is not swallowed by its own median."""
    rng = random.Random(3)
    p99 = series(lambda m: (2.5 if 5 <= m < 45 else 0.5) * rng.uniform(0.85, 1.15))
    found = fx.latency(tool(Sig(p99=p99, rate=series(noisy(1.0)))), FRAME)
    assert len(found) == 1
    f = found[0]
    assert abs(f.start - (NOW - 45 * 60)) <= 2 * STEP and abs(f.end - (NOW - 5 * 60)) <= 2 * STEP


def test_a_p99_that_hovers_around_the_target_is_one_window() -> None:
    """With the target close to the incident's p99, points flap under the line: hysteresis holds the stretch."""
    rng = random.Random(5)
    p99 = series(lambda m: 2.0 * rng.uniform(0.85, 1.2) if 10 <= m < 45 else 0.6 * rng.uniform(0.9, 1.1))
    under = sum(1 for t, v in p99 if NOW - 45 * 60 <= t < NOW - 10 * 60 and v <= 2.0)
    assert under > 10  # the shape really flaps
    found = fx.latency(tool(Sig(p99=p99, rate=series(noisy(1.0))), target=2.0), FRAME)
    assert len(found) == 1
    assert found[0].end - found[0].start == pytest.approx(35 * 60, abs=4 * STEP)


def test_one_stray_point_never_outranks_a_long_stretch() -> None:
    p99 = series(lambda m: 20.0 if m == 2 else (3.0 if 30 <= m < 50 else 0.5))
    found = fx.latency(tool(Sig(p99=p99, rate=series(noisy(1.0))), target=2.0), FRAME)
    assert len(found) == 1 and found[0].peak == 3.0  # the stray point is no stretch at all
    two = series(lambda m: 20.0 if 2 <= m < 2.5 else (2.4 if 30 <= m < 50 else 0.5))
    ranked = fx.order(fx.latency(tool(Sig(p99=two, rate=series(noisy(20.0))), target=2.0), FRAME))
    assert ranked[0].peak == 2.4 and len(ranked) == 2
    # at a call a second, the half-minute spike is 30 calls of which one is past the line: no finding
    alone = fx.latency(tool(Sig(p99=two, rate=series(noisy(1.0))), target=2.0), FRAME)
    assert [f.peak for f in alone] == [2.4]


@pytest.mark.parametrize(("level", "found"), [(1.99, 0), (2.01, 1)])
def test_latency_at_the_target(level: float, found: int) -> None:
    p99 = series(during(40, 20, level, 0.5))
    assert len(fx.latency(tool(Sig(p99=p99, rate=series(noisy(1.0))), target=2.0), FRAME)) == found


@pytest.mark.parametrize(("factor", "found"), [(1.9, 0), (2.1, 1)])
def test_latency_without_a_target_at_twice_the_baseline(factor: float, found: int) -> None:
    p99 = series(during(40, 20, 0.5 * factor, 0.5))
    assert len(fx.latency(tool(Sig(p99=p99, rate=series(noisy(1.0)))), FRAME)) == found


# ----- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("burn", "found"), [(5.8, 0), (6.2, 1)])
def test_errors_at_six_times_the_budget(burn: float, found: int) -> None:
    ratio = burn * 0.005
    sig = Sig(p99=series(noisy(0.5)), rate=series(lambda m: 2.0), failures=series(during(40, 10, 2.0 * ratio, 0.0)))
    got = fx.errors(tool(sig), FRAME)
    assert len(got) == found
    if got:
        assert got[0].cause == "errors" and got[0].severity == pytest.approx(burn, rel=0.05)
        assert abs(got[0].start - (NOW - 40 * 60)) <= 2 * STEP


@pytest.mark.parametrize(("failed_per_s", "found"), [(0.0028, 0), (0.0035, 1)])
def test_errors_need_a_handful_of_failed_calls(failed_per_s: float, found: int) -> None:
    """A low-traffic tool: a ratio far past the line, but 4 failures are not an incident; 5 are (25 min)."""
    sig = Sig(rate=series(lambda m: 0.02), failures=series(during(30, 5, failed_per_s, 0.0)))
    assert len(fx.errors(tool(sig), FRAME)) == found


# ----- cost ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("factor", "minutes", "found"), [(1.9, 20, 0), (2.1, 20, 1), (3.0, 9, 0), (3.0, 11, 1)])
def test_cost_per_call_twice_the_baseline_for_ten_minutes(factor: float, minutes: float, found: int) -> None:
    sig = Sig(rate=series(lambda m: 1.0), usd=series(during(30, 30 - minutes, 0.01 * factor, 0.01)))
    got = fx.cost(tool(sig), FRAME)
    assert len(got) == found
    if got:
        assert got[0].evidence[0].what == "usd_per_call" and got[0].evidence[0].baseline == pytest.approx(0.01)


def test_daily_budget() -> None:
    sig = Sig(rate=series(lambda m: 1.0), usd=series(lambda m: 0.01))
    framed = Frame(
        start=FRAME.start, end=FRAME.end, baseline_start=FRAME.baseline_start, step=STEP, daily_budget_usd=50
    )
    assert fx.budget([tool(sig)], framed, 49.0) == []
    over = fx.budget([tool(sig)], framed, 51.0)
    assert len(over) == 1 and over[0].kind == "cost" and over[0].severity == pytest.approx(51 / 50)


# ----- traffic ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("factor", "found"), [(2.9, 0), (3.1, 1), (0.3, 0), (0.2, 1), (0.0, 1)])
def test_traffic_surges_and_drops(factor: float, found: int) -> None:
    sig = Sig(rate=series(during(30, 10, 1.0 * factor, 1.0)))
    got = fx.traffic(tool(sig), FRAME)
    assert len(got) == found


# ----- ordering and scope -------------------------------------------------------------------------------
def test_a_slow_model_call_that_also_costs_more_is_a_latency_finding_first() -> None:
    """Longer model answers cost more: the cost finding is the latency finding's consequence."""
    sig = Sig(
        p99=series(during(40, 20, 2.2, 0.5)),
        rate=series(lambda m: 1.0),
        usd=series(during(40, 20, 0.05, 0.01)),
    )
    got = fx.find([tool(sig, target=2.0)], FRAME)
    assert [f.kind for f in got] == ["latency", "cost"]


def _latency(ts: ToolSignals) -> Finding:
    return fx.latency(ts, FRAME)[0]


def test_fleet_when_most_other_tenants_show_it() -> None:
    slow = Sig(p99=series(during(40, 20, 3.0, 0.5)), rate=series(lambda m: 1.0))
    ts = tool(slow, target=2.0)
    f = sc.scoped(_latency(ts), ts, FRAME, "a", sc.Fleet(hot=2, told=3, names=["b", "c"]))
    assert f.scope == "fleet" and any(e.what == "other_tenants" and e.detail == "b, c" for e in f.evidence)
    one = sc.Fleet(hot=1, told=3, names=["b"])
    assert sc.scoped(_latency(ts), ts, FRAME, "a", one).scope == "tenant"  # 1 of 3 is not most


def test_a_thousand_tenants_name_a_few_and_count_the_rest() -> None:
    slow = Sig(p99=series(during(40, 20, 3.0, 0.5)), rate=series(lambda m: 1.0))
    ts = tool(slow, target=2.0)
    fleet = sc.Fleet(hot=900, told=999, names=["t1", "t2", "t3", "t4", "t5"])
    f = sc.scoped(_latency(ts), ts, FRAME, "a", fleet)
    ev = next(e for e in f.evidence if e.what == "other_tenants")
    assert (f.scope, ev.value, ev.baseline, ev.detail) == ("fleet", 900, 999, "t1, t2, t3, t4, t5 and 895 more")


def test_the_fleet_never_includes_the_tenant() -> None:
    slow = Sig(p99=series(during(40, 20, 3.0, 0.5)), rate=series(lambda m: 1.0))
    ts = tool(slow, target=2.0)
    assert sc.scoped(_latency(ts), ts, FRAME, "a", None).scope == "tenant"
    assert sc.scoped(_latency(ts), ts, FRAME, "a", sc.Fleet(hot=0, told=0)).scope == "tenant"


def test_noisy_neighbour_named_when_the_fleet_is_slow() -> None:
    slow = Sig(p99=series(during(40, 20, 3.0, 0.5)), rate=series(lambda m: 1.0))
    ts = tool(slow, target=2.0)
    fleet = sc.Fleet(hot=2, told=2, names=["b", "loud"], surged=[("loud", 5.0)])
    f = sc.scoped(_latency(ts), ts, FRAME, "a", fleet)
    assert f.scope == "fleet" and [e.detail for e in f.evidence if e.what == "noisy_neighbour"] == ["loud"]
    loud = Sig(p99=slow.p99, rate=series(during(40, 20, 5.0, 1.0)))  # the tenant itself surged
    ts = tool(loud, target=2.0)
    f = sc.scoped(_latency(ts), ts, FRAME, "a", fleet)
    assert [e.detail for e in f.evidence if e.what == "noisy_neighbour"] == ["a", "loud"]


def test_version_when_the_regression_began_with_the_version() -> None:
    old = Sig(p99=series(during(1000, 40, 0.5, math.nan)), rate=series(during(1000, 40, 1.0, 0.0)))
    new = Sig(p99=series(during(40, 0, 3.0, math.nan)), rate=series(during(40, 0, 1.0, 0.0)))
    tenant = Sig(p99=series(during(40, 0, 3.0, 0.5)), rate=series(lambda m: 1.0))
    ts = tool(tenant, target=2.0, **{"1.0": old, "2.0": new})
    f = sc.scoped(_latency(ts), ts, FRAME, "a", sc.Fleet(hot=2, told=2, names=["b", "c"]))
    assert (f.scope, f.version) == ("version", "2.0")  # wins over the fleet: a deploy that broke everyone


def test_not_version_when_the_version_serves_the_other_tenants_well() -> None:
    """A tenant's own incident that begins with a fleet-wide rollout is the tenant's, not the version's."""
    old = Sig(p99=series(during(1000, 40, 0.5, math.nan)), rate=series(during(1000, 40, 1.0, 0.0)))
    new = Sig(p99=series(during(40, 0, 3.0, math.nan)), rate=series(during(40, 0, 1.0, 0.0)))
    rest_new = Sig(p99=series(during(40, 0, 0.5, math.nan)), rate=series(during(40, 0, 2.0, 0.0)))
    tenant = Sig(p99=series(during(40, 0, 3.0, 0.5)), rate=series(lambda m: 1.0))
    ts = tool(tenant, target=2.0, **{"1.0": old, "2.0": new})
    ts.rest_versions = {"1.0": old, "2.0": rest_new}
    calm_fleet = sc.Fleet(hot=0, told=2)
    assert sc.scoped(_latency(ts), ts, FRAME, "a", calm_fleet).scope == "tenant"
    ts.rest_versions = {"1.0": old, "2.0": new}  # the others suffer on the new version too
    assert sc.scoped(_latency(ts), ts, FRAME, "a", calm_fleet).scope == "version"


def test_latency_of_a_handful_of_calls_is_no_incident() -> None:
    """A p99 past the line over a stretch that held fewer than MIN_CALLS calls says nothing; nor does one
    whose calls past the line, estimated from the quantiles, are one or two."""
    p99 = series(during(40, 36, 3.0, 0.5))
    assert fx.latency(tool(Sig(p99=p99, rate=series(lambda m: 0.02)), target=2.0), FRAME) == []  # ~5 calls
    # ~48 calls, the p99 alone past the line: about one slow call
    assert fx.latency(tool(Sig(p99=p99, rate=series(lambda m: 0.2)), target=2.0), FRAME) == []
    # the same 48 calls with the median past the line too: half of them slow
    slow = Sig(p99=p99, p50=series(during(40, 36, 2.5, 0.2)), rate=series(lambda m: 0.2))
    assert len(fx.latency(tool(slow, target=2.0), FRAME)) == 1
    # ~1,200 calls with the p99 alone past it: a dozen slow calls
    assert len(fx.latency(tool(Sig(p99=p99, rate=series(lambda m: 5.0)), target=2.0), FRAME)) == 1


def test_not_version_when_the_version_served_long_before() -> None:
    new = Sig(p99=series(during(40, 0, 3.0, 0.5)), rate=series(lambda m: 1.0))
    old = Sig(p99=[], rate=series(lambda m: 0.0))
    ts = tool(new, target=2.0, **{"1.0": old, "2.0": new})
    assert sc.scoped(_latency(ts), ts, FRAME, "a", None).scope == "tenant"


def test_not_version_when_two_versions_are_slow_alike() -> None:
    half = Sig(p99=series(during(40, 0, 3.0, 0.5)), rate=series(during(40, 0, 0.5, 0.0)))
    tenant = Sig(p99=series(during(40, 0, 3.0, 0.5)), rate=series(lambda m: 1.0))
    ts = tool(tenant, target=2.0, **{"1.0": half, "2.0": half})
    assert sc.scoped(_latency(ts), ts, FRAME, "a", None).scope == "tenant"


# ----- verdict states --------------------------------------------------------------------------------
def _found() -> list[Finding]:
    return fx.latency(tool(Sig(p99=series(during(40, 20, 3.0, 0.5)), rate=series(lambda m: 1.0)), target=2.0), FRAME)


def test_prometheus_down_is_unknown_never_healthy() -> None:
    v, _ = decide([], trace=None, profile=None, problems={"prometheus": "connection refused"}, has_data=True)
    assert (v.state, v.cause) == ("unknown", "unknown") and v.unchecked == ["prometheus: connection refused"]


def test_no_data_names_the_known_tenants() -> None:
    v, _ = decide([], trace=None, profile=None, problems={}, has_data=False, known_tenants=["acme"])
    assert v.state == "no_data" and "acme" in v.summary


def test_a_silent_pillar_keeps_it_from_healthy() -> None:
    v, _ = decide([], trace=None, profile=None, problems={"loki": "HTTP 503"}, has_data=True)
    assert (v.state, v.cause) == ("unknown", "unknown") and "loki: HTTP 503" in v.unchecked
    v, _ = decide([], trace=None, profile=None, problems={}, has_data=True)
    assert (v.state, v.cause) == ("healthy", "none")


def test_a_slow_window_without_tempo_is_unknown_but_errors_are_not() -> None:
    v, found = decide(_found(), trace=None, profile=None, problems={"tempo": "timed out"}, has_data=True)
    assert (v.state, v.cause) == ("unknown", "unknown") and found[0].cause == "unknown" and v.window is not None
    sig = Sig(rate=series(lambda m: 2.0), failures=series(during(40, 10, 0.2, 0.0)))
    v, _ = decide(fx.errors(tool(sig), FRAME), trace=None, profile=None, problems={"tempo": "down"}, has_data=True)
    assert (v.state, v.cause, v.tool) == ("incident", "errors", "answer")
