"""Provides `pillar_health`: the newest datum of each telemetry pillar of a plugin, asked of the four
backends at once (a short query each), classified by `analysis.health`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from plugintop.analysis.health import PILLARS, PillarHealth, classify
from plugintop.config.context import Context
from plugintop.errors import BackendError
from plugintop.queries.logql import LogQL
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.pyroscope import profile_query
from plugintop.queries.traceql import TraceQL
from plugintop.timerange import to_ns
from plugintop.triage.connections import Backends

LOOKBACK_S = 3600.0
STEP_S = 30.0


async def pillar_health(
    backends: Backends, ctx: Context, plugin: str, now: float, lookback_s: float = LOOKBACK_S
) -> list[PillarHealth]:
    """One `PillarHealth` per pillar, in `PILLARS` order; a backend's failure makes its pillar unknown."""
    s = ctx.telemetry
    start = now - lookback_s
    b = backends

    async def metrics() -> tuple[float | None, str]:
        assert b.prometheus is not None
        p = PromQL(s)
        samples, up = await asyncio.gather(
            b.prometheus.query_range(p.samples_per_step(Scope(plugin), f"{STEP_S:g}s"), start, now, STEP_S),
            b.prometheus.query(p.targets(plugin), now),
        )
        newest = max((t for series in samples.series for t, v in series.values if v > 0), default=None)
        targets = [v for series in up.series for _, v in series.values[-1:]]
        if not targets:
            detail = "no `up` series carries the plugin's label"
        else:
            detail = f"{sum(1 for v in targets if v == 1)}/{len(targets)} scrape targets up"
        return newest, detail

    async def traces() -> tuple[float | None, str]:
        assert b.tempo is not None
        found = await b.tempo.search(TraceQL(s).tool_spans(plugin, None), start, now, limit=20, spss=1)
        newest = max((t.start_ns / 1e9 + t.duration_ms / 1000 for t in found.traces), default=None)
        return newest, ""

    async def logs() -> tuple[float | None, str]:
        assert b.loki is not None
        page = await b.loki.query_logs(LogQL(s).plugin_selector(plugin), to_ns(start), to_ns(now) + 1, limit=1)
        return (page.entries[0].ts_ns / 1e9 if page.entries else None), ""

    async def profiles() -> tuple[float | None, str]:
        assert b.pyroscope is not None
        _, timeline = await b.pyroscope.render(profile_query(s, plugin), start, now, max_nodes=1)
        if timeline is None:
            return None, ""
        filled = [i for i, v in enumerate(timeline.samples) if v > 0]
        newest = timeline.start + (filled[-1] + 1) * timeline.step if filled else None
        return newest, ""

    probes: dict[str, tuple[object, Callable[[], Awaitable[tuple[float | None, str]]]]] = {
        "metrics": (b.prometheus, metrics),
        "traces": (b.tempo, traces),
        "logs": (b.loki, logs),
        "profiles": (b.pyroscope, profiles),
    }

    async def one(pillar: str) -> PillarHealth:
        client, probe = probes[pillar]
        if client is None:
            return classify(pillar, None, now, lookback_s, "not configured")
        try:
            newest, detail = await probe()
        except BackendError as e:
            return classify(pillar, None, now, lookback_s, f"{e.kind}: {e.message}")
        return classify(pillar, newest, now, lookback_s, detail=detail)

    return list(await asyncio.gather(*(one(p) for p in PILLARS)))
