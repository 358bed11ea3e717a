"""Provides Tempo's TraceQL metrics answers (`/api/metrics/query_range`: `compare()`, `rate()`) and span
tag names (`/api/v2/search/tags`), normalised from Tempo's jsonpb (string int64s, `KeyValue` labels,
zero samples without a `value`) by the client (`clients.tempo_metrics`)."""

from __future__ import annotations

import msgspec

from plugintop.models.tempo import AttrValue


class MetricsSeries(msgspec.Struct, frozen=True):
    """One series: its labels (`__meta_type`, an attribute and its value) and (seconds, value) samples."""

    labels: dict[str, AttrValue]
    samples: list[tuple[float, float]] = msgspec.field(default_factory=list)

    def total(self) -> float:
        return sum(v for _, v in self.samples)


class MetricsResult(msgspec.Struct, frozen=True):
    series: list[MetricsSeries]
    partial: bool = False
    """Tempo said `PARTIAL`: some blocks were not read."""
    message: str = ""
    inspected_spans: int = 0


class SpanTags(msgspec.Struct, frozen=True):
    """Tag names by scope (`span`, `resource`, `intrinsic`, ...)."""

    scopes: dict[str, list[str]]

    def of(self, scope: str) -> list[str]:
        return self.scopes.get(scope, [])
