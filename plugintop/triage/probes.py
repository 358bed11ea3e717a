"""Provides the two questions asked before the first wave, at once: the plugin's scrape interval (every
rate window follows from it) and whether plugintop's recording rules run for it (the fleet's questions
then read them); and `sparse`, whether the tenant's series hold the points that interval implies."""

from __future__ import annotations

import math

from plugintop.config.context import Context
from plugintop.models.prometheus import QueryResult
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.recorded import Recorded
from plugintop.timerange import parse_duration
from plugintop.triage.asking import Asker
from plugintop.triage.request import DEFAULT_SCRAPE_INTERVAL

SAMPLE_SPAN_S = 600.0
PROBE_SHARE = 0.4
"""The share of a call's time limit the probes may take: they come before everything."""

NICE_INTERVALS = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0)
"""Scrape intervals people configure: a spacing within `NICE_SLACK` of one is that one (a missed scrape
or two stretches the measured spacing a little)."""
NICE_SLACK = 0.15


async def scrape_interval(
    asker: Asker, promql: PromQL, ctx: Context, plugin: str, tenant: str, end: float
) -> tuple[float, str]:
    """The scrape interval of the plugin's own series and where it came from: the context's, else the
    spacing of their samples, else the server's global setting. A job's own `scrape_interval` (a
    ServiceMonitor's `interval: 60s` under a 15 s global) is ordinary, so the global one is the last
    resort, not the first. The tenant's own series are asked first (a few, however large the fleet), the
    plugin's when the tenant has none. Unknown: `DEFAULT_SCRAPE_INTERVAL`, with a note."""
    configured = ctx.prometheus.scrape_interval
    prometheus = asker.backends.prometheus
    if configured:
        return parse_duration(configured), "context"
    if prometheus is not None:
        for scope in (Scope(plugin, tenant), Scope(plugin)):
            q = promql.samples_in(scope, f"{SAMPLE_SPAN_S:g}s")
            res = await asker.ask("prometheus", q, prometheus.query(q, end), quiet=True, share=PROBE_SHARE)
            if (spacing := _spacing(res)) is not None:
                return spacing, "sample spacing"
            if "prometheus" in asker.problems:
                break
        if "prometheus" not in asker.problems:
            cfg = await asker.ask("prometheus", None, prometheus.scrape_interval(), quiet=True, share=PROBE_SHARE)
            if cfg:
                return cfg, "server configuration (global)"
    asker.result.notes.append(f"scrape interval not known: {DEFAULT_SCRAPE_INTERVAL:g} s assumed")
    return DEFAULT_SCRAPE_INTERVAL, "assumed"


async def recording_rules(asker: Asker, promql: PromQL, plugin: str, end: float) -> Recorded | None:
    """plugintop's recording rules (`plugintop rules`) when they run for the plugin, with a note; else None
    (the fleet's questions are then asked of the raw series)."""
    prometheus = asker.backends.prometheus
    if prometheus is None:
        return None
    recorded = Recorded(promql)
    q = recorded.probe(plugin)
    res = await asker.ask("prometheus", None, prometheus.query(q, end), quiet=True, share=PROBE_SHARE)
    if res is None or not res.series or not res.series[0].last_value() > 0:
        return None
    asker.result.notes.append(f"the fleet's numbers come from plugintop's recording rules ({recorded.window} rates)")
    return recorded


def _spacing(res: QueryResult | None) -> float | None:
    """The scrape interval from the most samples a series had in SAMPLE_SPAN_S, to the second (or the
    configured-looking interval it is close to); None with fewer than two samples."""
    n = res.series[0].last() if res is not None and res.series else None
    if n is None or not math.isfinite(n) or n < 2:
        return None
    raw = SAMPLE_SPAN_S / n
    nice = min(NICE_INTERVALS, key=lambda v: abs(v - raw) / v)
    return nice if abs(nice - raw) / nice <= NICE_SLACK else float(max(1, round(raw)))


SPARSE = 0.5
"""A tenant's series holding less than this share of the points the range and interval imply are too
sparse for "healthy": scrapes were lost, or the interval is not what it seems."""


def sparse(samples: float | None, range_s: float, scrape_s: float) -> str | None:
    """Why the series are too sparse to call healthy, or None."""
    if samples is None or not math.isfinite(samples) or samples <= 0 or scrape_s <= 0:
        return None
    expected = range_s / scrape_s
    if expected >= 8 and samples < SPARSE * expected:
        return f"series too sparse: {samples:.0f} of {expected:.0f} points"
    return None
