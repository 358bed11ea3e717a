"""Provides what changed near a finding's onset (DESIGN §4.2), from data the triage already reads: the
call rate of this tenant and of every other tenant of every tool (traffic, neighbour_traffic), the other
tenants' seconds per call under saturation (neighbour_cpu), the
`version` label (rollout), the token counters by model (model_mix, prompt_tokens), counter resets
(restart) and log patterns new in the window (new_log_pattern).

A series changed "at the onset" when its own change point (`onset.detect`, with its noise guard) lies
within `near` of it: a neighbour's calls that surged an hour earlier did not cause this. Each change
carries its time and its before/after levels."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from plugintop.analysis.model import Change, Pattern, Points
from plugintop.analysis.onset import Onset, detect
from plugintop.analysis.signals import Sig, ToolSignals

SURGE = 2.0
"""A neighbour's calls at this multiple of their level or more: a surge."""
DEARER = 1.5
"""A tenant's seconds per call at this multiple of their level or more: its calls got dearer."""
DEARER_THAN_OWN = 1.5
"""...and this multiple of this tenant's own growth: more than the contention every tenant felt."""
OWN_STEADY = 1.5
"""This tenant's own calls changed less than this (either way): they did not surge."""
TRAFFIC = 1.5
"""This tenant's own call rate changed at least this much (either way): a traffic change."""
PROMPT = 1.3
"""Prompt tokens per call changed at least this much (either way)."""
MIX = 0.15
"""A model's share of the tokens moved at least this much (absolute)."""
NEAR_MIN_S = 300.0
NEAR_STEPS = 3.0
LOOKBACK_MIN_S = 1200.0
LOOKBACK_MAX_S = 3600.0
NEW_PATTERN_MIN = 3
"""Lines a pattern new in the window needs to be a change (one or two stray failures are not)."""
QUIET_POINTS = 4
"""Points a version must have been absent for before it appeared, to be a rollout."""


def near_s(step: float) -> float:
    """How close a series' change point must be to the onset to be "at" it."""
    return max(NEAR_MIN_S, NEAR_STEPS * step)


def lookback(duration: float) -> float:
    """How far before a finding (of `duration` seconds) its onset and changes are looked for: as long as
    it, within [LOOKBACK_MIN_S, LOOKBACK_MAX_S]."""
    return min(max(duration, LOOKBACK_MIN_S), LOOKBACK_MAX_S)


def span(ref: float, until: float) -> tuple[float, float]:
    """The stretch a change is looked for in: some time before `ref` up to `until` (the finding's end)."""
    return ref - lookback(until - ref), max(until, ref + NEAR_MIN_S)


def _in(points: Points, lo: float, hi: float) -> Points:
    return [(t, v) for t, v in points if lo <= t <= hi and math.isfinite(v)]


def _mean(points: Points) -> float | None:
    vals = [v for _, v in points if math.isfinite(v)]
    return sum(vals) / len(vals) if vals else None


def changed(
    points: Points,
    ref: float,
    until: float,
    step: float,
    *,
    direction: int = 0,
    min_ratio: float = 1.0,
    min_effect: float = 0.0,
    smooth_s: float = 0.0,
) -> Onset | None:
    """The change point of `points` near `ref`, or None (no change, or one far from it)."""
    lo, hi = span(ref, until)
    found = detect(
        _in(points, lo, hi),
        direction=direction,
        min_ratio=min_ratio,
        min_effect=min_effect,
        step=step,
        smooth_s=smooth_s,
    )
    if found is None or abs(found.at - ref) > near_s(step):
        return None
    return found


def ratio_around(points: Points, ref: float, width: float) -> float | None:
    """Mean after `ref` / mean before it, over `width` on each side (None: no level before)."""
    before, after = _mean(_in(points, ref - width, ref)), _mean(_in(points, ref + 1e-6, ref + width))
    if before is None or after is None or before <= 0:
        return None
    return after / before


def traffic(
    signals: Sequence[ToolSignals],
    tool: str,
    tenant: str,
    ref: float,
    until: float,
    step: float,
    smooth_s: float = 0.0,
    neighbours: Mapping[tuple[str, str], Points] | None = None,
) -> list[Change]:
    """This tenant's own call rate of the tool stepping at the onset (traffic), and other tenants' calls of
    any tool surging at the onset while this tenant's did not (neighbour_traffic: shared pods).
    `neighbours`: the call rates by (tool, tenant) of the few other tenants whose calls grew most (which
    Prometheus picks out of the fleet)."""
    out: list[Change] = []
    own = next((ts for ts in signals if ts.tool == tool), None)
    own_ratio = None
    if own is not None:
        own_ratio = ratio_around(own.tenant.rate, ref, max(600.0, 4 * step))
        o = changed(own.tenant.rate, ref, until, step, min_ratio=TRAFFIC, smooth_s=smooth_s)
        if o is not None:
            out.append(
                Change(
                    at=o.at,
                    kind="traffic",
                    what=f"{tenant}'s calls of {tool}: {_per_min(o.before)} → {_per_min(o.after)} a minute",
                    before=round(o.before * 60, 2),
                    after=round(o.after * 60, 2),
                    unit="per_min",
                )
            )
    steady = own_ratio is None or 1 / OWN_STEADY < own_ratio < OWN_STEADY
    if not steady:
        return out
    surges: list[tuple[float, Change]] = []
    for (other_tool, other), rate in sorted((neighbours or {}).items()):
        if other == tenant:
            continue
        o = changed(rate, ref, until, step, direction=1, min_ratio=SURGE, smooth_s=smooth_s)
        if o is None:
            continue
        times = o.after / o.before if o.before > 0 else math.inf
        own_text = f" while {tenant}'s did not (×{own_ratio:.1f})" if own_ratio is not None else ""
        surges.append(
            (
                (o.after - o.before),
                Change(
                    at=o.at,
                    kind="neighbour_traffic",
                    what=f"{other}'s calls of {other_tool} surged ×{_times(times)} "
                    f"({_per_min(o.before)} → {_per_min(o.after)} a minute){own_text}",
                    before=round(o.before * 60, 2),
                    after=round(o.after * 60, 2),
                    unit="per_min",
                ),
            )
        )
    surges.sort(key=lambda s: -s[0])
    return out + [c for _, c in surges[:3]]


def neighbour_cpu(
    per_call: Mapping[tuple[str, str], Points],
    rates: Mapping[tuple[str, str], Points],
    tool: str,
    tenant: str,
    ref: float,
    until: float,
    step: float,
) -> list[Change]:
    """Under saturation (the caller asks only then): another tenant whose calls of a tool got dearer at the
    onset, `DEARER` × their own level and `DEARER_THAN_OWN` × this tenant's own growth, while its calls did
    not surge. Every tenant's calls stretch on a busy plugin; the one whose own work per call rose stretches
    far more, and it is the one that keeps the plugin busy. `per_call`: seconds per call by (tool, tenant),
    this tenant's own `(tool, tenant)` among them; `rates`: the others' calls per second."""
    width = max(600.0, 4 * step)
    own = per_call.get((tool, tenant))
    own_ratio = ratio_around(own, ref, width) if own else None
    found: list[tuple[float, Change]] = []
    for (other_tool, other), points in sorted(per_call.items()):
        if other == tenant:
            continue
        o = changed(points, ref, until, step, direction=1, min_ratio=DEARER)
        if o is None or o.before <= 0:
            continue
        times = o.after / o.before
        if own_ratio is not None and times < DEARER_THAN_OWN * own_ratio:
            continue
        calls = ratio_around(rates.get((other_tool, other), []), ref, width)
        if calls is not None and calls >= SURGE:
            continue  # a surge: neighbour_traffic says it
        own_text = f", {tenant}'s ×{own_ratio:.1f}" if own_ratio is not None else ""
        steady = f" with its calls steady (×{calls:.1f})" if calls is not None else ""
        found.append(
            (
                times,
                Change(
                    at=o.at,
                    kind="neighbour_cpu",
                    what=f"{other}'s calls of {other_tool} took ×{_times(times)} as long each "
                    f"({_secs(o.before)} → {_secs(o.after)}{own_text}){steady}: its own work per call rose, "
                    "on the plugin's shared CPU",
                    before=round(o.before, 4),
                    after=round(o.after, 4),
                    unit="s",
                ),
            )
        )
    found.sort(key=lambda x: -x[0])
    return [c for _, c in found[:3]]


def prompt_tokens(
    per_call: Points, tenant: str, tool: str, ref: float, until: float, step: float, smooth_s: float = 0.0
) -> list[Change]:
    """Prompt tokens per call stepping at the onset (a prompt that grew, or shrank)."""
    o = changed(per_call, ref, until, step, min_ratio=PROMPT, smooth_s=smooth_s)
    if o is None:
        return []
    word = "grew" if o.after > o.before else "shrank"
    return [
        Change(
            at=o.at,
            kind="prompt_tokens",
            what=f"prompt tokens per call of {tenant}'s {tool} {word} ×{_times(o.after / o.before)} "
            f"({o.before:,.0f} → {o.after:,.0f})",
            before=round(o.before, 1),
            after=round(o.after, 1),
            unit="tokens",
        )
    ]


def model_mix(
    tokens_by_model: Mapping[str, Points], ref: float, until: float, step: float, smooth_s: float = 0.0
) -> list[Change]:
    """A model's share of the tokens moving at the onset (calls moved to another model)."""
    if len(tokens_by_model) < 2:
        return []
    totals: dict[float, float] = {}
    for pts in tokens_by_model.values():
        for t, v in pts:
            if math.isfinite(v):
                totals[t] = totals.get(t, 0.0) + v
    out = []
    for model, pts in sorted(tokens_by_model.items()):
        share = [(t, v / totals[t]) for t, v in pts if math.isfinite(v) and totals.get(t, 0.0) > 0]
        o = changed(share, ref, until, step, min_effect=MIX, smooth_s=smooth_s)
        if o is None or o.after < o.before:
            continue  # the model that gained is the change; the one that lost is its mirror
        out.append(
            Change(
                at=o.at,
                kind="model_mix",
                what=f"{model}'s share of the tokens {o.before:.0%} → {o.after:.0%}",
                before=round(o.before, 3),
                after=round(o.after, 3),
                unit="ratio",
            )
        )
    return out


def rollout(versions: Mapping[str, Sig], ref: float, until: float, step: float) -> list[Change]:
    """A version that began serving the tenant's calls near the onset."""
    if len(versions) < 2:
        return []
    lo, hi = span(ref, until)
    out = []
    for version, sig in sorted(versions.items()):
        pts = sorted((t, v) for t, v in sig.rate if math.isfinite(v))
        first = next((t for t, v in pts if v > 0), None)
        if first is None or not lo <= first <= hi or abs(first - ref) > near_s(step):
            continue
        earliest = min((t for other in versions.values() for t, _ in other.rate), default=first)
        if earliest > first - QUIET_POINTS * step:
            continue  # no data from before it appeared: it may have served all along
        before = sorted(v for v, s in versions.items() if v != version and _mean(_in(s.rate, first - 600, first)))
        out.append(
            Change(
                at=first,
                kind="rollout",
                what=f"version {version} began serving the calls" + (f" (was {', '.join(before)})" if before else ""),
                before=", ".join(before) or None,
                after=version,
            )
        )
    return out


def restarts(resets: Mapping[str, Points], ref: float, step: float) -> list[Change]:
    """Counter resets near the onset: a pod (or process) restarted."""
    out = []
    for who, pts in sorted(resets.items()):
        hits = [t for t, v in pts if math.isfinite(v) and v > 0 and abs(t - ref) <= near_s(step)]
        if hits:
            out.append(
                Change(
                    at=hits[0],
                    kind="restart",
                    what=f"{who or 'a target'} restarted (its counters reset)",
                    before=None,
                    after=None,
                )
            )
    return out[:5]


def new_patterns(patterns: Sequence[Pattern], at: float) -> list[Change]:
    """Log patterns of the window that the baseline did not have."""
    return [
        Change(
            at=at,
            kind="new_log_pattern",
            what=f"new log pattern: {p.pattern}",
            before=float(p.baseline_count),
            after=float(p.count),
            unit="count",
            signal="loki",
        )
        for p in patterns
        if p.baseline_count == 0 and p.count >= NEW_PATTERN_MIN
    ][:3]


def _per_min(per_s: float) -> str:
    v = per_s * 60
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}"


def _secs(x: float) -> str:
    return f"{x * 1000:,.0f} ms" if x < 1 else f"{x:.2f} s"


def _times(x: float) -> str:
    return "∞" if not math.isfinite(x) else f"{x:.1f}"
