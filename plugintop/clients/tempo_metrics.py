"""Provides `TempoMetrics`: TraceQL metrics (`/api/metrics/query_range`, where `compare()` is answered by
Tempo ≥ 2.6) and span tag names (`/api/v2/search/tags`), over a `TempoClient`'s HTTP client. Answers
are normalised into `models.tempo_metrics`; a malformed one is `BadResponse`."""

from __future__ import annotations

import math
from typing import Any

from plugintop.clients._http import decode_json, send
from plugintop.clients.tempo import TempoClient, attributes
from plugintop.errors import BadResponse
from plugintop.models.tempo_metrics import MetricsResult, MetricsSeries, SpanTags

MAX_METRICS_RANGE_S = 24 * 3600
"""Tempo's default metrics `max_duration`."""


def _float(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def parse_metrics(body: Any, backend: str = "tempo") -> MetricsResult:
    """A `QueryRangeResponse`: `timestampMs` strings, a sample of 0 without `value`, labels as `KeyValue`s."""
    if not isinstance(body, dict) or not isinstance(body.get("series", []), list):
        raise BadResponse(backend, "metrics answer has no series list")
    series = []
    for s in body.get("series") or []:
        if not isinstance(s, dict):
            raise BadResponse(backend, "a metrics series is not an object")
        samples = []
        for p in s.get("samples") or []:
            if not isinstance(p, dict):
                raise BadResponse(backend, "a metrics sample is not an object")
            t = _float(p.get("timestampMs"))
            v = _float(p.get("value", 0.0))
            if t is not None and v is not None:
                samples.append((t / 1000.0, v))
        series.append(MetricsSeries(labels=attributes(s.get("labels")), samples=samples))
    metrics = body.get("metrics") if isinstance(body.get("metrics"), dict) else {}
    spans = _float(metrics.get("inspectedSpans")) if isinstance(metrics, dict) else None
    return MetricsResult(
        series=series,
        partial=body.get("status") == "PARTIAL",
        message=str(body.get("message") or ""),
        inspected_spans=int(spans or 0),
    )


def parse_tags(body: Any, backend: str = "tempo") -> SpanTags:
    """`/api/v2/search/tags`: `{"scopes":[{"name":..,"tags":[..]}]}`."""
    if not isinstance(body, dict) or not isinstance(body.get("scopes", []), list):
        raise BadResponse(backend, "tags answer has no scopes list")
    out: dict[str, list[str]] = {}
    for sc in body.get("scopes") or []:
        if not isinstance(sc, dict):
            raise BadResponse(backend, "a tag scope is not an object")
        tags = sc.get("tags") or []
        if not isinstance(tags, list):
            raise BadResponse(backend, "a scope's tags are not a list")
        out.setdefault(str(sc.get("name", "")), []).extend(str(t) for t in tags)
    return SpanTags(scopes=out)


class TempoMetrics:
    """TraceQL metrics and span tag names of one Tempo (through its `TempoClient`'s connection)."""

    def __init__(self, tempo: TempoClient) -> None:
        self.http = tempo.http
        self.backend = tempo.backend

    async def query_range(self, query: str, start: float, end: float, step: float) -> MetricsResult:
        """`/api/metrics/query_range` over [start, end] (whole seconds) at `step` seconds."""
        s, e = int(start), max(int(end), int(start) + 1)
        params = {"q": query, "start": s, "end": e, "step": f"{max(1, int(step))}s"}
        resp = await send(self.http, self.backend, "GET", "/api/metrics/query_range", params=params)
        return parse_metrics(decode_json(resp, self.backend), self.backend)

    async def span_tags(self, query: str | None, start: float, end: float, scope: str = "span") -> SpanTags:
        """The tag names of spans (matching `query`) in [start, end], of one scope."""
        params: dict[str, Any] = {"scope": scope, "start": int(start), "end": max(int(end), int(start) + 1)}
        if query:
            params["q"] = query
        resp = await send(self.http, self.backend, "GET", "/api/v2/search/tags", params=params)
        return parse_tags(decode_json(resp, self.backend), self.backend)
