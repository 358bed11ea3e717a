"""Provides Prometheus query results (also used for Loki metric queries)."""

from __future__ import annotations

import math

import msgspec

from plugintop.ids import SpanId, TraceId
from plugintop.models.common import Frozen


class Series(Frozen, frozen=True, kw_only=True):
    """One series: its labels and (timestamp s, value) points; gaps are not filled."""

    metric: dict[str, str] = {}
    values: list[tuple[float, float]] = []

    def finite(self) -> list[tuple[float, float]]:
        """The points whose value is a real number (no NaN, no ±Inf)."""
        return [(t, v) for t, v in self.values if math.isfinite(v)]

    def last(self) -> float | None:
        return self.values[-1][1] if self.values else None

    def last_value(self) -> float:
        """The last value if it is a real number, else NaN (no point, NaN or ±Inf)."""
        v = self.last()
        return v if v is not None and math.isfinite(v) else math.nan


class QueryResult(Frozen, frozen=True, kw_only=True):
    """A query's answer: series (a vector is series of one point), or a scalar; with annotations."""

    result_type: str
    series: list[Series] = []
    scalar: float | None = None
    warnings: list[str] = []
    infos: list[str] = []

    def by(self, label: str) -> dict[str, Series]:
        """The series keyed by one label's value ("" when absent)."""
        return {s.metric.get(label, ""): s for s in self.series}


class RawExemplar(Frozen, frozen=True, kw_only=True):
    """An exemplar as Prometheus writes it (its labels unchecked): the client's input, never its output."""

    labels: dict[str, str] = {}
    value: float
    timestamp: float


class RawExemplarSeries(Frozen, frozen=True, kw_only=True):
    series_labels: dict[str, str] = msgspec.field(default_factory=dict, name="seriesLabels")
    exemplars: list[RawExemplar] = []


class Exemplar(msgspec.Struct, frozen=True, kw_only=True):
    """One exemplar, its ids checked: `trace_id` and `span_id` are the only ids it carries (its `labels`
    hold them in that form too, under `trace_id` and `span_id`, and no other spelling)."""

    labels: dict[str, str] = {}
    value: float
    timestamp: float
    trace_id: TraceId | None = None
    """None when the exemplar names no trace (one naming a malformed trace is dropped, not kept)."""
    span_id: SpanId | None = None
    """None when it names no span, or a malformed one."""


class ExemplarSeries(msgspec.Struct, frozen=True, kw_only=True):
    series_labels: dict[str, str] = {}
    exemplars: list[Exemplar] = []
    invalid_ids: int = 0
    """Exemplars of this series dropped because their trace id label was not a trace id."""


def invalid_ids(series: list[ExemplarSeries] | None) -> int:
    """How many exemplars were dropped for a malformed trace id (for the triage's note:
    "exemplar with an invalid trace id skipped")."""
    return sum(s.invalid_ids for s in series or [])
