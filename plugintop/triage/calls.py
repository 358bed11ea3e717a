"""Provides the screen's single calls beside the triage: one trace analysed (`enter` on a span) and the
new slow spans while the user reproduces."""

from __future__ import annotations

from plugintop.analysis import traces
from plugintop.analysis.model import SpanSample, TraceAnalysis
from plugintop.config.context import Context
from plugintop.errors import BackendError
from plugintop.queries.traceql import TraceQL
from plugintop.triage.connections import Backends
from plugintop.triage.drill import sample_of


async def analyse_trace(
    backends: Backends,
    ctx: Context,
    plugin: str,
    tool: str | None,
    trace_id: str,
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
    """Tool spans of the tenant slower than `threshold_s` that started in [since, until], slowest first.

    Raises:
        BackendError: Tempo failed.
    """
    if backends.tempo is None:
        raise BackendError("tempo", "not configured")
    q = TraceQL(ctx.telemetry).tool_spans(plugin, tenant, tool, min_duration_s=threshold_s)
    found = await backends.tempo.search(q, since, max(until, since + 1), limit=50, spss=1)
    out = [sample_of(t, tool or "", ctx.telemetry, plugin) for t in found.traces]
    return sorted(out, key=lambda s: -s.duration_s)
