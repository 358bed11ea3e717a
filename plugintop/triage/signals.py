"""Provides the triage's first wave: the percentiles, SLO figures and per-tool signal series (the
tenant's, the rest of the fleet's together, and each version of the tenant's calls) over the range and an
equal stretch before it, all asked of Prometheus at once: a handful of series per tool however many
tenants there are. Nothing here decides anything: it fetches and sorts."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from plugintop.analysis.model import Points, SLOStatus, ToolStats
from plugintop.analysis.signals import Sig, ToolSignals
from plugintop.analysis.slo import BURN_WINDOWS, alerts_firing
from plugintop.analysis.window import between, ratio
from plugintop.models.prometheus import QueryResult
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.recorded import RestQL
from plugintop.schema import Schema

RangeQuery = Callable[[str, float, float, float], Awaitable[QueryResult | None]]
InstantQuery = Callable[[str], Awaitable[QueryResult | None]]


@dataclass(kw_only=True)
class Wave:
    """What the first wave found."""

    tools: list[ToolStats] = field(default_factory=list)
    signals: list[ToolSignals] = field(default_factory=list)
    slo: SLOStatus | None = None
    spend_1d_usd: float | None = None
    answered: bool = False
    """Prometheus answered the series queries (even if with nothing)."""
    samples: float | None = None
    """The most raw samples any of the tenant's call-counter series holds over the range (None: not asked)."""


def _by(res: QueryResult | None, *labels: str) -> dict[tuple[str, ...], Points]:
    if res is None:
        return {}
    return {tuple(s.metric.get(lb, "") for lb in labels): s.values for s in res.series}


def _last(res: QueryResult | None, label: str) -> dict[str, float]:
    if res is None:
        return {}
    return {s.metric.get(label, ""): s.last_value() for s in res.series}


def _active_rate(points: Points, whole: float) -> float:
    """Calls per second over the time the tool had calls (a tool that began half-way through the range
    is not averaged over the half before it); `whole` (the whole range's) without a series."""
    active = [v for _, v in points if math.isfinite(v) and v > 0]
    return sum(active) / len(active) if active else whole


def _scalar(res: QueryResult | None) -> float | None:
    if res is None or not res.series:
        return None
    v = res.series[0].last_value()
    return None if math.isnan(v) else v


async def first_wave(
    *,
    promql: PromQL,
    schema: Schema,
    scope: Scope,
    start: float,
    end: float,
    baseline_start: float,
    rate_window: str,
    step: float,
    series_step: float,
    whole: str,
    success_target: float,
    daily_budget_usd: float | None,
    targets: Callable[[str], float | None],
    range_query: RangeQuery,
    instant: InstantQuery,
    rest: RestQL,
) -> Wave:
    """Every first-wave query at once; `range_query(q, start, end, step)` and `instant(q)` ask Prometheus
    (None on failure). The signal series reach back an equal stretch before `start` for the baselines, at
    `series_step` (as many points as the shown series have at `step` over the range alone). `rest` asks
    about the rest of the fleet (from the raw series, or from plugintop's recording rules)."""
    p, rw = promql, rate_window
    tv = ("tool", "version")
    ranged = {
        "p50": (p.quantile(0.5, scope, rw), start),
        "fleet_p99": (rest.quantile(0.99, scope, rw, ranged=True), start),
        "p99_t": (p.quantile(0.99, scope, rw), baseline_start),
        "rate_t": (p.request_rate(scope, rw), baseline_start),
        "fail_t": (p.failure_rate(scope, rw), baseline_start),
        "usd_t": (p.cost_rate(scope, rw), baseline_start),
        "tokens_t": (p.token_rate(scope, rw), baseline_start),
        "rate_r": (rest.rate(scope, rw, ranged=True, by=("tool",)), baseline_start),
        "rate_tv": (p.request_rate(scope, rw, tv), baseline_start),
        "fail_tv": (p.failure_rate(scope, rw, tv), baseline_start),
        "rate_rv": (rest.rate(scope, rw, ranged=True, by=tv), baseline_start),
        "fail_rv": (rest.rate(scope, rw, ranged=True, by=tv, failed=True), baseline_start),
    }
    instants = {
        "i_p50": p.quantile(0.5, scope, whole),
        "i_p90": p.quantile(0.9, scope, whole),
        "i_p99": p.quantile(0.99, scope, whole),
        "i_rate": p.request_rate(scope, whole),
        "i_success": p.success_ratio(scope, whole),
        "i_fleet_p99": rest.quantile(0.99, scope, whole, ranged=False),
        "success_30d": p.success_ratio(scope.all_tools(), "30d", by=()),
        "samples": p.samples_in(scope, whole),
    }
    for w in BURN_WINDOWS:
        instants[f"burn_{w}"] = p.burn_rate(scope.all_tools(), w, success_target)
        instants[f"fleet_burn_{w}"] = rest.burn_rate(scope.all_tools(), w, success_target)
    if daily_budget_usd:
        instants["spend_1d"] = p.cost_per_min(scope.all_tools(), "1d")
    jobs: list[Awaitable[QueryResult | None]] = [
        range_query(q, a, end, step if a == start else series_step) for q, a in ranged.values()
    ]
    jobs += [instant(q) for q in instants.values()]
    answers = await asyncio.gather(*jobs)
    r = dict(zip([*ranged, *instants], answers, strict=True))
    return _sorted(r, schema, scope, start, end, success_target, daily_budget_usd, targets)


def _sorted(
    r: dict[str, QueryResult | None],
    s: Schema,
    scope: Scope,
    start: float,
    end: float,
    success_target: float,
    daily_budget_usd: float | None,
    targets: Callable[[str], float | None],
) -> Wave:
    tl, vl = s.tool_label, s.version_label
    by_t = {k: _by(r[k], tl) for k in ("rate_t", "fail_t", "usd_t", "tokens_t", "rate_r")}
    by_t["p99_t"] = _by(r["p99_t"], tl)
    by_t["p50_t"] = _by(r["p50"], tl)
    by_tv = {k: _by(r[k], tl, vl) for k in ("rate_tv", "fail_tv", "rate_rv", "fail_rv")}

    def sig(src: dict[str, dict[tuple[str, ...], Points]], key: tuple[str, ...], suffix: str) -> Sig:
        return Sig(
            p99=src.get(f"p99_{suffix}", {}).get(key, []),
            p50=src.get(f"p50_{suffix}", {}).get(key, []),
            rate=src.get(f"rate_{suffix}", {}).get(key, []),
            failures=src.get(f"fail_{suffix}", {}).get(key, []),
            usd=src.get(f"usd_{suffix}", {}).get(key, []),
            tokens=src.get(f"tokens_{suffix}", {}).get(key, []),
        )

    tools_seen = sorted({k[0] for key in ("rate_t", "p99_t") for k in by_t[key]})
    signals = []
    for tool in tools_seen:
        versions = sorted({k[1] for k in by_tv["rate_tv"] if k[0] == tool})
        rest_versions = sorted({k[1] for k in by_tv["rate_rv"] if k[0] == tool})
        signals.append(
            ToolSignals(
                tool=tool,
                tenant=sig(by_t, (tool,), "t"),
                rest=Sig(rate=by_t["rate_r"].get((tool,), [])),
                versions={v: sig(by_tv, (tool, v), "tv") for v in versions},
                rest_versions={v: sig(by_tv, (tool, v), "rv") for v in rest_versions},
                p99_target_s=targets(tool),
            )
        )
    i50, i90, i99, irate, isucc, ifleet = (
        _last(r[k], tl) for k in ("i_p50", "i_p90", "i_p99", "i_rate", "i_success", "i_fleet_p99")
    )
    p50 = {k[0]: v for k, v in _by(r["p50"], tl).items()}
    fleet = {k[0]: v for k, v in _by(r["fleet_p99"], tl).items()}
    by_tool = {ts.tool: ts for ts in signals}
    names = sorted(set(by_tool) | set(i99) | set(irate))
    tools = []
    for t in names:
        ts = by_tool.get(t)
        own = ts.tenant if ts else Sig()
        in_range = between(own.rate, start, end)
        if not any(math.isfinite(v) for _, v in in_range) and t not in irate and t not in i99:
            continue
        tools.append(
            ToolStats(
                tool=t,
                p50_s=i50.get(t, math.nan),
                p90_s=i90.get(t, math.nan),
                p99_s=i99.get(t, math.nan),
                rate_per_s=_active_rate(in_range, irate.get(t, math.nan)),
                success_ratio=isucc.get(t, math.nan),
                fleet_p99_s=ifleet.get(t, math.nan),
                p99_series=between(own.p99, start, end),
                fleet_p99_series=fleet.get(t, []),
                p50_series=p50.get(t, []),
                rate_series=in_range,
                error_series=ratio(between(own.failures, start, end), in_range) if r["fail_t"] is not None else [],
            )
        )
    series_keys = ("p50", "fleet_p99", "p99_t", "rate_t", "fail_t", "rate_tv", "fail_tv")
    answered = any(r[k] is not None for k in series_keys)
    samples = r["samples"]
    return Wave(
        samples=(samples.series[0].last_value() if samples.series else 0.0) if samples is not None else None,
        tools=tools,
        signals=[ts for ts in signals if ts.tool in {t.tool for t in tools}],
        slo=_slo(r, success_target, daily_budget_usd),
        spend_1d_usd=(v * 60 * 24 if (v := _scalar(r.get("spend_1d"))) is not None else None),
        answered=answered,
    )


async def latency_detail(
    *,
    promql: PromQL,
    schema: Schema,
    scope: Scope,
    baseline_start: float,
    end: float,
    rate_window: str,
    series_step: float,
    range_query: RangeQuery,
    signals: ToolSignals,
    rest: RestQL,
) -> None:
    """The p99 of the tool's calls by version (the tenant's and the rest of the fleet's), into `signals`:
    asked only for a latency finding's tool where more than one version served (histograms by version
    are among the dearest queries of a triage)."""
    p, tv = promql, ("tool", "version")
    tool = Scope(scope.plugin, scope.tenant, signals.tool)
    if len(signals.versions) < 2:
        return
    queries = [p.quantile(0.99, tool, rate_window, tv), rest.quantile(0.99, tool, rate_window, ranged=True, by=tv)]
    got = await asyncio.gather(*(range_query(q, baseline_start, end, series_step) for q in queries))
    vl = schema.version_label
    for res, into in zip(got, (signals.versions, signals.rest_versions), strict=True):
        for (version,), points in _by(res, vl).items():
            if version in into:
                into[version].p99 = points


def _slo(r: dict[str, QueryResult | None], target: float, daily_budget_usd: float | None) -> SLOStatus | None:
    burn = {w: v for w in BURN_WINDOWS if (v := _scalar(r[f"burn_{w}"])) is not None}
    fleet = {w: v for w in BURN_WINDOWS if (v := _scalar(r[f"fleet_burn_{w}"])) is not None}
    if all(r[f"burn_{w}"] is None for w in BURN_WINDOWS):
        return None  # Prometheus did not answer: the SLO is unknown, not fine
    spend = _scalar(r.get("spend_1d"))
    return SLOStatus(
        success_ratio_30d=_scalar(r["success_30d"]),
        burn_rate=burn,
        alerts_firing=alerts_firing(burn),
        fleet_burn_rate=fleet,
        fleet_alerts_firing=alerts_firing(fleet),
        target=target,
        llm_spend_1d_usd=spend * 60 * 24 if spend is not None else None,
        daily_budget_usd=daily_budget_usd,
    )
