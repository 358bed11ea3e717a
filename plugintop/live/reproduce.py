"""Provides `new_slow_spans`: reproduce mode's question to Tempo, asked every few seconds while the user
reproduces the bug: the tenant's tool spans slower than a threshold since the mode began."""

from __future__ import annotations

from plugintop.analysis.model import SpanSample
from plugintop.config.context import Context
from plugintop.connect.backends import Backends
from plugintop.errors import BackendError
from plugintop.queries.traceql import TraceQL
from plugintop.triage.drill import sample_of


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
