"""Provides the drill-down into one window: slow spans (exemplars, then Tempo), the slowest one's trace
and log lines, the profile against its baseline, cost, error-line counts, the error lines' patterns and
the failing spans. Each part is analysed as soon as its answers are in."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from dataclasses import dataclass, field

from plugintop.analysis import flame, traces
from plugintop.analysis.cost import summarise_cost
from plugintop.analysis.model import Evidence, LogsSummary, Pattern, SpanSample, ToolStats
from plugintop.analysis.patterns import field_of, grouped, with_loki
from plugintop.analysis.window import median_in
from plugintop.clients.pyroscope import MAX_RANGE_S as PYROSCOPE_MAX_RANGE_S
from plugintop.clients.tempo import MAX_SEARCH_RANGE_S as TEMPO_MAX_RANGE_S
from plugintop.ids import TraceId
from plugintop.models.loki import LogEntry, LogPage, LogPattern
from plugintop.models.prometheus import ExemplarSeries, QueryResult, invalid_ids
from plugintop.models.pyroscope import FlameGraph
from plugintop.models.tempo import SearchResult, TraceSummary
from plugintop.queries.logql import LogQL
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.pyroscope import label_selector
from plugintop.queries.traceql import TraceQL, attribute_is
from plugintop.schema import Schema
from plugintop.timerange import format_duration, to_ns
from plugintop.triage.asking import Asker

ERROR_LINES = 1000
"""Error lines fetched per window for the patterns (Loki's patterns, where it has them, count the rest)."""


def sample_of(hit: TraceSummary, tool: str, schema: Schema, plugin: str) -> SpanSample:
    """The one `SpanSample` of a Tempo search hit (its ids checked by the client): its longest matched span."""
    span = max(hit.spans, key=lambda sp: sp.duration_ns, default=None)
    return SpanSample(
        hit.trace_id,
        span.span_id if span else "",
        tool or schema.tool_of_span(plugin, span.name if span else ""),
        span.duration_ns / 1e9 if span else hit.duration_ms / 1000,
        "search",
        hit.start_ns / 1e9,
    )


def line_count(res: QueryResult | None) -> int | None:
    """The lines a LogQL count answered (summed over its series), or None when it was not answered."""
    if res is None:
        return None
    return int(round(sum(v for s in res.series if math.isfinite(v := s.last_value()))))


async def _none() -> None:
    """An answer not asked for (its backend is not configured)."""
    return None


@dataclass(frozen=True, slots=True)
class Costs:
    """The window's and the window before it's cost, tokens and calls per minute."""

    usd: QueryResult | None
    base_usd: QueryResult | None
    tokens: QueryResult | None
    base_tokens: QueryResult | None
    calls: QueryResult | None
    base_calls: QueryResult | None


@dataclass(kw_only=True)
class Found:
    """What the drill-down found beyond what it put in the result."""

    patterns: list[Pattern] = field(default_factory=list)
    failing: list[Evidence] = field(default_factory=list)
    error_lines: Evidence | None = None


class Drill:
    """The drill-down of one triage."""

    def __init__(
        self, asker: Asker, schema: Schema, plugin: str, tenant: str, attribute: tuple[str, str, bool] | None = None
    ) -> None:
        self.asker, self.schema, self.plugin, self.tenant = asker, schema, plugin, tenant
        self.where = attribute_is(*attribute) if attribute is not None else []
        """The conditions the slow spans must meet too (an attribute chosen on the screen)."""
        self.promql, self.logql, self.traceql = PromQL(schema), LogQL(schema), TraceQL(schema)
        self.result = asker.result

    def limit(self, start: float, end: float, limit: float, what: str) -> float:
        """`start` moved forward so [start, end] fits a backend's range limit, with a note saying so (once)."""
        if end - start <= limit:
            return start
        note = f"{what} limited to the last {limit / 3600:.0f} h of the window (backend limit)"
        if note not in self.result.notes:
            self.result.notes.append(note)
        return end - limit

    async def window(
        self, tool: str | None, ts: ToolStats | None, win: tuple[float, float], fallback_cut: float
    ) -> asyncio.Task[None]:
        """Everything about the window; returns when all but the slowest trace are in (its task goes on)."""
        promql, backends = self.promql, self.asker.backends
        ws, we = win
        d = format_duration(max(we - ws, 60.0))
        scope = Scope(self.plugin, self.tenant, tool)
        cut = (median_in(ts.p99_series, ws, we) if ts is not None else None) or fallback_cut
        cut = cut if math.isfinite(cut) else 0.0
        q = promql.buckets(scope)
        # an exemplar carries no span attribute: with one to match, the slow spans are Tempo's alone
        exemplars = (
            self.asker.ask("prometheus", q, backends.prometheus.exemplars(q, ws, we))
            if backends.prometheus and not self.where
            else _none()
        )
        search = self.search(tool, cut, win, limit=20) if backends.tempo else _none()
        costs = asyncio.gather(
            *(
                self.asker.prom(q, at)
                for q in (
                    promql.cost_per_min(scope, d),
                    promql.tokens_per_min(scope, d),
                    promql.request_rate(scope, d, by=()),
                )
                for at in (we, ws)
            )
        )
        others = asyncio.gather(
            costs, self.profile(ws, we) if backends.pyroscope else _none(), self.error_counts(d, ws, we)
        )
        try:
            sample = await self.spans(tool, ts, win, cut, exemplars, search)
            trace = asyncio.create_task(self.trace(tool, win, sample))
        except BaseException:
            others.cancel()
            raise
        try:
            (usd, base_usd, tokens, base_tokens, calls, base_calls), _, counts = await others
        except BaseException:
            trace.cancel()
            raise
        self.cost(Costs(usd, base_usd, tokens, base_tokens, calls, base_calls))
        self.logs(counts)
        return trace

    async def error_counts(self, d: str, ws: float, we: float) -> tuple[QueryResult | None, QueryResult | None]:
        """Error-level lines of the tenant in the window and in the window before it (a LogQL metric query)."""
        loki = self.asker.backends.loki
        if loki is None:
            return None, None
        q = self.logql.error_count(self.plugin, self.tenant, d)
        now, before = await asyncio.gather(
            self.asker.ask("loki", q, loki.query_metric(q, we)), self.asker.ask("loki", None, loki.query_metric(q, ws))
        )
        return now, before

    async def spans(
        self,
        tool: str | None,
        ts: ToolStats | None,
        win: tuple[float, float],
        cut: float,
        exemplars: Awaitable[list[ExemplarSeries] | None],
        search: Awaitable[SearchResult | None],
    ) -> SpanSample | None:
        """The window's slow spans (exemplars, then Tempo's matches); the slowest, whose trace is next."""
        ex, found = await asyncio.gather(exemplars, search)
        self.samples(tool, ex, found, cut)
        if len(self.result.spans) < 5 and self.asker.backends.tempo:
            # Tempo returns the first N matches above the threshold, not the slowest; when the window's p99
            # (an interpolated estimate) leaves too few, ask again above its median latency and sort.
            lower = median_in(ts.p50_series, *win) if ts is not None else 0.0
            if lower is not None and lower < cut:
                found = await self.search(tool, lower, win, limit=50)
                self.samples(tool, ex, found, cut, fill=True)
        return self.result.spans[0] if self.result.spans else None

    def search(
        self, tool: str | None, min_s: float | None, win: tuple[float, float], limit: int, failed: bool = False
    ) -> Awaitable[SearchResult | None]:
        """A TraceQL search for the tool's spans slower than `min_s` (or failed) in `win`."""
        assert self.asker.backends.tempo is not None
        s = self.schema
        q = self.traceql.tool_spans(
            self.plugin,
            self.tenant,
            tool,
            min_duration_s=min_s,
            failed=failed,
            select=(s.llm_model_attrs[0], s.llm_cost_attr),
            where=self.where,
        )
        start = self.limit(*win, TEMPO_MAX_RANGE_S, "tempo search")
        return self.asker.ask("tempo", q, self.asker.backends.tempo.search(q, start, win[1], limit=limit, spss=1))

    def samples(
        self,
        tool: str | None,
        ex: list[ExemplarSeries] | None,
        found: SearchResult | None,
        cut: float,
        fill: bool = False,
    ) -> None:
        """Exemplars above the window's p99 first (they lean to the median), then Tempo's matches;
        with `fill`, the slowest exemplars below the cut too."""
        out: dict[str, SpanSample] = {}
        flat = sorted(((e, series) for series in ex or [] for e in series.exemplars), key=lambda p: -p[0].value)
        for e, series in flat:
            tid = e.trace_id  # checked by the client: an exemplar with an invalid id never reaches here
            if tid is not None and (e.value >= cut or (fill and len(out) < 10)) and tid not in out:
                sample_tool = tool or series.series_labels.get(self.schema.tool_label, "")
                out[tid] = SpanSample(tid, e.span_id or "", sample_tool, e.value, "exemplar", e.timestamp)
        if skipped := invalid_ids(ex):
            self.asker.note(f"{skipped} exemplar(s) with an invalid trace id skipped")
        if found is not None and found.invalid_ids:
            self.asker.note(f"{found.invalid_ids} Tempo search hit(s) with an invalid trace id skipped")
        for t in found.traces if found is not None else []:
            if t.trace_id not in out:
                out[t.trace_id] = sample_of(t, tool or "", self.schema, self.plugin)
        self.result.spans = sorted(out.values(), key=lambda x: -x.duration_s)[:30]

    def cost(self, c: Costs) -> None:
        m = self.schema.model_label

        def per_model(res: QueryResult | None) -> dict[str, float]:
            out: dict[str, float] = {}
            for s in res.series if res is not None else []:
                v = s.last_value()
                if math.isfinite(v):
                    out[s.metric.get(m, "?")] = out.get(s.metric.get(m, "?"), 0.0) + v
            return out

        def per_min(res: QueryResult | None) -> float:
            return res.series[0].last_value() * 60 if res is not None and res.series else math.nan

        if c.tokens is None:
            return
        usd, base_usd = per_model(c.usd), per_model(c.base_usd)
        self.result.cost = summarise_cost(
            usd,
            base_usd,
            per_model(c.tokens),
            per_model(c.base_tokens),
            per_min(c.calls),
            per_min(c.base_calls),
            "metrics" if usd or base_usd else "none",
        )

    async def profile(self, ws: float, we: float) -> None:
        """The window's profile against the window of equal length before it, analysed as soon as both are in."""
        py = self.asker.backends.pyroscope
        assert py is not None
        s = self.schema
        ps = self.limit(ws, we, PYROSCOPE_MAX_RANGE_S, "profile")
        dur = we - ps
        sel = label_selector(s, self.plugin)
        fg, bfg = await asyncio.gather(
            self.asker.ask("pyroscope", f"{s.profile_type}{sel}", py.flamegraph(s.profile_type, sel, ps, we)),
            self.asker.ask("pyroscope", None, py.flamegraph(s.profile_type, sel, ps - dur, ps)),
        )
        if isinstance(fg, FlameGraph):
            self.result.flame_nodes = flame.decode(fg)
            self.result.profile = flame.summarise(
                fg,
                bfg if isinstance(bfg, FlameGraph) else None,
                (ps, we),
                (ps - dur, ps),
                nodes=self.result.flame_nodes,
            )

    def logs(self, counts: tuple[QueryResult | None, QueryResult | None]) -> None:
        errors, base = line_count(counts[0]), line_count(counts[1])
        if errors is not None:  # the slowest trace's lines may be in already
            lines = self.result.logs.trace_lines if self.result.logs else []
            self.result.logs = LogsSummary(errors, base or 0, lines)

    async def trace(self, tool: str | None, win: tuple[float, float], sample: SpanSample | None) -> None:
        b = self.asker.backends
        if sample is None or b.tempo is None:
            return
        q = self.logql.trace_lines(self.plugin, self.tenant, sample.trace_id)
        lines = (
            self.asker.ask(
                "loki",
                q,
                b.loki.query_logs(q, to_ns(win[0] - 300), to_ns(win[1] + 300), limit=100, direction="forward"),
            )
            if b.loki
            else _none()
        )
        trace, page = await asyncio.gather(
            self.asker.ask("tempo", None, b.tempo.trace(sample.trace_id, win[0] - 3600, win[1] + 3600)), lines
        )
        if trace is not None:
            self.result.trace = traces.analyse(trace, self.schema, self.plugin, tool)
        if page is not None:
            logs = self.result.logs
            self.result.logs = LogsSummary(
                logs.error_lines if logs else 0,
                logs.baseline_error_lines if logs else 0,
                [e.line for e in page.entries],
            )

    async def error_lines(
        self, tool: str | None, win: tuple[float, float], base: tuple[float, float]
    ) -> tuple[LogPage | None, LogPage | None, list[LogPattern] | None]:
        """The error lines of the window and of the window before it, and Loki's patterns over both."""
        loki = self.asker.backends.loki
        if loki is None:
            return None, None, None
        q = self.logql.error_lines(self.plugin, self.tenant, tool)
        sel = self.logql.selector(self.plugin, self.tenant)
        step = max(10.0, (win[1] - base[0]) / 500)
        return await asyncio.gather(
            self.asker.ask("loki", q, loki.query_logs(q, to_ns(win[0]), to_ns(win[1]), limit=ERROR_LINES)),
            self.asker.ask("loki", None, loki.query_logs(q, to_ns(base[0]), to_ns(base[1]), limit=ERROR_LINES)),
            self.asker.ask("loki", None, loki.patterns(sel, base[0], win[1], step), quiet=True),
        )

    async def errors(self, tool: str | None, win: tuple[float, float]) -> Found:
        """The window's error-line patterns against the window before it, and the failing spans."""
        b, (ws, we) = self.asker.backends, win
        base = (ws - (we - ws), ws)
        failing = self.search(tool, None, win, limit=20, failed=True) if b.tempo else _none()
        (page, base_page, loki), hits = await asyncio.gather(self.error_lines(tool, win, base), failing)
        out = Found()
        if page is not None:
            fields = self.schema.log_message_fields
            full = len(page.entries) >= ERROR_LINES or (base_page is not None and len(base_page.entries) >= ERROR_LINES)
            total, base_total = await self.error_totals(tool, win) if full else (None, None)
            found = grouped(
                ((e.line, self._trace_id(e)) for e in page.entries),
                (e.line for e in base_page.entries) if base_page is not None else (),
                fields,
                window_total=total,
                baseline_total=base_total,
            )
            if total is not None and total > len(page.entries):
                self.asker.note(f"loki: error-line patterns estimated from {len(page.entries):,} of {total:,} lines")
            out.patterns = with_loki(found, loki, win, base, fields) if loki else found
        if hits is not None:
            first = hits.traces[0].trace_id if hits.traces else ""
            out.failing = [
                Evidence(
                    signal="tempo",
                    what="failing_spans",
                    value=len(hits.traces),
                    unit="count",
                    detail=f"trace {first}" if first else "",
                )
            ]
        return out

    async def error_totals(self, tool: str | None, win: tuple[float, float]) -> tuple[int | None, int | None]:
        """Every error line of the tool in the window and in the window before it, counted by Loki: what a
        page of lines is a sample of."""
        loki = self.asker.backends.loki
        if loki is None:
            return None, None
        ws, we = win
        q = self.logql.error_lines_count(self.plugin, self.tenant, tool, format_duration(max(we - ws, 1.0)))
        now, before = await asyncio.gather(
            self.asker.ask("loki", q, loki.query_metric(q, we)), self.asker.ask("loki", None, loki.query_metric(q, ws))
        )

        return line_count(now), line_count(before)

    def _trace_id(self, e: LogEntry) -> TraceId | None:
        """The line's trace id, when it holds a valid one (a log field is the plugin's, often copied from an
        incoming request's `traceparent`: anything at all)."""
        return TraceId.parse(e.field(self.schema.log_trace_field) or field_of(e.line, self.schema.log_trace_field))
