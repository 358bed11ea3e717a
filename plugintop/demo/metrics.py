"""Provides the demo's Prometheus series: the tool-latency histogram, token and cost counters of
every (tenant, tool), cumulative per 15 s scrape, computed from the `World` and kept current."""

from __future__ import annotations

import operator
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from plugintop.demo.gofmt import go_float
from plugintop.demo.promql_parse import LabelMatcher
from plugintop.demo.promql_values import SeriesData
from plugintop.demo.world import BUCKETS, World
from plugintop.schema import Schema, metric_name

_NB = len(BUCKETS)
# columns of a cumulative row: ok buckets, ok sum, err buckets, err sum, prompt, completion, cost, then one
# per business metric
_OK, _OK_SUM, _ERR, _ERR_SUM = 0, _NB, _NB + 1, 2 * _NB + 1
_PROMPT, _COMPLETION, _COST = 2 * _NB + 2, 2 * _NB + 3, 2 * _NB + 4
_BUSINESS = _COST + 1
ALL_VERSIONS = -1
"""The version index of counters without a version label: they count the calls of every version."""


@dataclass(frozen=True)
class _Series:
    labels: dict[str, str]
    pair: tuple[int, int, int]
    """(tenant, tool, version) indices; only the duration histogram has a version of its own."""
    column: int


class MetricStore:
    """The `Storage` the PromQL engine reads: every series of the scenario."""

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        s = self.schema = schema or Schema()
        sc = world.scenario
        self.series: list[_Series] = []
        self.versions = sc.versions
        self._rows: dict[tuple[int, int, int], list[list[float]]] = {}
        self._deltas: dict[tuple[int, int, int], list[float]] = {}
        """What one slot adds to a (tenant, tool)'s counters, computed once for all of its rows and the
        rows of the version that served it."""
        self._lock = threading.Lock()
        self._values_of: dict[int, list[float]] = {}
        for ti, tenant in enumerate(sc.tenants):
            for tj, tool in enumerate(sc.tools):
                for vi, version in enumerate(self.versions):
                    if not self._serves(tenant, version):
                        continue
                    base = {
                        s.plugin_label: sc.plugin,
                        s.tool_label: tool.name,
                        s.tenant_label: tenant,
                        s.version_label: version,
                    }
                    for outcome, b0, sum_col in (("success", _OK, _OK_SUM), ("error", _ERR, _ERR_SUM)):
                        lb = {**base, s.outcome_label: outcome}
                        for i, le in enumerate(BUCKETS):
                            labels = {"__name__": f"{s.duration_metric}_bucket", **lb, "le": go_float(le)}
                            self.series.append(_Series(labels, (ti, tj, vi), b0 + i))
                        self.series.append(
                            _Series({"__name__": f"{s.duration_metric}_sum", **lb}, (ti, tj, vi), sum_col)
                        )
                        self.series.append(
                            _Series({"__name__": f"{s.duration_metric}_count", **lb}, (ti, tj, vi), b0 + _NB - 1)
                        )
                llm = {
                    s.plugin_label: sc.plugin,
                    s.tool_label: tool.name,
                    s.tenant_label: tenant,
                    s.model_label: tool.llm_model,
                }
                for direction, col in (("prompt", _PROMPT), ("completion", _COMPLETION)):
                    labels = {"__name__": s.tokens_metric, **llm, s.direction_label: direction}
                    self.series.append(_Series(labels, (ti, tj, ALL_VERSIONS), col))
                self.series.append(_Series({"__name__": s.cost_metric, **llm}, (ti, tj, ALL_VERSIONS), _COST))
                for mi, m in enumerate(sc.metrics):
                    if m.tool == tool.name:
                        labels = {
                            "__name__": f"{metric_name(sc.plugin)}_{m.name}_total",
                            "plugin": sc.plugin,
                            "tenant_id": tenant,
                        }
                        self.series.append(_Series(labels, (ti, tj, ALL_VERSIONS), _BUSINESS + mi))

    def _serves(self, tenant: str, version: str) -> bool:
        """Whether `version` ever serves the tenant (the base version always has its series)."""
        sc = self.world.scenario
        return version == sc.version or any(r.version == version and r.covers(tenant) for r in sc.rollouts)

    @property
    def t0(self) -> float:
        """Time of the first scrape."""
        return (self.world.first_slot + 1) * self.world.slot_s

    def rows(self, ti: int, tj: int, vi: int = ALL_VERSIONS) -> list[list[float]]:
        """Cumulative rows, one per scrape, up to the newest complete slot, of one version's calls."""
        if len(self.versions) == 1:  # one version serves every call: its rows are the counters' rows
            vi = ALL_VERSIONS
        with self._lock:
            return self._extend(ti, tj, vi)

    def _extend(self, ti: int, tj: int, vi: int) -> list[list[float]]:
        rows = self._rows.setdefault((ti, tj, vi), [])
        w = self.world
        last = w.last_slot()
        k = w.first_slot + len(rows)
        acc = list(rows[-1]) if rows else [0.0] * (_BUSINESS + len(w.scenario.metrics))
        while k <= last:
            if vi == ALL_VERSIONS or w.slot(ti, tj, k).version == self.versions[vi]:
                acc = list(map(operator.add, acc, self._delta(ti, tj, k)))
            rows.append(acc)  # rows are never changed in place: a row can be shared
            k += 1
        return rows

    def _delta(self, ti: int, tj: int, k: int) -> list[float]:
        """What slot `k` adds to every counter of (tenant, tool)."""
        key = (ti, tj, k)
        got = self._deltas.get(key)
        if got is not None:
            return got
        w = self.world
        st = w.slot(ti, tj, k)
        tool = w.scenario.tools[tj].name
        d = [0.0] * (_BUSINESS + len(w.scenario.metrics))
        for mi, m in enumerate(w.scenario.metrics):
            if m.tool == tool:
                f = st.incident.metric_factor if st.incident is not None else 1.0
                d[_BUSINESS + mi] = m.per_call * st.n * f
        d[_OK : _OK + _NB] = w.bucket_counts(ti, tj, k, True)
        d[_ERR : _ERR + _NB] = w.bucket_counts(ti, tj, k, False)
        d[_OK_SUM] = w.latency_sum(ti, tj, k, True)
        d[_ERR_SUM] = w.latency_sum(ti, tj, k, False)
        d[_PROMPT], d[_COMPLETION], d[_COST] = w.token_sums(ti, tj, k)
        self._deltas[key] = d
        return d

    def select(self, matchers: Sequence[LabelMatcher]) -> list[SeriesData]:
        out = []
        for i, s in enumerate(self.series):
            if all(m.matches(s.labels.get(m.name, "")) for m in matchers):
                out.append(SeriesData(s.labels, self.t0, self.world.slot_s, self._values(i, s)))
        return out

    def _values(self, i: int, s: _Series) -> list[float]:
        """Series `i`'s samples, kept between queries: only the scrapes since the last are read out of
        the rows (a new list then: a query running meanwhile keeps the one it has)."""
        rows = self.rows(*s.pair)
        got = self._values_of.get(i, [])
        if len(got) < len(rows):
            got = self._values_of[i] = got + [r[s.column] for r in rows[len(got) :]]
        return got

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
