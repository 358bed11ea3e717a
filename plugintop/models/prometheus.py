"""Provides Prometheus query results (also used for Loki metric queries)."""

from __future__ import annotations

import math

import msgspec

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


class Exemplar(Frozen, frozen=True, kw_only=True):
    labels: dict[str, str] = {}
    value: float
    timestamp: float


class ExemplarSeries(Frozen, frozen=True, kw_only=True):
    series_labels: dict[str, str] = msgspec.field(default_factory=dict, name="seriesLabels")
    exemplars: list[Exemplar] = []
