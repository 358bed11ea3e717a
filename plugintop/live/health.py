"""Provides `pillar_health`: the newest datum of each telemetry pillar of a plugin, asked of the four
backends at once (a short query each), classified by `analysis.health`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from plugintop.analysis.health import PILLARS, STALE_AFTER_S, PillarHealth, classify
from plugintop.clients.prometheus import PrometheusClient
from plugintop.clients.tempo import TempoClient
from plugintop.config.context import Context
from plugintop.connect.backends import Backends
from plugintop.errors import BackendError
from plugintop.models.prometheus import QueryResult
from plugintop.models.tempo import SearchResult
from plugintop.queries.logql import LogQL
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.pyroscope import profile_query
from plugintop.queries.traceql import TraceQL
from plugintop.timerange import format_duration, to_ns

LOOKBACK_S = 3600.0
STEP_S = 30.0


TRACE_WINDOWS_S = (60.0, STALE_AFTER_S["traces"])
"""The Tempo searches for the newest trace, each ending now, the shortest first (then the whole lookback):
a search returns at most a page of the traces in its range, not the newest (Tempo's can be the oldest), so
a range ending now is what finds recent spans."""
PAGE = 20
REFINE = 4
"""Searches after a full page, each from halfway between its latest start and now, to now: traces newer
than that page (each halves how stale the answer can be)."""


async def newest_trace(tempo: TempoClient, query: str, now: float, lookback_s: float) -> float | None:
    """When the newest trace matching `query` ended (None: none in `lookback_s`), searched in ranges that
    end now (`TRACE_WINDOWS_S`)."""
    res = SearchResult(traces=[])
    for since in (*(w for w in TRACE_WINDOWS_S if w < lookback_s), lookback_s):
        res = await tempo.search(query, now - since, now, limit=PAGE, spss=1)
        if res.traces:
            break
    if not res.traces:
        return None
    newest = max(t.start_ns / 1e9 + t.duration_ms / 1000 for t in res.traces)
    for _ in range(REFINE):  # a full page may be the oldest of its range: halve what lies after it
        after = max(t.start_ns for t in res.traces) / 1e9
        if len(res.traces) + res.invalid_ids < PAGE or now - after < 2:
            break
        res = await tempo.search(query, (after + now) / 2, now, limit=PAGE, spss=1)
        if not res.traces:
            break
        newest = max([newest, *(t.start_ns / 1e9 + t.duration_ms / 1000 for t in res.traces)])
    return newest


async def scrape_detail(prometheus: PrometheusClient, p: PromQL, found: QueryResult, now: float) -> str:
    """The plugin's scrape targets (`found`: the job/instance pairs of its series) and how many are up,
    from `up` of exactly those targets."""
    pairs = sorted({(x.metric.get("job", ""), x.metric.get("instance", "")) for x in found.series} - {("", "")})
    if not pairs:
        return "no `up` series: the plugin's series carry no job/instance (pushed, not scraped?)"
    res = await prometheus.query(p.up(pairs), now)
    up = {(x.metric.get("job", ""), x.metric.get("instance", "")): x.last() for x in res.series}
    seen = [pair for pair in pairs if up.get(pair) is not None]
    if not seen:
        return f"no `up` series for its {len(pairs)} scrape target(s)"
    down = [f"{j}/{i}" for j, i in pairs if up.get((j, i)) != 1]
    out = f"{sum(1 for pair in pairs if up.get(pair) == 1)}/{len(pairs)} scrape targets up"
    if down:
        out += f" (down or not scraped: {', '.join(down[:3])}{', …' if len(down) > 3 else ''})"
    return out


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
        samples, found = await asyncio.gather(
            b.prometheus.query_range(p.samples_per_step(Scope(plugin), f"{STEP_S:g}s"), start, now, STEP_S),
            b.prometheus.query(p.scrape_targets(plugin, format_duration(lookback_s)), now),
        )
        newest = max((t for series in samples.series for t, v in series.values if v > 0), default=None)
        return newest, await scrape_detail(b.prometheus, p, found, now)

    async def traces() -> tuple[float | None, str]:
        assert b.tempo is not None
        return await newest_trace(b.tempo, TraceQL(s).tool_spans(plugin, None), now, lookback_s), ""

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
