"""Provides `business_metrics`: the plugin's own metrics for the tenant, found by name (`{plugin}_…`)
in Prometheus' series, each asked for the window and the baseline, for the tenant and for the rest of
the fleet (four instant queries a metric, all at once)."""

from __future__ import annotations

import asyncio
import math

from plugintop.analysis.business import kind_of
from plugintop.analysis.model import BusinessMetric
from plugintop.clients.prometheus import PrometheusClient
from plugintop.queries.promql import PromQL
from plugintop.timerange import format_duration
from plugintop.triage.asking import Asker

MAX_METRICS = 8
"""Business metrics asked about (the first by name): a plugin with hundreds gets a note, not a flood."""


async def business_names(
    prometheus: PrometheusClient, promql: PromQL, plugin: str, tenant: str | None, start: float, end: float
) -> dict[str, str]:
    """The plugin's business metrics (name → `counter` or `gauge`) with series for the tenant (None: any)
    in [start, end]: named with the plugin's prefix; the platform's own metrics and the series the SDKs
    write beside a metric (`_created`, `_bucket`, `_sum`, `_count`, `_info`, `target_info`) left out, by
    the query and again here (a server may not apply every matcher).

    Raises:
        BackendError: Prometheus failed.
    """
    s = promql.s
    rows = await prometheus.series([promql.business_metrics(plugin, tenant)], start, end)
    own = {s.duration_metric + x for x in ("_bucket", "_sum", "_count")} | {s.tokens_metric, s.cost_metric}
    names = {r.get("__name__", "") for r in rows} - own - {""}
    return {n: k for n in sorted(names) if (k := kind_of(n)) is not None}


async def business_metrics(
    asker: Asker,
    promql: PromQL,
    plugin: str,
    tenant: str,
    window: tuple[float, float],
    baseline: tuple[float, float],
    series_start: float,
) -> tuple[list[BusinessMetric], int]:
    """The business metrics (at most `MAX_METRICS`) and how many were found in all."""
    p = asker.backends.prometheus
    if p is None:
        return [], 0
    found = await asker.ask(
        "prometheus", None, business_names(p, promql, plugin, tenant, series_start, window[1]), quiet=True
    )
    kinds = found or {}
    picked = sorted(kinds)[:MAX_METRICS]

    async def value(metric: str, span: tuple[float, float], rest: bool) -> float | None:
        length = max(60.0, span[1] - span[0])
        counter = kinds[metric] == "counter"
        q = promql.business_value(metric, tenant, format_duration(length), counter, rest)
        res = await asker.ask("prometheus", q, p.query(q, span[1]), quiet=True)
        v = res.series[0].last_value() if res is not None and res.series else math.nan
        if not math.isfinite(v):
            return None
        return v / (length / 60) if counter else v

    async def one(metric: str) -> BusinessMetric:
        w, b, fw, fb = await asyncio.gather(
            value(metric, window, False),
            value(metric, baseline, False),
            value(metric, window, True),
            value(metric, baseline, True),
        )
        return BusinessMetric(name=metric, kind=kinds[metric], window=w, baseline=b, fleet_window=fw, fleet_baseline=fb)

    return list(await asyncio.gather(*(one(m) for m in picked))), len(kinds)
