"""Provides the single calls beside the triage: one trace analysed (`enter` on a span), a trace opened by
its id with its log lines (`plugintop trace ID`)."""

from __future__ import annotations

from dataclasses import dataclass

from plugintop.analysis import traces
from plugintop.analysis.model import TraceAnalysis
from plugintop.config.context import Context
from plugintop.connect.backends import Backends
from plugintop.errors import BackendError
from plugintop.ids import TraceId
from plugintop.queries.logql import LogQL


async def analyse_trace(
    backends: Backends,
    ctx: Context,
    plugin: str,
    tool: str | None,
    trace_id: TraceId,
    near: tuple[float, float] | None = None,
) -> TraceAnalysis:
    """Fetches one trace and analyses it.

    Raises:
        BackendError: Tempo is not configured or failed.
    """
    if backends.tempo is None:
        raise BackendError("tempo", backends.setup_errors.get("tempo", BackendError("tempo", "not configured")).message)
    lo, hi = (near[0] - 3600, near[1] + 3600) if near else (None, None)
    trace = await backends.tempo.trace(trace_id, lo, hi)
    return traces.analyse(trace, ctx.telemetry, plugin, tool)


@dataclass(frozen=True, slots=True)
class TraceById:
    """A trace opened by its id (a ticket's): the analysis, whose it is, and its log lines."""

    analysis: TraceAnalysis
    plugin: str | None
    tenant: str | None
    log_lines: list[str]
    log_error: str | None = None


async def trace_by_id(
    backends: Backends, ctx: Context, trace_id: TraceId, plugin: str | None = None, log_limit: int = 100
) -> TraceById:
    """The trace `trace_id` from Tempo, analysed, with its tenant's log lines from Loki (the plugin and
    tenant read off its tool span when not given).

    Raises:
        NotFound: Tempo has no such trace.
        BackendError: Tempo is not configured or failed (Loki's failure is kept in `log_error`).
    """
    if backends.tempo is None:
        raise BackendError("tempo", backends.setup_errors.get("tempo", BackendError("tempo", "not configured")).message)
    s = ctx.telemetry
    trace = await backends.tempo.trace(trace_id)
    analysis = traces.analyse(trace, s, plugin)
    tool_span = next((sp for sp in analysis.spans if sp.name == analysis.tool_span), None)
    named = s.plugin_and_tool(analysis.tool_span) if tool_span else None
    plugin = plugin or (named[0] if named else None)
    tenant_attr = tool_span.attributes.get(s.span_tenant_attr) if tool_span else None
    tenant = str(tenant_attr) if tenant_attr is not None else None
    lines: list[str] = []
    error = None
    if plugin and tenant and backends.loki is not None and analysis.spans:
        start = min(sp.start_ns for sp in analysis.spans)
        end = max(sp.end_ns for sp in analysis.spans)
        q = LogQL(s).trace_lines(plugin, tenant, analysis.trace_id)
        try:
            page = await backends.loki.query_logs(
                q, start - 300 * 10**9, end + 300 * 10**9, limit=log_limit, direction="forward"
            )
            lines = [e.line for e in page.entries]
        except BackendError as e:
            error = f"{e.kind}: {e.message}"
    return TraceById(analysis, plugin, tenant, lines, error)
