"""Provides the findings: every latency, errors, cost and traffic incident of the tenant in the range,
per tool, ranked by how far and how long it was past its line (DESIGN §4.1).

The lines, each tested at its edges:

- **latency**: the tenant's p99 above the target, or without one above `LATENCY_FACTOR` × its
  baseline (`window.baseline`); held while above half-way between the baseline and that line; over
  at least `MIN_CALLS` calls (a p99 of a handful of calls is noise), of which at least
  `MIN_SLOW_CALLS` were past the line (estimated from the quantiles: `slow_share`). A tool whose usual
  p99 already touches its target (`TOUCHING` of it) is held to its own baseline too: its line is at
  least `TOUCH_FACTOR` × that baseline. At 10 calls a minute in coarse buckets, one slow call reads as
  "p99 3.6 s"; that is not an incident.
- **errors**: the failure ratio burning the error budget `ERROR_BURN` times over (held while over
  `ERROR_BURN_EXIT`), with at least `MIN_FAILURES` failed calls in the stretch.
- **cost**: LLM cost per call (tokens per call without a cost counter) at `COST_FACTOR` × its
  baseline or more for `COST_MIN_S` or longer; and the 1-day spend above the daily budget.
- **traffic**: the call rate `SURGE` × its usual level or more, or under `DROP` × it, for
  `TRAFFIC_MIN_S` or longer, for a tool that usually has at least `TRAFFIC_MIN_RATE` calls/s.

Rank = kind weight × ln(severity) × minutes; a latency finding's is scaled by the share of its calls
past the line (`REAL_SHARE` or more counts whole), so a long shallow wobble of the p99 alone never
outranks an incident that slowed most calls. Where two findings of one tool overlap, the one that
explains the other comes first (errors › latency › cost › traffic: slow model calls write longer
answers, so an LLM-bound slowdown also raises cost per call)."""

from __future__ import annotations

import bisect
import math
import statistics

import msgspec

from plugintop.analysis import window as w
from plugintop.analysis.model import Evidence, Finding, Points
from plugintop.analysis.signals import Frame, Sig, ToolSignals, total
from plugintop.analysis.slo import BURN_WINDOWS, alerts_firing
from plugintop.timerange import parse_duration

LATENCY_FACTOR = 2.0
ERROR_BURN = 6.0
ERROR_BURN_EXIT = 3.0
MIN_FAILURES = 5
MIN_CALLS = 20
MIN_SLOW_CALLS = 5.0
"""Calls past the line, estimated, below which a p99 over it is one or two slow calls, not an incident."""
TOUCHING = 0.8
TOUCH_FACTOR = 1.5
REAL_SHARE = 0.1
SMOOTH_CALLS = 50.0
COST_FACTOR = 2.0
COST_EXIT = 1.5
COST_MIN_S = 600.0
SURGE = 3.0
DROP = 0.25
TRAFFIC_MIN_S = 300.0
TRAFFIC_MIN_RATE = 0.05
WEIGHT = {"errors": 4.0, "latency": 2.0, "cost": 1.0, "traffic": 0.5}
PRECEDENCE = ("errors", "latency", "cost", "traffic")
OVERSHADOWED = 0.1
"""Rank multiplier of a finding overlapped by one of higher precedence on the same tool."""
CAP = 100.0
"""A ratio past a line counts at most this much (an infinite p99 is 100 × the line)."""


def split(points: Points, frame: Frame) -> tuple[Points, Points]:
    """(before the range, within it); nothing after the range's end."""
    before = [(t, v) for t, v in points if t < frame.start]
    within = [(t, v) for t, v in points if frame.start <= t <= frame.end]
    return before, within


def rank(kind: str, severity: float, duration: float) -> float:
    return WEIGHT[kind] * math.log(max(severity, 1.05)) * max(duration, 60.0) / 60


def _mean_ratio(points: list[tuple[float, float]], line: float) -> float:
    return statistics.fmean(min(v / line, CAP) if math.isfinite(v) else CAP for _, v in points)


def _finding(
    kind: str,
    tool: str,
    start: float,
    end: float,
    severity: float,
    *,
    cause: str,
    evidence: list[Evidence],
    peak: float = math.nan,
    threshold: float = math.nan,
    baseline: float | None = None,
) -> Finding:
    return Finding(
        kind=kind,
        tool=tool,
        start=start,
        end=end,
        severity=severity,
        rank=rank(kind, severity, end - start),
        cause=cause,
        evidence=evidence,
        peak=peak,
        threshold=threshold,
        baseline=baseline,
    )


def latency_line(sig: Sig, frame: Frame, target: float | None) -> tuple[float, float, float | None] | None:
    """(line, exit line, baseline) of the p99, or None without enough data for a baseline or a target."""
    base = w.baseline(*split(sig.p99, frame))
    if target is not None:
        if base is not None and base >= TOUCHING * target:
            line = max(target, base * TOUCH_FACTOR)  # usually at its target: judged against itself too
            return line, max(target, base * (1 + (TOUCH_FACTOR - 1) / 2)), base
        exit_line = target - 0.5 * (target - base) if base is not None and base < target else target
        return target, exit_line, base
    if base is None or base <= 0:
        return None
    return base * LATENCY_FACTOR, base * (1 + (LATENCY_FACTOR - 1) / 2), base


def latency(ts: ToolSignals, frame: Frame) -> list[Finding]:
    lines = latency_line(ts.tenant, frame, ts.p99_target_s)
    if lines is None:
        return []
    line, exit_line, base = lines
    _, within = split(ts.tenant.p99, frame)
    out = []
    for st in w.above(within, line, exit_line, frame.step):
        if total(w.between(ts.tenant.rate, st.hot[0][0], st.end), frame.step) < MIN_CALLS:
            continue  # a p99 of a handful of calls is noise
        slow, share = slow_calls(st.hot, ts.tenant, line, frame.step)
        if slow < MIN_SLOW_CALLS:
            continue  # one or two slow calls in a wide bucket: not an incident
        sev = _mean_ratio(st.hot, line)
        start = max(st.start, frame.start)
        ev = [Evidence(signal="prometheus", what="p99", value=st.peak, baseline=base, unit="s")]
        if ts.p99_target_s is not None:
            ev.append(Evidence(signal="prometheus", what="p99_target", value=ts.p99_target_s, unit="s"))
        ev.append(
            Evidence(signal="prometheus", what="slow_calls", value=round(slow), unit="count", detail=f"{share:.0%}")
        )
        found = _finding(
            "latency",
            ts.tool,
            start,
            st.end,
            sev,
            cause="unknown",
            evidence=ev,
            peak=st.peak,
            threshold=line,
            baseline=base,
        )
        out.append(_with_rank(found, found.rank * min(1.0, max(share, 0.01) / REAL_SHARE)))
    return out


def _near(points: Points, t: float, step: float) -> float | None:
    """The value of the point of `points` (in time order) nearest `t`, within a step: a bisection, as it is
    asked for every hot point of every stretch."""
    i = bisect.bisect_left(points, (t,))
    near = [points[j] for j in (i - 1, i) if 0 <= j < len(points)]
    best = min(near, key=lambda p: abs(p[0] - t), default=None)
    return best[1] if best is not None and abs(best[0] - t) <= step and math.isfinite(best[1]) else None


def slow_share(p99: float, p50: float | None, line: float) -> float:
    """The share of calls slower than `line`, from the quantiles: half or more with the median past it;
    else between 1 % (the p99 just past it) and half, by where the line sits between the median and the
    p99 on a log scale (latencies spread multiplicatively)."""
    if p50 is not None and p50 > line:
        return 0.5
    if not math.isfinite(p99) or p99 <= line:
        return 0.01 if math.isinf(p99) else 0.0
    if p50 is None or p50 <= 0 or p99 <= p50:
        return 0.01
    where = math.log(p99 / line) / math.log(p99 / p50)
    return 0.01 + 0.49 * min(1.0, max(0.0, where))


def slow_calls(hot: list[tuple[float, float]], sig: Sig, line: float, step: float) -> tuple[float, float]:
    """(calls past `line`, their share of the calls) over the hot points: each point's calls times the
    share of them the quantiles put past the line."""
    slow = calls = 0.0
    for t, p99 in hot:
        rate = _near(sig.rate, t, step) or 0.0
        n = rate * step
        calls += n
        slow += n * slow_share(p99, _near(sig.p50, t, step), line)
    return slow, (slow / calls if calls else 0.0)


def failure_ratio_in(sig: Sig, start: float, end: float, step: float) -> tuple[float, float]:
    """(failed calls, all calls) in [start, end]."""
    return total(w.between(sig.failures, start, end), step), total(w.between(sig.rate, start, end), step)


def burn_rates(sig: Sig, at: float, frame: Frame) -> dict[str, float]:
    """The multi-window burn rates (SRE workbook) of `sig` ending at `at`, for the windows its data covers."""
    budget = 1 - frame.success_target
    out = {}
    for name in BURN_WINDOWS:
        span = parse_duration(name)
        if at - span < frame.baseline_start - frame.step:
            continue
        failed, calls = failure_ratio_in(sig, at - span + frame.step, at, frame.step)
        if calls > 0:
            out[name] = failed / calls / budget
    return out


def smoothed_failure_ratio(sig: Sig, frame: Frame) -> tuple[Points, float]:
    """The failure ratio over a sliding span holding about `SMOOTH_CALLS` calls (1 to 10 minutes), and the
    span: failures are counts, and a ratio of few calls flips between 0 and far past the line."""
    rate = sorted((t, v) for t, v in sig.rate if math.isfinite(v))
    usual = statistics.median([v for _, v in rate]) if rate else 0.0
    span = min(max(SMOOTH_CALLS / usual if usual > 0 else 600.0, 60.0), 600.0)
    k = max(0, round(span / 2 / frame.step))
    failed = dict(sig.failures)
    n = [v for _, v in rate]
    f = [failed.get(t, 0.0) if math.isfinite(failed.get(t, 0.0)) else 0.0 for t, _ in rate]
    out = []
    for i, (t, _) in enumerate(rate):
        a, b = max(0, i - k), min(len(rate), i + k + 1)
        calls = sum(n[a:b])
        if calls > 0:
            out.append((t, sum(f[a:b]) / calls))
    return out, k * frame.step


def errors(ts: ToolSignals, frame: Frame) -> list[Finding]:
    budget = 1 - frame.success_target
    if budget <= 0:
        return []
    smooth, half = smoothed_failure_ratio(ts.tenant, frame)
    _, within = split(smooth, frame)
    _, raw = split(ts.tenant.failure_ratio(), frame)
    out = []
    for st in w.above(within, ERROR_BURN * budget, ERROR_BURN_EXIT * budget, frame.step):
        # the smoothing blurs the edges by half its span: the stretch runs from the first to the last
        # failing point past the exit line within it
        edge = [t for t, v in raw if st.start - half <= t <= st.end + half and v >= ERROR_BURN_EXIT * budget]
        if not edge:
            continue
        first, last = edge[0], edge[-1]
        st = w.Stretch(start=first - frame.step, end=last, peak=st.peak, hot=st.hot, points=st.points)
        failed, calls = failure_ratio_in(ts.tenant, first, st.end, frame.step)
        if failed < MIN_FAILURES or calls <= 0 or failed / calls < ERROR_BURN * budget:
            continue
        ratio = failed / calls
        burns = burn_rates(ts.tenant, st.end, frame)
        firing = alerts_firing(burns)
        bf, bc = failure_ratio_in(ts.tenant, frame.baseline_start, frame.start - frame.step, frame.step)
        base = bf / bc if bc > 0 else None
        start = max(st.start, frame.start)
        sev = ratio / budget
        out.append(
            _finding(
                "errors",
                ts.tool,
                start,
                st.end,
                sev,
                cause="errors",
                evidence=[
                    Evidence(signal="prometheus", what="failure_ratio", value=ratio, baseline=base, unit="ratio"),
                    Evidence(signal="prometheus", what="failed_calls", value=round(failed), unit="count"),
                    Evidence(signal="prometheus", what="burn_rate", value=sev, unit="x", detail="window"),
                    *(
                        Evidence(signal="prometheus", what="burn_rate", value=b, unit="x", detail=name)
                        for name, b in burns.items()
                    ),
                    *(
                        [Evidence(signal="prometheus", what="alerts_firing", detail=", ".join(firing))]
                        if firing
                        else []
                    ),
                    Evidence(signal="prometheus", what="slo_target", value=frame.success_target, unit="ratio"),
                ],
                peak=st.peak,
                threshold=ERROR_BURN * budget,
                baseline=base,
            )
        )
    return out


def cost(ts: ToolSignals, frame: Frame) -> list[Finding]:
    """Cost per call past `COST_FACTOR` × its baseline; where the cost did not cross, tokens per call
    (DESIGN §4.1: "cost or tokens"): a prompt that grew four times costs less than twice as much when the
    completion's tokens are the dearer ones, yet every call carries four times the prompt."""
    per_call, unit = ts.tenant.per_call()
    found = _cost(ts, frame, per_call, unit)
    if not found and unit == "usd":
        found = _cost(ts, frame, ts.tenant.tokens_per_call(), "tokens")
    return found


def _cost(ts: ToolSignals, frame: Frame, per_call: Points, unit: str) -> list[Finding]:
    before, within = split(per_call, frame)
    base = w.baseline(before, within)
    if base is None or base <= 0:
        return []
    tpc_before, tpc_within = split(ts.tenant.tokens_per_call(), frame)
    tpc_base = w.baseline(tpc_before, tpc_within)
    out = []
    for st in w.above(within, COST_FACTOR * base, COST_EXIT * base, frame.step):
        start = max(st.start, frame.start)
        if st.end - start < COST_MIN_S - frame.step:
            continue
        sev = _mean_ratio(st.hot, base)
        mean = statistics.fmean(v for _, v in st.points if math.isfinite(v))
        ev = [Evidence(signal="prometheus", what=f"{unit}_per_call", value=mean, baseline=base, unit=unit)]
        tpc = w.median_in(tpc_within, start, st.end)
        if unit == "usd" and tpc is not None:
            ev.append(
                Evidence(signal="prometheus", what="tokens_per_call", value=tpc, baseline=tpc_base, unit="tokens")
            )
        out.append(
            _finding(
                "cost",
                ts.tool,
                start,
                st.end,
                sev,
                cause="cost",
                evidence=ev,
                peak=st.peak,
                threshold=COST_FACTOR * base,
                baseline=base,
            )
        )
    return out


def traffic(ts: ToolSignals, frame: Frame) -> list[Finding]:
    before, within = split(ts.tenant.rate, frame)
    usual = w.level(before, within)
    if usual is None or usual < TRAFFIC_MIN_RATE:
        return []
    out = []
    found = [(st, True) for st in w.above(within, SURGE * usual, SURGE / 1.5 * usual, frame.step)]
    found += [(st, False) for st in w.below(within, DROP * usual, DROP * 2 * usual, frame.step)]
    for st, surge in found:
        start = max(st.start, frame.start)
        if st.end - start < TRAFFIC_MIN_S - frame.step:
            continue
        mean = statistics.fmean(v for _, v in st.points if math.isfinite(v))
        sev = mean / usual if surge else usual / max(mean, usual / CAP)
        out.append(
            _finding(
                "traffic",
                ts.tool,
                start,
                st.end,
                sev,
                cause="traffic",
                evidence=[
                    Evidence(
                        signal="prometheus",
                        what="call_rate",
                        value=mean,
                        baseline=usual,
                        unit="per_s",
                        detail="surge" if surge else "drop",
                    )
                ],
                peak=st.peak,
                threshold=(SURGE if surge else DROP) * usual,
                baseline=usual,
            )
        )
    return out


def budget(tools: list[ToolSignals], frame: Frame, spend_1d: float | None) -> list[Finding]:
    """The 1-day LLM spend of the tenant against the daily budget, as a cost finding of the costliest tool."""
    if spend_1d is None or not frame.daily_budget_usd or spend_1d <= frame.daily_budget_usd or not tools:
        return []
    costliest = max(tools, key=lambda ts: total(split(ts.tenant.usd, frame)[1], frame.step))
    sev = spend_1d / frame.daily_budget_usd
    return [
        Finding(
            kind="cost",
            tool=costliest.tool,
            start=frame.start,
            end=frame.end,
            severity=sev,
            rank=rank("cost", sev, 600.0),
            cause="cost",
            evidence=[
                Evidence(
                    signal="prometheus", what="spend_1d", value=spend_1d, baseline=frame.daily_budget_usd, unit="usd"
                )
            ],
            threshold=frame.daily_budget_usd,
        )
    ]


def _overlap(a: Finding, b: Finding) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


def order(found: list[Finding]) -> list[Finding]:
    """Most severe first; a finding overlapped (half its length or more) by one of higher precedence on
    the same tool is ranked as its consequence."""
    out = []
    for f in found:
        shadows = [
            g.rank
            for g in found
            if g.tool == f.tool
            and PRECEDENCE.index(g.kind) < PRECEDENCE.index(f.kind)
            and _overlap(f, g) >= 0.5 * max(f.duration, 1.0)
        ]
        # a consequence never comes before what explains it
        out.append(f if not shadows else _with_rank(f, min(f.rank * OVERSHADOWED, 0.999 * min(shadows))))
    return sorted(out, key=lambda f: (-f.rank, PRECEDENCE.index(f.kind), f.start))


def _with_rank(f: Finding, r: float) -> Finding:
    return msgspec.structs.replace(f, rank=r)


def find(tools: list[ToolSignals], frame: Frame, spend_1d: float | None = None) -> list[Finding]:
    """Every finding of every tool, ranked."""
    found: list[Finding] = []
    for ts in tools:
        found += latency(ts, frame) + errors(ts, frame) + cost(ts, frame) + traffic(ts, frame)
    found += budget(tools, frame, spend_1d)
    return order(found)
