"""Provides the scope of a finding (DESIGN §4.1): `version` when it is confined to the calls of one
plugin version that began serving near the finding's start, and the other tenants' calls of that
version (if any) show it too (a deploy regression, which wins over fleet), `fleet` when most other
tenants show the same finding in the same window (the tenant is never part of the fleet it is compared
with; Prometheus counts them: `Fleet`), else `tenant`. With `fleet`, tenants whose call rate surged at
the window's start are named (a noisy neighbour)."""

from __future__ import annotations

import math
import statistics

import msgspec

from plugintop.analysis import findings
from plugintop.analysis import window as w
from plugintop.analysis.model import Evidence, Finding
from plugintop.analysis.signals import Frame, Sig, ToolSignals, total

MIN_SHARE = 0.1
"""A version serving less than this share of the window's calls does not count against confinement."""
DEPLOY_TOLERANCE_S = 600.0
"""How near the finding's start a version must have begun serving (or a quarter of the finding)."""
MIN_FAILED = 3
"""Failed calls a population needs in the window to show an errors finding."""
NOISY_FACTOR = 3.0
NOISY_LOOK_S = 300.0


def hot_in(f: Finding, sig: Sig, frame: Frame, line: float | None = None) -> bool | None:
    """Whether `sig` shows the same finding as `f` in f's window (None: no calls there to tell).
    `line` overrides the population's own line (a version's calls have no healthy baseline)."""
    failed, calls = findings.failure_ratio_in(sig, f.start, f.end, frame.step)
    if calls <= 0:
        return None
    if f.kind == "errors":
        return failed >= MIN_FAILED and failed / calls >= findings.ERROR_BURN * (1 - frame.success_target)
    if f.kind == "latency":
        if line is None:
            own = findings.latency_line(sig, frame, None)
            line = f.threshold if _has_target(f) or own is None else own[0]
        med = w.median_in(sig.p99, f.start, f.end)
        return med is not None and med > line
    if f.kind == "cost":
        per_call, _ = sig.per_call()
        base = w.baseline(*findings.split(per_call, frame))
        med = w.median_in(per_call, f.start, f.end)
        return base is not None and med is not None and med >= findings.COST_FACTOR * base
    usual = w.level(*findings.split(sig.rate, frame))
    med = w.median_in(sig.rate, f.start, f.end)
    if usual is None or med is None or usual <= 0:
        return None
    surge = any(e.detail == "surge" for e in f.evidence)
    return med >= findings.SURGE * usual if surge else med <= findings.DROP * usual


def _has_target(f: Finding) -> bool:
    return any(e.what == "p99_target" for e in f.evidence)


class Fleet(msgspec.Struct, frozen=True, kw_only=True):
    """What the other tenants of a finding's tool show in its window, as Prometheus counted it."""

    hot: int
    """How many show the same finding."""
    told: int
    """How many had calls there (could tell)."""
    names: list[str] = msgspec.field(default_factory=list)
    """A few of those that show it, the worst first."""
    surged: list[tuple[str, float]] = msgspec.field(default_factory=list)
    """Other tenants whose call rate at the window's start was `NOISY_FACTOR` × their usual, and by how much."""


def first_serving(sig: Sig) -> float | None:
    return min((t for t, v in sig.rate if math.isfinite(v) and v > 0), default=None)


def version(f: Finding, ts: ToolSignals, frame: Frame) -> tuple[str, float] | None:
    """(version, when it began serving) when `f` is confined to one version that began near its start."""
    if f.kind not in ("latency", "errors") or len(ts.versions) < 2:
        return None
    calls = {v: total(w.between(s.rate, f.start, f.end), frame.step) for v, s in ts.versions.items()}
    all_calls = sum(calls.values())
    if all_calls <= 0:
        return None
    line = f.threshold if f.kind == "latency" else None
    hot = {v: hot_in(f, s, frame, line) for v, s in ts.versions.items()}
    candidates = [v for v in ts.versions if hot[v] and calls[v] > 0]
    if not candidates:
        return None
    v = max(candidates, key=lambda x: calls[x])
    if any(hot[u] and calls[u] >= MIN_SHARE * all_calls for u in ts.versions if u != v):
        return None
    began = first_serving(ts.versions[v])
    if began is None or began <= frame.baseline_start + 2 * frame.step:
        return None  # serving since before the data began: not a deploy seen here
    if abs(began - f.start) > max(DEPLOY_TOLERANCE_S, 0.25 * f.duration):
        return None
    rest = ts.rest_versions.get(v)
    if rest is not None and hot_in(f, rest, frame, line) is False:
        return None  # the version serves other tenants well: the trouble is the tenant's, not the version's
    return v, began


def noisy(f: Finding, sig: Sig, frame: Frame) -> float | None:
    """How many times its usual rate `sig`'s calls ran at the window's start, where `NOISY_FACTOR` × or more."""
    usual = w.level(*findings.split(sig.rate, frame))
    now = [v for _, v in w.between(sig.rate, f.start, f.start + NOISY_LOOK_S) if math.isfinite(v)]
    if usual and usual > 0 and now and statistics.median(now) >= NOISY_FACTOR * usual:
        return statistics.median(now) / usual
    return None


def scoped(f: Finding, ts: ToolSignals, frame: Frame, tenant: str, fleet: Fleet | None) -> Finding:
    """`f` with its scope, version and the evidence for them (`fleet`: None where Prometheus was not asked)."""
    ev = list(f.evidence)
    dep = version(f, ts, frame)
    hot, told = (fleet.hot, fleet.told) if fleet else (0, 0)
    scope, ver = "tenant", None
    if dep is not None:
        scope, ver = "version", dep[0]
        ev.append(Evidence(signal="prometheus", what="version_began", value=dep[1], unit="time", detail=dep[0]))
    elif told and hot * 2 > told:
        scope = "fleet"
    names = fleet.names if fleet else []
    if told:
        more = f" and {hot - len(names)} more" if hot > len(names) else ""
        ev.append(
            Evidence(
                signal="prometheus",
                what="other_tenants",
                value=hot,
                baseline=told,
                unit="count",
                detail=", ".join(names) + more if names else "",
            )
        )
    if scope == "fleet":
        own = noisy(f, ts.tenant, frame)
        for name, ratio in [*([(tenant, own)] if own else []), *(fleet.surged if fleet else [])]:
            ev.append(Evidence(signal="prometheus", what="noisy_neighbour", value=ratio, unit="x", detail=name))
    return msgspec.structs.replace(f, scope=scope, version=ver, evidence=ev, others=names)
