"""Provides `Triage`: the one orchestrator between the clients and the analysis. Given (plugin,
tenant, range, settings) it runs the backend calls concurrently in the order the workflow needs —
percentiles and SLO first, then the slow window's spans, profile, cost and logs, then the slowest
trace — feeds the analysis, and yields the result after each phase. A failing backend leaves its
parts empty and adds one line to `errors`; the rest goes on. The report awaits it whole; the screen
renders each phase as it lands."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

from plugintop.analysis import flame, traces, window
from plugintop.analysis.cost import summarise_cost
from plugintop.analysis.model import (
    BackendProblem,
    LogsSummary,
    SLOStatus,
    SlowWindow,
    SpanSample,
    ToolStats,
    TraceAnalysis,
    TriageResult,
)
from plugintop.analysis.slo import BURN_WINDOWS, alerts_firing
from plugintop.analysis.verdict import decide
from plugintop.clients.pyroscope import MAX_RANGE_S as PYROSCOPE_MAX_RANGE_S
from plugintop.clients.tempo import MAX_SEARCH_RANGE_S as TEMPO_MAX_RANGE_S
from plugintop.config import Context
from plugintop.connections import Backends
from plugintop.errors import BackendError
from plugintop.models.prometheus import QueryResult
from plugintop.models.pyroscope import FlameGraph
from plugintop.models.tempo import Trace
from plugintop.queries.logql import LogQL
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.pyroscope import label_selector
from plugintop.queries.traceql import TraceQL
from plugintop.timerange import TimeRange, choose_step, format_duration

T = TypeVar("T")
SCRAPE_INTERVAL = 15.0


def rate_window(step: float, scrape: float = SCRAPE_INTERVAL) -> str:
    """Grafana's `$__rate_interval`: max(step + scrape interval, 4 × scrape interval)."""
    return format_duration(max(step + scrape, 4 * scrape))


@dataclass(frozen=True)
class TriageRequest:
    plugin: str
    tenant: str
    range: TimeRange
    p99_target_s: float | None = None
    """Overrides the context's SLO (`--p99-target`, or the demo scenario's)."""
    tool: str | None = None
    """Look only at this tool (the screen's selection)."""
    window: tuple[float, float] | None = None
    """Use this window instead of finding one (the screen's moved window)."""


def _finite(v: float | None) -> float:
    return v if v is not None and math.isfinite(v) else math.nan


class Triage:
    """One triage run."""

    def __init__(self, backends: Backends, ctx: Context, req: TriageRequest) -> None:
        self.b, self.ctx, self.req = backends, ctx, req
        self.s = ctx.telemetry
        self.promql, self.logql, self.traceql = PromQL(self.s), LogQL(self.s), TraceQL(self.s)
        r = req.range
        self.result = TriageResult(req.plugin, req.tenant, r.start, r.end)
        self.step = choose_step(r.duration)
        self.rw = rate_window(self.step)
        for name, err in backends.setup_errors.items():
            self._fail(err, name)

    # ----- plumbing -----------------------------------------------------------------------------
    def _fail(self, e: BackendError, backend: str | None = None) -> None:
        name = backend or e.backend
        if not any(p.backend == name for p in self.result.errors):
            self.result.errors.append(BackendProblem(name, e.message))

    async def _try(self, backend: str, query: str | None, call: Awaitable[T]) -> T | None:
        if query:
            self.result.queries.setdefault(backend, []).append(query)
        try:
            return await call
        except BackendError as e:
            self._fail(e, backend)
            return None

    def _note(self, res: QueryResult | None) -> QueryResult | None:
        if res is not None:
            self.result.notes.extend(f"prometheus: {w}" for w in [*res.warnings, *res.infos][:3])
        return res

    async def _prom_range(self, q: str, start: float | None = None, end: float | None = None) -> QueryResult | None:
        p = self.b.prometheus
        if p is None:
            return None
        r = self.req.range
        return self._note(await self._try("prometheus", q, p.query_range(q, start or r.start, end or r.end, self.step)))

    async def _prom(self, q: str, at: float | None = None) -> QueryResult | None:
        p = self.b.prometheus
        if p is None:
            return None
        return self._note(await self._try("prometheus", q, p.query(q, at or self.req.range.end)))

    # ----- the workflow -------------------------------------------------------------------------
    async def stream(self) -> AsyncIterator[TriageResult]:
        """Yields the result after each phase (percentiles + SLO, window parts, trace + verdict)."""
        await self._percentiles_and_slo()
        yield self.result
        tool, win = self._choose_window()
        if tool is not None or not self.result.tools:
            # without percentiles (Prometheus down or empty) the other backends still look at the whole range
            trace = await self._window_parts(tool, win)
            try:
                yield self.result
                await trace
            finally:
                trace.cancel()
        self._verdict()
        yield self.result

    async def run(self) -> TriageResult:
        """The whole triage."""
        async for _ in self.stream():
            pass
        return self.result

    async def _percentiles_and_slo(self) -> None:
        req, p = self.req, self.promql
        scope = Scope(req.plugin, req.tenant, req.tool)
        whole = format_duration(req.range.duration)
        target = self.ctx.slo.success_target
        jobs: dict[str, Awaitable[QueryResult | None]] = {
            "p50": self._prom_range(p.quantile(0.5, scope, self.rw)),
            "p90": self._prom_range(p.quantile(0.9, scope, self.rw)),
            "p99": self._prom_range(p.quantile(0.99, scope, self.rw)),
            "rate": self._prom_range(p.request_rate(scope, self.rw)),
            "fleet_p99": self._prom_range(p.quantile(0.99, scope.fleet(), self.rw)),
            "tenants_p99": self._prom_range(p.quantile(0.99, scope.fleet(), self.rw, ("tool", "tenant"))),
            "i_p50": self._prom(p.quantile(0.5, scope, whole)),
            "i_p90": self._prom(p.quantile(0.9, scope, whole)),
            "i_p99": self._prom(p.quantile(0.99, scope, whole)),
            "i_rate": self._prom(p.request_rate(scope, whole)),
            "i_success": self._prom(p.success_ratio(scope, whole)),
            "i_fleet_p99": self._prom(p.quantile(0.99, scope.fleet(), whole)),
            "versions": self._prom(p.calls_by_version(scope, whole)),
            "success_30d": self._prom(p.success_ratio(scope.all_tools(), "30d", by=())),
        }
        for w in BURN_WINDOWS:
            jobs[f"burn_{w}"] = self._prom(p.burn_rate(scope.all_tools(), w, target))
            jobs[f"fleet_burn_{w}"] = self._prom(p.burn_rate(scope.all_tools().fleet(), w, target))
        if self.ctx.slo.daily_budget_usd:
            jobs["spend_1d"] = self._prom(p.cost_per_min(scope.all_tools(), "1d"))
        got = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
        self._tools(got)
        self._slo(got)
        self._versions = got.get("versions")

    def _tools(self, got: dict[str, QueryResult | None]) -> None:
        tl = self.s.tool_label

        def by_tool(key: str) -> dict[str, list[tuple[float, float]]]:
            res = got.get(key)
            return {k: s.values for k, s in res.by(tl).items()} if res else {}

        def inst(key: str) -> dict[str, float]:
            res = got.get(key)
            return {k: _finite(s.last()) for k, s in res.by(tl).items()} if res else {}

        p99, p50, fleet, rate = by_tool("p99"), by_tool("p50"), by_tool("fleet_p99"), by_tool("rate")
        i50, i90, i99, irate, isucc, ifleet = (
            inst(k) for k in ("i_p50", "i_p90", "i_p99", "i_rate", "i_success", "i_fleet_p99")
        )
        tools = sorted(set(p99) | set(i99) | set(irate))
        self.result.tools = [
            ToolStats(
                t,
                i50.get(t, math.nan),
                i90.get(t, math.nan),
                i99.get(t, math.nan),
                irate.get(t, math.nan),
                isucc.get(t, math.nan),
                ifleet.get(t, math.nan),
                p99.get(t, []),
                fleet.get(t, []),
                p50.get(t, []),
                rate.get(t, []),
            )
            for t in tools
        ]
        self._tenants_p99: dict[tuple[str, str], list[tuple[float, float]]] = {}
        res = got.get("tenants_p99")
        if res:
            for s in res.series:
                self._tenants_p99[(s.metric.get(tl, ""), s.metric.get(self.s.tenant_label, ""))] = s.values
        prom_ok = not any(e.backend == "prometheus" for e in self.result.errors)
        self.result.has_data = bool(tools) or not prom_ok

    def _slo(self, got: dict[str, QueryResult | None]) -> None:
        def scalar(key: str) -> float | None:
            res = got.get(key)
            if res is None or not res.series:
                return None
            v = res.series[0].last()
            return v if v is not None and math.isfinite(v) else None

        burn = {w: v for w in BURN_WINDOWS if (v := scalar(f"burn_{w}")) is not None}
        fleet = {w: v for w in BURN_WINDOWS if (v := scalar(f"fleet_burn_{w}")) is not None}
        if self.b.prometheus is None or (not burn and any(e.backend == "prometheus" for e in self.result.errors)):
            return
        spend = scalar("spend_1d")
        self.result.slo = SLOStatus(
            success_ratio_30d=scalar("success_30d"),
            burn_rate=burn,
            alerts_firing=alerts_firing(burn),
            fleet_burn_rate=fleet,
            fleet_alerts_firing=alerts_firing(fleet),
            target=self.ctx.slo.success_target,
            llm_spend_1d_usd=spend * 60 * 24 if spend is not None else None,
            daily_budget_usd=self.ctx.slo.daily_budget_usd,
        )

    def _target(self, tool: str) -> float | None:
        if self.req.p99_target_s is not None:
            return self.req.p99_target_s
        return self.ctx.slo.p99_target_s(tool)

    def _choose_window(self) -> tuple[str | None, tuple[float, float]]:
        """The slow window (worst across tools), or the whole range for the slowest tool."""
        r = self.req.range
        best: tuple[window.Stretch, ToolStats, float | None, float] | None = None
        for ts in self.result.tools:
            target = self._target(ts.tool)
            thr = window.threshold_for(ts.p99_series, target)
            if thr is None:
                continue
            step = window.infer_step(ts.p99_series, self.step)
            w = window.worst(window.stretches(ts.p99_series, thr, step))
            if w is not None and (best is None or w.excess > best[0].excess):
                best = (w, ts, target, thr)
        if self.req.window is not None:
            ws, we = self.req.window
            tool = self.req.tool or (best[1].tool if best else self._slowest_tool())
            if tool is None:
                return None, (ws, we)
            ts = next(t for t in self.result.tools if t.tool == tool)
            peak = window.peak_in(ts.p99_series, ws, we) or math.nan
            self.result.slow_window = SlowWindow(ws, we, tool, peak, self._target(tool))
            return tool, (ws, we)
        if best is None:
            return self._slowest_tool(), (r.start, r.end)
        stretch, ts, target, thr = best
        ws, we = max(r.start, stretch.start), min(r.end, stretch.end)
        if we <= ws:  # the backend answered points outside the range asked: do not trust them for a window
            self.result.notes.append("prometheus answered points outside the range; no slow window taken from them")
            return ts.tool, (r.start, r.end)
        outside = [(t, v) for t, v in ts.p99_series if not ws <= t <= we]
        others = sorted(
            {tenant for (tool, tenant) in self._tenants_p99 if tool == ts.tool and tenant != self.req.tenant}
        )
        slow_others = [o for o in others if (window.peak_in(self._tenants_p99[(ts.tool, o)], ws, we) or 0) > thr]
        self.result.slow_window = SlowWindow(
            ws,
            we,
            ts.tool,
            stretch.peak,
            target,
            window.median_in(outside, r.start, r.end),
            slow_others,
            others,
            self._version_note(),
        )
        return ts.tool, (ws, we)

    def _slowest_tool(self) -> str | None:
        finite = [t for t in self.result.tools if math.isfinite(t.p99_s)]
        return max(finite, key=lambda t: t.p99_s).tool if finite else None

    def _version_note(self) -> str | None:
        res = getattr(self, "_versions", None)
        if not isinstance(res, QueryResult):
            return None
        rates = {s.metric.get(self.s.version_label, "?"): _finite(s.last()) for s in res.series}
        rates = {k: v for k, v in rates.items() if v > 0}
        if len(rates) < 2:
            return None
        total = sum(rates.values())
        return "versions in range: " + ", ".join(f"{k} ({v / total * 100:.0f} %)" for k, v in sorted(rates.items()))

    async def _window_parts(self, tool: str | None, win: tuple[float, float]) -> asyncio.Task[None]:
        """Everything about the window, each part analysed as soon as its answers are in: spans first
        (exemplars and a Tempo search), and the slowest one's trace fetched at once, without waiting
        for the slower parts (profiles, logs); returns when all but that trace are done, with the
        trace's task still running."""
        req, p, s = self.req, self.promql, self.s
        ws, we = win
        dur = max(we - ws, 60.0)
        d = format_duration(dur)
        scope = Scope(req.plugin, req.tenant, tool)
        ts = next((t for t in self.result.tools if t.tool == tool), None)
        if ts is not None:
            cut = window.median_in(ts.p99_series, ws, we) or _finite(ts.p99_s)
        else:
            cut = (self._target(tool) if tool else self.req.p99_target_s) or 0.0
        cut = cut if math.isfinite(cut) else 0.0
        spans: dict[str, Awaitable[object]] = {}
        jobs: dict[str, Awaitable[object]] = {}
        if self.b.prometheus:
            spans["exemplars"] = self._try(
                "prometheus", p.buckets(scope), self.b.prometheus.exemplars(p.buckets(scope), ws, we)
            )
        for key, q, at in (
            ("usd", p.cost_per_min(scope, d), we),
            ("base_usd", p.cost_per_min(scope, d), ws),
            ("tokens", p.tokens_per_min(scope, d), we),
            ("base_tokens", p.tokens_per_min(scope, d), ws),
            ("calls", p.request_rate(scope, d, by=()), we),
            ("base_calls", p.request_rate(scope, d, by=()), ws),
            ("success", p.success_ratio(scope, d, by=()), we),
        ):
            jobs[key] = self._prom(q, at)
        if self.b.tempo:
            spans["search"] = self._search(tool, cut, win, limit=20)
        ps = self._limit(ws, we, PYROSCOPE_MAX_RANGE_S, "profile") if self.b.pyroscope else ws
        pdur = we - ps
        if self.b.pyroscope:
            sel = label_selector(s, req.plugin)
            q = f"{s.profile_type}{sel}"
            jobs["profile"] = self._profile(
                self._try("pyroscope", q, self.b.pyroscope.flamegraph(s.profile_type, sel, ps, we)),
                self._try("pyroscope", None, self.b.pyroscope.flamegraph(s.profile_type, sel, ps - pdur, ps)),
                (ps, we),
                (ps - pdur, ps),
            )
        if self.b.loki:
            q = self.logql.error_count(req.plugin, req.tenant, d)
            jobs["errors"] = self._try("loki", q, self.b.loki.query_metric(q, we))
            jobs["base_errors"] = self._try("loki", None, self.b.loki.query_metric(q, ws))
        others = asyncio.gather(*jobs.values())
        try:
            sample = await self._spans(tool, ts, win, cut, spans)
            trace = asyncio.create_task(self._trace(tool, win, sample))
        except BaseException:
            others.cancel()
            raise
        try:
            got = dict(zip(jobs, await others, strict=True))
        except BaseException:
            trace.cancel()
            raise
        self._window_success = None
        succ = got.get("success")
        if isinstance(succ, QueryResult) and succ.series:
            self._window_success = _finite(succ.series[0].last())
            if math.isnan(self._window_success):
                self._window_success = None
        self._cost(got)
        self._logs(got)
        return trace

    async def _spans(
        self,
        tool: str | None,
        ts: ToolStats | None,
        win: tuple[float, float],
        cut: float,
        jobs: dict[str, Awaitable[object]],
    ) -> SpanSample | None:
        """The window's slow spans (exemplars, then Tempo's matches); the slowest, whose trace is next."""
        got = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
        self._samples(tool, got, cut)
        if len(self.result.spans) < 5 and self.b.tempo:
            # Tempo returns the first N matches above the threshold, not the slowest; when the window's p99
            # (an interpolated estimate) leaves too few, ask again above its median latency and sort.
            lower = window.median_in(ts.p50_series, *win) if ts is not None else 0.0
            if lower is not None and lower < cut:
                got["search"] = await self._search(tool, lower, win, limit=50)
                self._samples(tool, got, cut, fill=True)
        return self.result.spans[0] if self.result.spans else None

    def _search(
        self, tool: str | None, min_duration_s: float, win: tuple[float, float], limit: int
    ) -> Awaitable[object]:
        """A TraceQL search for the tool's spans slower than `min_duration_s` in `win`, cut to Tempo's
        range limit."""
        assert self.b.tempo is not None
        s = self.s
        q = self.traceql.tool_spans(
            self.req.plugin,
            self.req.tenant,
            tool,
            min_duration_s=min_duration_s,
            select=(s.llm_model_attrs[0], s.llm_cost_attr),
        )
        start = self._limit(*win, TEMPO_MAX_RANGE_S, "tempo search")
        return self._try("tempo", q, self.b.tempo.search(q, start, win[1], limit=limit, spss=1))

    def _limit(self, start: float, end: float, limit: float, what: str) -> float:
        """`start` moved forward so [start, end] fits a backend's range limit, with a note saying so (once)."""
        if end - start <= limit:
            return start
        note = f"{what} limited to the last {limit / 3600:.0f} h of the window (backend limit)"
        if note not in self.result.notes:
            self.result.notes.append(note)
        return end - limit

    def _samples(self, tool: str | None, got: dict[str, object], cut: float, fill: bool = False) -> None:
        """Exemplars above the window's p99 first (they lean to the median), then Tempo's matches;
        with `fill`, the slowest exemplars below the cut too."""
        out: dict[str, SpanSample] = {}
        ex = got.get("exemplars")
        if isinstance(ex, list):
            flat = sorted(((e, series) for series in ex for e in series.exemplars), key=lambda p: -p[0].value)
            for e, series in flat:
                tid = e.labels.get("trace_id") or e.labels.get("traceID")
                if tid and (e.value >= cut or (fill and len(out) < 10)) and tid not in out:
                    sample_tool = tool or series.series_labels.get(self.s.tool_label, "")
                    out[tid] = SpanSample(
                        tid, e.labels.get("span_id", ""), sample_tool, e.value, "exemplar", e.timestamp
                    )
        found = got.get("search")
        traces_found = getattr(found, "traces", None) or []
        for t in traces_found:
            if t.trace_id in out:
                continue
            span = max(t.spans, key=lambda sp: sp.duration_ns, default=None)
            dur = span.duration_ns / 1e9 if span else t.duration_ms / 1000
            out[t.trace_id] = SpanSample(
                t.trace_id,
                span.span_id if span else "",
                tool or self.s.tool_of_span(self.req.plugin, span.name if span else ""),
                dur,
                "search",
                t.start_ns / 1e9,
            )
        self.result.spans = sorted(out.values(), key=lambda x: -x.duration_s)[:30]

    def _cost(self, got: dict[str, object]) -> None:
        m = self.s.model_label

        def per_model(key: str) -> dict[str, float]:
            res = got.get(key)
            out: dict[str, float] = {}
            if isinstance(res, QueryResult):
                for s in res.series:
                    v = _finite(s.last())
                    if math.isfinite(v):
                        out[s.metric.get(m, "?")] = out.get(s.metric.get(m, "?"), 0.0) + v
            return out

        def scalar(key: str) -> float:
            res = got.get(key)
            return _finite(res.series[0].last()) * 60 if isinstance(res, QueryResult) and res.series else math.nan

        if not isinstance(got.get("tokens"), QueryResult):
            return
        usd, base_usd = per_model("usd"), per_model("base_usd")
        self.result.cost = summarise_cost(
            usd,
            base_usd,
            per_model("tokens"),
            per_model("base_tokens"),
            scalar("calls"),
            scalar("base_calls"),
            "metrics" if usd or base_usd else "none",
        )

    async def _profile(
        self,
        flame_graph: Awaitable[FlameGraph | None],
        base_graph: Awaitable[FlameGraph | None],
        win: tuple[float, float],
        base: tuple[float, float],
    ) -> None:
        """The window's profile against its baseline, analysed as soon as both are in."""
        fg, bfg = await asyncio.gather(flame_graph, base_graph)
        if isinstance(fg, FlameGraph):
            self.result.flame_nodes = flame.decode(fg)
            self.result.profile = flame.summarise(
                fg, bfg if isinstance(bfg, FlameGraph) else None, win, base, nodes=self.result.flame_nodes
            )

    def _logs(self, got: dict[str, object]) -> None:
        def count(key: str) -> int | None:
            res = got.get(key)
            if not isinstance(res, QueryResult):
                return None
            return int(sum(_finite(s.last()) for s in res.series if math.isfinite(_finite(s.last()))))

        errors, base = count("errors"), count("base_errors")
        if errors is not None:  # the slowest trace's lines may be in already
            lines = self.result.logs.trace_lines if self.result.logs else []
            self.result.logs = LogsSummary(errors, base or 0, lines)

    async def _trace(self, tool: str | None, win: tuple[float, float], sample: SpanSample | None) -> None:
        if sample is None or self.b.tempo is None:
            return
        req = self.req
        jobs: dict[str, Awaitable[object]] = {
            "trace": self._try("tempo", None, self.b.tempo.trace(sample.trace_id, win[0] - 3600, win[1] + 3600)),
        }
        if self.b.loki:
            q = self.logql.trace_lines(req.plugin, req.tenant, sample.trace_id)
            jobs["lines"] = self._try(
                "loki", q, self.b.loki.query_logs(q, win[0] - 300, win[1] + 300, limit=100, direction="forward")
            )
        got = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
        trace = got.get("trace")
        if isinstance(trace, Trace):
            self.result.trace = traces.analyse(trace, self.s, req.plugin, tool)
        page = got.get("lines")
        entries = getattr(page, "entries", None)
        if entries is not None:
            lines = [e.line for e in entries]
            if self.result.logs is None:
                self.result.logs = LogsSummary(0, 0, lines)
            else:
                self.result.logs = LogsSummary(
                    self.result.logs.error_lines, self.result.logs.baseline_error_lines, lines
                )

    def _verdict(self) -> None:
        r = self.result
        r.verdict = decide(
            r.slow_window,
            r.trace,
            r.profile,
            r.cost,
            r.slo,
            getattr(self, "_window_success", None),
            self.ctx.slo.success_target,
        )


async def analyse_trace(
    backends: Backends,
    ctx: Context,
    plugin: str,
    tool: str | None,
    trace_id: str,
    near: tuple[float, float] | None = None,
) -> TraceAnalysis:
    """Fetches one trace and analyses it (the screen's `enter` on a span).

    Raises:
        BackendError: Tempo is not configured or failed.
    """
    if backends.tempo is None:
        raise BackendError("tempo", backends.setup_errors.get("tempo", BackendError("tempo", "not configured")).message)
    lo, hi = (near[0] - 3600, near[1] + 3600) if near else (None, None)
    trace = await backends.tempo.trace(trace_id, lo, hi)
    return traces.analyse(trace, ctx.telemetry, plugin, tool)


async def new_slow_spans(
    backends: Backends,
    ctx: Context,
    plugin: str,
    tenant: str,
    tool: str | None,
    threshold_s: float,
    since: float,
    until: float,
) -> list[SpanSample]:
    """Tool spans of the tenant slower than `threshold_s` that started in [since, until], slowest first
    (reproduce mode polls this while the user reproduces).

    Raises:
        BackendError: Tempo failed.
    """
    if backends.tempo is None:
        raise BackendError("tempo", "not configured")
    q = TraceQL(ctx.telemetry).tool_spans(plugin, tenant, tool, min_duration_s=threshold_s)
    found = await backends.tempo.search(q, since, max(until, since + 1), limit=50, spss=1)
    out = []
    for t in found.traces:
        span = max(t.spans, key=lambda sp: sp.duration_ns, default=None)
        out.append(
            SpanSample(
                t.trace_id,
                span.span_id if span else "",
                tool or "",
                (span.duration_ns / 1e9) if span else t.duration_ms / 1000,
                "search",
                t.start_ns / 1e9,
            )
        )
    return sorted(out, key=lambda s: -s.duration_s)
