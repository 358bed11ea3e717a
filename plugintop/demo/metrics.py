"""Provides the demo's Prometheus series: the tool-latency histogram, token and cost counters of
every (tenant, tool), cumulative per 15 s scrape, computed from the `World` and kept current."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from plugintop.demo.gofmt import go_float
from plugintop.demo.promql_eval import SeriesData
from plugintop.demo.promql_parse import LabelMatcher
from plugintop.demo.world import BUCKETS, SLOT, World
from plugintop.schema import Schema

_NB = len(BUCKETS)
# columns of a cumulative row: ok buckets, ok sum, err buckets, err sum, prompt, completion, cost
_OK, _OK_SUM, _ERR, _ERR_SUM = 0, _NB, _NB + 1, 2 * _NB + 1
_PROMPT, _COMPLETION, _COST = 2 * _NB + 2, 2 * _NB + 3, 2 * _NB + 4


@dataclass(frozen=True)
class _Series:
    labels: dict[str, str]
    pair: tuple[int, int]
    column: int
    count_of: int | None = None
    """For `_count`: the +Inf bucket column."""


class MetricStore:
    """The `Storage` the PromQL engine reads: every series of the scenario."""

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        s = schema or Schema()
        sc = world.scenario
        self.series: list[_Series] = []
        self._rows: dict[tuple[int, int], list[list[float]]] = {}
        self._lock = threading.Lock()
        for ti, tenant in enumerate(sc.tenants):
            for tj, tool in enumerate(sc.tools):
                base = {
                    s.plugin_label: sc.plugin,
                    s.tool_label: tool.name,
                    s.tenant_label: tenant,
                    s.version_label: sc.version,
                }
                for outcome, b0, sum_col in (("success", _OK, _OK_SUM), ("error", _ERR, _ERR_SUM)):
                    lb = {**base, s.outcome_label: outcome}
                    for i, le in enumerate(BUCKETS):
                        labels = {"__name__": f"{s.duration_metric}_bucket", **lb, "le": go_float(le)}
                        self.series.append(_Series(labels, (ti, tj), b0 + i))
                    self.series.append(_Series({"__name__": f"{s.duration_metric}_sum", **lb}, (ti, tj), sum_col))
                    self.series.append(
                        _Series({"__name__": f"{s.duration_metric}_count", **lb}, (ti, tj), b0 + _NB - 1)
                    )
                llm = {
                    s.plugin_label: sc.plugin,
                    s.tool_label: tool.name,
                    s.tenant_label: tenant,
                    s.model_label: tool.llm_model,
                }
                for direction, col in (("prompt", _PROMPT), ("completion", _COMPLETION)):
                    labels = {"__name__": s.tokens_metric, **llm, s.direction_label: direction}
                    self.series.append(_Series(labels, (ti, tj), col))
                self.series.append(_Series({"__name__": s.cost_metric, **llm}, (ti, tj), _COST))

    @property
    def t0(self) -> float:
        """Time of the first scrape."""
        return (self.world.first_slot + 1) * SLOT

    def rows(self, ti: int, tj: int) -> list[list[float]]:
        """Cumulative rows, one per scrape, up to the newest complete slot."""
        with self._lock:
            return self._extend(ti, tj)

    def _extend(self, ti: int, tj: int) -> list[list[float]]:
        rows = self._rows.setdefault((ti, tj), [])
        w = self.world
        last = w.last_slot()
        k = w.first_slot + len(rows)
        acc = list(rows[-1]) if rows else [0.0] * (_COST + 1)
        while k <= last:
            ok, err = w.bucket_counts(ti, tj, k, True), w.bucket_counts(ti, tj, k, False)
            for i in range(_NB):
                acc[_OK + i] += ok[i]
                acc[_ERR + i] += err[i]
            acc[_OK_SUM] += w.latency_sum(ti, tj, k, True)
            acc[_ERR_SUM] += w.latency_sum(ti, tj, k, False)
            p, c, usd = w.token_sums(ti, tj, k)
            acc[_PROMPT] += p
            acc[_COMPLETION] += c
            acc[_COST] += usd
            rows.append(list(acc))
            k += 1
        return rows

    def select(self, matchers: Sequence[LabelMatcher]) -> list[SeriesData]:
        out = []
        for s in self.series:
            if all(m.matches(s.labels.get(m.name, "")) for m in matchers):
                rows = self.rows(*s.pair)
                out.append(SeriesData(s.labels, self.t0, SLOT, [r[s.column] for r in rows]))
        return out

    def label_names(self) -> list[str]:
        return sorted({k for s in self.series for k in s.labels})

    def label_values(self, name: str, matchers: Sequence[LabelMatcher] = ()) -> list[str]:
        return sorted(
            {
                s.labels[name]
                for s in self.series
                if name in s.labels and all(m.matches(s.labels.get(m.name, "")) for m in matchers)
            }
        )

    def matching(self, matchers: Sequence[LabelMatcher]) -> list[dict[str, str]]:
        return [s.labels for s in self.series if all(m.matches(s.labels.get(m.name, "")) for m in matchers)]


def finite_or_nan(v: float) -> float:
    return v if math.isfinite(v) else math.nan
