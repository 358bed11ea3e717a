"""Provides the plugin's business metrics against the incident: which of the plugin's own metrics
(`{plugin}_…`, DESIGN §1) moved for the tenant in the window against the baseline while the rest of the
fleet did not, and the finding that says so next to the incident it moved with."""

from __future__ import annotations

import math

from plugintop.analysis.model import BusinessMetric, Evidence, Finding

DROP = 0.5
"""A fall to half or less (−50 %) is a move."""
RISE = 2.0
"""A rise to double or more (+100 %) is a move."""
FLEET_STILL = 0.25
"""The rest of the fleet changed by less than this (±25 %): the move is the tenant's own."""
OPERATIONAL = ("latency", "errors", "cost", "traffic")


def moved(m: BusinessMetric) -> bool:
    """Fell to half or rose to double for the tenant, while the rest of the fleet held still (or has no
    data to compare)."""
    c = m.change
    if c is None or DROP < c < RISE:
        return False
    f = m.fleet_change
    return f is None or abs(f - 1) < FLEET_STILL


SDK_SUFFIXES = ("_created", "_bucket", "_sum", "_count", "_info", "_gcount", "_gsum")
"""Series the SDKs write beside a metric, never a business figure of their own: prometheus_client's
`_created` (a counter's or histogram's creation time, a Unix timestamp), a histogram's or summary's
`_bucket`, `_sum` and `_count` (and OpenMetrics' gauge histogram's `_gcount`, `_gsum`), an info metric's
`_info` (the OpenTelemetry exporter's `otel_scope_info` among them)."""
SDK_NAMES = frozenset({"target_info"})
"""Whole names the SDKs write that are never business metrics (OpenTelemetry's resource attributes)."""


def kind_of(name: str) -> str | None:
    """A metric's kind from its name, as the SDK names them: `_total` is a counter; what the SDKs write
    beside a metric (`SDK_SUFFIXES`, `SDK_NAMES`) is none (None: not a business metric); else a gauge."""
    if name in SDK_NAMES or name.endswith(SDK_SUFFIXES):
        return None
    return "counter" if name.endswith("_total") else "gauge"


def findings(metrics: list[BusinessMetric], found: list[Finding]) -> list[Finding]:
    """A `business` finding for each metric that moved, tied to the incident it moved with (the first
    operational finding): never on its own, never ranked above it."""
    top = next((f for f in found if f.kind in OPERATIONAL), None)
    if top is None:
        return []
    out = []
    for m in metrics:
        if not moved(m):
            continue
        change = m.change or 0.0
        evidence = [
            Evidence(
                signal="prometheus", what="business", value=m.window, baseline=m.baseline, unit=m.unit, detail=m.name
            )
        ]
        if m.fleet_change is not None:
            evidence.append(
                Evidence(signal="prometheus", what="business_fleet", value=m.fleet_change, unit="x", detail=m.name)
            )
        out.append(
            Finding(
                kind="business",
                tool=top.tool,
                start=top.start,
                end=top.end,
                severity=change if change >= 1 else (1 / change if change > 0 else math.inf),
                rank=0.0,
                cause=top.cause,
                scope=top.scope,
                version=top.version,
                evidence=evidence,
                peak=m.window if m.window is not None else math.nan,
                baseline=m.baseline,
            )
        )
    return out
