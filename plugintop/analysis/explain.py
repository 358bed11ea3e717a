"""Provides the explanation of a finding (DESIGN §4.2): its onset, the attributes that separate its calls,
what changed at the onset, its impact and which pillars corroborate it, from what the triage fetched.
Pure: the triage fetches (`triage.explain`), this decides."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from plugintop.analysis import attributes as attrs
from plugintop.analysis.changes import (
    lookback,
    model_mix,
    neighbour_cpu,
    new_patterns,
    prompt_tokens,
    restarts,
    rollout,
    traffic,
)
from plugintop.analysis.model import Change, Explain, Finding, Impact, Points, TriageResult
from plugintop.analysis.onset import Onset, detect
from plugintop.analysis.signals import Frame, Sig, ToolSignals, total

ONSET_MIN_RATIO = 1.3
"""A finding's own series must move by this much (either way) for a change point to be its onset."""
LATENCY_SLO_BUDGET = 0.01
"""A p99 target lets 1 % of calls be slower: the latency SLO's error budget."""
SLO_DAYS = 30.0
CPU_ROSE = 1.3
"""The profile's CPU per second at this multiple of its baseline or more: the profile moved too."""
ERRORS_ROSE = 1.5
USER_ATTR = "user.id"


@dataclass
class Comparison:
    """The finding's calls against the rest, as counts (from `compare()` or from two span samples)."""

    selection: attrs.Counts
    baseline: attrs.Counts
    numeric: set[str] = field(default_factory=set)
    how: str = ""
    """`tempo compare()` or `span samples`."""
    what: str = ""
    """What was compared with what, in words."""
    users: int | None = None
    users_of: int | None = None
    ignore: set[str] = field(default_factory=set)


@dataclass
class Fetched:
    """What the triage fetched for one finding's explanation (each part may be missing)."""

    step: float
    """The step of the finding's series here."""
    smooth_s: float = 0.0
    """The rate window of those series."""
    series: Points | None = None
    """The finding's own series at a finer step (None: the first wave's is used)."""
    rate: Points | None = None
    """The tenant's calls of the tool per second at that step (for cost per call with `series` = cost)."""
    prompt_per_call: Points = field(default_factory=list)
    tokens_by_model: dict[str, Points] = field(default_factory=dict)
    resets: dict[str, Points] = field(default_factory=dict)
    neighbours: dict[tuple[str, str], Points] = field(default_factory=dict)
    """The call rates by (tool, tenant), at `step`, of the other tenants whose calls grew most."""
    dearer: dict[tuple[str, str], Points] = field(default_factory=dict)
    """Under saturation: seconds per call by (tool, tenant), at `step`, of the other tenants whose calls got
    dearest and of this tenant's own calls of the tool."""
    dearer_rates: dict[tuple[str, str], Points] = field(default_factory=dict)
    """Those other tenants' calls per second."""
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)


def own_series(finding: Finding, sig: Sig) -> tuple[Points, int]:
    """The finding's own series (p99, failure ratio, cost per call, call rate) and the direction it moved."""
    if finding.kind == "latency":
        return sig.p99, 1
    if finding.kind == "errors":
        return sig.failure_ratio(), 1
    if finding.kind == "cost":
        return sig.per_call()[0], 1
    down = finding.baseline is not None and math.isfinite(finding.peak) and finding.peak < finding.baseline
    return sig.rate, -1 if down else 1


def find_onset(finding: Finding, points: Points, direction: int, step: float, smooth_s: float) -> Onset | None:
    """The change point of the finding's own series, from a while before it to its end."""
    lo, hi = finding.start - lookback(finding.duration), finding.end
    pts = [(t, v) for t, v in points if lo <= t <= hi]
    found = detect(pts, direction=direction, min_ratio=ONSET_MIN_RATIO, step=step, smooth_s=smooth_s)
    if found is None or found.at > finding.end:
        return None
    return found


def impact(
    finding: Finding, sig: Sig, frame: Frame, target_s: float | None, comparison: Comparison | None
) -> Impact | None:
    """How bad: the finding's calls, their share of the window's, the users, the budget, the spend."""
    step = frame.step
    win = [(t, v) for t, v in sig.rate if finding.start <= t <= finding.end]
    calls_in_window = total(win, step)
    if calls_in_window <= 0:
        return None
    if finding.kind == "latency":
        slow = next((e.value for e in finding.evidence if e.what == "slow_calls" and e.value is not None), None)
        calls = slow if slow is not None else 0.0
    elif finding.kind == "errors":
        calls = total([(t, v) for t, v in sig.failures if finding.start <= t <= finding.end], step)
    else:
        calls = calls_in_window
    rates = [v for _, v in sig.rate if math.isfinite(v)]
    usual = sum(rates) / len(rates) if rates else 0.0
    calls_30d = usual * SLO_DAYS * 86400
    budget_used = None
    if calls_30d > 0 and finding.kind == "errors" and frame.success_target < 1:
        budget_used = calls / ((1 - frame.success_target) * calls_30d)
    elif calls_30d > 0 and finding.kind == "latency" and target_s is not None:
        budget_used = calls / (LATENCY_SLO_BUDGET * calls_30d)
    return Impact(
        calls=round(calls),
        share=min(1.0, calls / calls_in_window),
        users=comparison.users if comparison else None,
        users_seen_of=comparison.users_of if comparison else None,
        error_budget_used=budget_used,
        extra_cost_usd=extra_cost(finding, sig, frame),
    )


def extra_cost(finding: Finding, sig: Sig, frame: Frame) -> float | None:
    """The window's LLM spend above what its calls cost per call before the finding (None: no cost counter)."""
    if not any(math.isfinite(v) and v > 0 for _, v in sig.usd):
        return None
    step = frame.step

    def part(points: Points, lo: float, hi: float) -> float:
        return total([(t, v) for t, v in points if lo <= t <= hi], step)

    base_lo = max(frame.baseline_start, finding.start - max(finding.duration, 3600.0))
    base_usd, base_calls = part(sig.usd, base_lo, finding.start - step), part(sig.rate, base_lo, finding.start - step)
    usd, calls = part(sig.usd, finding.start, finding.end), part(sig.rate, finding.start, finding.end)
    if base_calls <= 0 or calls <= 0:
        return None
    return round(usd - calls * base_usd / base_calls, 4)


def corroboration(
    finding: Finding,
    result: TriageResult,
    problems: Mapping[str, str],
    comparison: Comparison | None,
    drilled: bool,
) -> dict[str, str]:
    """Each pillar: `confirms` (its own signal moved the same way), `silent` (answered, no signal),
    `contradicts`, or `missing` (down, or no data). `drilled`: the window's spans, logs and profile
    were fetched for this finding."""
    out = {"prometheus": "missing" if "prometheus" in problems else "confirms"}
    # tempo
    if "tempo" in problems and comparison is None:
        out["tempo"] = "missing"
    else:
        tempo_ev = any(e.signal == "tempo" for e in finding.evidence)
        slow_spans = (
            drilled
            and finding.kind == "latency"
            and any(
                s.duration_s >= (finding.baseline or finding.threshold)
                for s in result.spans
                if math.isfinite(s.duration_s)
            )
        )
        selected = comparison is not None and comparison.selection.n > 0
        if tempo_ev or slow_spans or (selected and finding.kind in ("latency", "errors")):
            out["tempo"] = "confirms"
        elif comparison is not None and finding.kind in ("latency", "errors") and comparison.baseline.n >= 20:
            out["tempo"] = "contradicts"  # plenty of the tool's spans, none slow (or failed) in the window
        elif "tempo" in problems:
            out["tempo"] = "missing"
        else:
            out["tempo"] = "silent"
    # loki
    logs = result.logs if drilled else None
    if "loki" in problems:
        out["loki"] = "missing"
    elif logs is None and not finding.patterns:
        out["loki"] = "missing" if drilled else "silent"
    else:
        grew = logs is not None and logs.error_lines > max(ERRORS_ROSE * logs.baseline_error_lines, 0)
        new = any(p.baseline_count == 0 for p in finding.patterns)
        out["loki"] = "confirms" if grew or new else "silent"
    # pyroscope
    prof = result.profile if drilled else None
    if "pyroscope" in problems or (drilled and prof is None):
        out["pyroscope"] = "missing"
    elif prof is None:
        out["pyroscope"] = "silent"
    else:
        rose = prof.baseline_cpu_per_s > 0 and prof.cpu_per_s >= CPU_ROSE * prof.baseline_cpu_per_s
        hot = finding.cause == "cpu" and bool(prof.hotter)
        if rose or hot:
            out["pyroscope"] = "confirms"
        elif finding.cause == "cpu":
            out["pyroscope"] = "contradicts"
        else:
            out["pyroscope"] = "silent"
    return out


def explain(
    finding: Finding,
    *,
    tenant: str,
    signals: Sequence[ToolSignals],
    frame: Frame,
    result: TriageResult,
    problems: Mapping[str, str],
    fetched: Fetched,
    drilled: bool,
) -> Explain:
    """The explanation of one finding from what was fetched for it."""
    ts = next((s for s in signals if s.tool == finding.tool), None)
    sig = ts.tenant if ts is not None else Sig()
    notes = list(fetched.notes)
    # onset: the finding's own series (the finer one where fetched)
    points, direction = own_series(finding, sig)
    step, smooth = frame.step, 0.0
    if fetched.series:
        points, step, smooth = fetched.series, fetched.step, fetched.smooth_s
    found = find_onset(finding, points, direction, step, smooth)
    if found is None:
        notes.append("no change point in the finding's own series stands out of its noise")
    ref = found.at if found is not None else finding.start
    # attributes
    cmp = fetched.comparison
    lifted = (
        attrs.compare(cmp.selection, cmp.baseline, numeric=cmp.numeric, ignore=cmp.ignore) if cmp is not None else []
    )
    if cmp is not None and min(cmp.selection.n, cmp.baseline.n) < attrs.MIN_SAMPLE:
        notes.append(
            f"too few calls to compare ({cmp.selection.n} in the finding, {cmp.baseline.n} others; "
            f"{attrs.MIN_SAMPLE} each needed)"
        )
    # changes
    until = finding.end
    cs: list[Change] = []
    cs += traffic(signals, finding.tool, tenant, ref, until, frame.step, neighbours=fetched.neighbours)
    if fetched.dearer and finding.tool is not None:
        cs += neighbour_cpu(fetched.dearer, fetched.dearer_rates, finding.tool, tenant, ref, until, frame.step)
    if ts is not None:
        cs += rollout(ts.versions, ref, until, frame.step)
    if fetched.prompt_per_call:
        cs += prompt_tokens(fetched.prompt_per_call, tenant, finding.tool, ref, until, step, smooth)
    if fetched.tokens_by_model:
        cs += model_mix(fetched.tokens_by_model, ref, until, step, smooth)
    cs += restarts(fetched.resets, ref, step)
    cs += new_patterns(finding.patterns, ref)
    cs.sort(key=lambda c: (abs(c.at - ref), c.kind))
    target = ts.p99_target_s if ts is not None else None
    return Explain(
        onset=found.at if found is not None else None,
        onset_kind=found.kind if found is not None else "",
        ramp_end=found.ramp_end if found is not None and found.kind == "ramp" else None,
        separates=bool(lifted),
        attributes=lifted,
        compared=cmp.how if cmp is not None else "",
        compared_what=cmp.what if cmp is not None else "",
        changes=cs,
        impact=impact(finding, sig, frame, target, cmp),
        corroboration=corroboration(finding, result, problems, cmp, drilled),
        notes=notes,
    )
