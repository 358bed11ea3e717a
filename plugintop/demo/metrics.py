"""Provides the demo's Prometheus series: the tool-latency histogram, token and cost counters of
every (tenant, tool), cumulative per scrape, computed from the `World` and kept current; with the
`[realism]` table, per pod (`job`, `instance`, `pod` labels and `up`), reset at restarts, with lost scrapes."""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from plugintop.demo.gofmt import go_float
from plugintop.demo.promql_parse import LabelMatcher
from plugintop.demo.promql_values import SeriesData
from plugintop.demo.realism import pod_address, pod_name
from plugintop.demo.world import World
from plugintop.schema import Schema, metric_name

JOB = "plugins"
"""The scrape job of the plugin's pods."""

ALL_VERSIONS = -1
"""The version index of counters without a version label: they count the calls of every version."""
UP = -1
"""The column of the `up` series: not a counter, whether the pod's scrape succeeded."""


@dataclass(frozen=True)
class _Series:
    labels: dict[str, str]
    pair: tuple[int, int, int, int]
    """(tenant, tool, version, pod) indices; only the duration histogram has a version of its own."""
    column: int


class MetricStore:
    """The `Storage` the PromQL engine reads: every series of the scenario.

    A row holds one (tenant, tool, version, pod)'s counters after a scrape: the success buckets and sum, the
    failure buckets and sum, (prompt, completion, cost) per model of the tool, then one per business metric.
    """

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        self.schema = schema or Schema()
        sc = world.scenario
        nb = self.nb = len(world.buckets)
        self.ok, self.ok_sum, self.err, self.err_sum = 0, nb, nb + 1, 2 * nb + 1
        self.tokens = 2 * nb + 2
        self.business = self.tokens + 3 * max(len(t.model_mix) for t in sc.tools)
        self.width = self.business + len(sc.metrics)
        self.series: list[_Series] = []
        self.versions = sc.versions
        self._rows: dict[tuple[int, int, int, int], list[list[float]]] = {}
        self._deltas: dict[tuple[int, int, int], list[list[float]]] = {}
        """What one slot adds to a (tenant, tool)'s counters on each pod, computed once for all of its rows
        and the rows of the version that served it."""
        self._lock = threading.Lock()
        self._values_of: dict[int, list[float]] = {}
        r = world.realism
        self.scraped = world.pods > 1 or bool(r.restarts) or r.missed_scrapes > 0
        """Whether the scrape targets are modelled: `job`, `instance` and `pod` labels, and `up`."""
        self.targets = [
            {"job": JOB, "instance": pod_address(sc.seed, p), "pod": pod_name(sc.plugin.lower(), sc.seed, p)}
            for p in range(world.pods)
        ]
        pods = range(world.pods) if self.scraped else range(1)
        for ti, tenant in enumerate(sc.tenants):
            for tj, tool in enumerate(sc.tools):
                for p in pods:
                    self._add_series(ti, tenant, tj, tool.name, p)
        if self.scraped:
            for p in pods:
                self.series.append(_Series({"__name__": "up", **self.targets[p]}, (0, 0, ALL_VERSIONS, p), UP))

    def _add_series(self, ti: int, tenant: str, tj: int, tool_name: str, p: int) -> None:
        s, sc, nb = self.schema, self.world.scenario, self.nb
        target = self.targets[p] if self.scraped else {}
        tool = sc.tools[tj]
        for vi, version in enumerate(self.versions):
            if not self._serves(tenant, version):
                continue
            base = {
                s.plugin_label: sc.plugin,
                s.tool_label: tool_name,
                s.tenant_label: tenant,
                s.version_label: version,
            }
            for outcome, b0, sum_col in (("success", self.ok, self.ok_sum), ("error", self.err, self.err_sum)):
                lb = {**base, s.outcome_label: outcome}
                for i, le in enumerate(self.world.buckets):
                    labels = {"__name__": f"{s.duration_metric}_bucket", **lb, "le": go_float(le), **target}
                    self.series.append(_Series(labels, (ti, tj, vi, p), b0 + i))
                labels = {"__name__": f"{s.duration_metric}_sum", **lb, **target}
                self.series.append(_Series(labels, (ti, tj, vi, p), sum_col))
                labels = {"__name__": f"{s.duration_metric}_count", **lb, **target}
                self.series.append(_Series(labels, (ti, tj, vi, p), b0 + nb - 1))
        for mi, model in enumerate(tool.model_mix):
            llm = {
                s.plugin_label: sc.plugin,
                s.tool_label: tool_name,
                s.tenant_label: tenant,
                s.model_label: model,
            }
            col = self.tokens + 3 * mi
            for direction, c in (("prompt", col), ("completion", col + 1)):
                labels = {"__name__": s.tokens_metric, **llm, s.direction_label: direction, **target}
                self.series.append(_Series(labels, (ti, tj, ALL_VERSIONS, p), c))
            labels = {"__name__": s.cost_metric, **llm, **target}
            self.series.append(_Series(labels, (ti, tj, ALL_VERSIONS, p), col + 2))
        for mi, m in enumerate(sc.metrics):
            if m.tool == tool_name:
                labels = {
                    "__name__": f"{metric_name(sc.plugin)}_{m.name}_total",
                    "plugin": sc.plugin,
                    "tenant_id": tenant,
                    **target,
                }
                self.series.append(_Series(labels, (ti, tj, ALL_VERSIONS, p), self.business + mi))

    def _serves(self, tenant: str, version: str) -> bool:
        """Whether `version` ever serves the tenant (the base version always has its series)."""
        sc = self.world.scenario
        return version == sc.version or any(r.version == version and r.covers(tenant) for r in sc.rollouts)

    @property
    def t0(self) -> float:
        """Time of the first scrape."""
        return (self.world.first_slot + 1) * self.world.slot_s

    def rows(self, ti: int, tj: int, vi: int = ALL_VERSIONS, pod: int = 0) -> list[list[float]]:
        """Cumulative rows, one per scrape, up to the newest complete slot, of one version's calls on a pod
        (every pod's when the pods are not modelled)."""
        if len(self.versions) == 1:  # one version serves every call: its rows are the counters' rows
            vi = ALL_VERSIONS
        with self._lock:
            return self._extend(ti, tj, vi, pod)

    def _extend(self, ti: int, tj: int, vi: int, pod: int) -> list[list[float]]:
        rows = self._rows.setdefault((ti, tj, vi, pod), [])
        w = self.world
        last = w.last_slot()
        k = w.first_slot + len(rows)
        zero = [0.0] * self.width
        acc = list(rows[-1]) if rows else zero
        restarts = w.restart_slots
        while k <= last:
            if k in restarts:  # the process restarted: its counters count again from 0
                acc = zero
            if vi == ALL_VERSIONS or w.slot(ti, tj, k).version == self.versions[vi]:
                acc = list(map(operator.add, acc, self._delta(ti, tj, k)[pod]))
            rows.append(acc)  # rows are never changed in place: a row can be shared
            k += 1
        return rows

    def _delta(self, ti: int, tj: int, k: int) -> list[list[float]]:
        """What slot `k` adds to every counter of (tenant, tool), on each pod."""
        key = (ti, tj, k)
        got = self._deltas.get(key)
        if got is not None:
            return got
        w = self.world
        st = w.slot(ti, tj, k)
        tool = w.scenario.tools[tj]
        f = st.incident.metric_factor if st.incident is not None else 1.0
        models = list(w.mixes[tj])
        out = []
        for qs in w.pod_quantiles(st) if self.scraped else [None]:
            d = [0.0] * self.width
            n = st.n if qs is None else len(qs)
            for mi, m in enumerate(w.scenario.metrics):
                if m.tool == tool.name:
                    d[self.business + mi] = m.per_call * n * f
            if qs is None:
                d[self.ok : self.ok + self.nb] = w.bucket_counts(ti, tj, k, True)
                d[self.err : self.err + self.nb] = w.bucket_counts(ti, tj, k, False)
                d[self.ok_sum] = w.latency_sum(ti, tj, k, True)
                d[self.err_sum] = w.latency_sum(ti, tj, k, False)
            else:
                d[self.ok : self.ok + self.nb] = w.subset_buckets(st, qs, True)
                d[self.err : self.err + self.nb] = w.subset_buckets(st, qs, False)
                d[self.ok_sum] = sum(st.latency(q) for q in qs if q not in st.errors)
                d[self.err_sum] = sum(st.latency(q) for q in qs if q in st.errors)
            for model, sums in w.model_token_sums(ti, tj, k, qs).items():
                col = self.tokens + 3 * models.index(model)
                d[col : col + 3] = sums
            out.append(d)
        self._deltas[key] = out
        return out

    def select(self, matchers: Sequence[LabelMatcher]) -> list[SeriesData]:
        out = []
        w = self.world
        counter = not w.restart_slots
        gaps = w.realism.missed_scrapes > 0
        for i, s in enumerate(self.series):
            if all(m.matches(s.labels.get(m.name, "")) for m in matchers):
                up = s.column == UP
                values = self._values(i, s)
                out.append(SeriesData(s.labels, self.t0, w.slot_s, values, counter and not up, gaps and not up))
        return out

    def _values(self, i: int, s: _Series) -> list[float]:
        """Series `i`'s samples, kept between queries: only the scrapes since the last are read out of
        the rows (a new list then: a query running meanwhile keeps the one it has). A lost scrape leaves a
        staleness marker (NaN) in every series of its pod, as Prometheus writes on a failed scrape; `up`
        is 0 then."""
        rows = self.rows(*s.pair)
        got = self._values_of.get(i, [])
        if len(got) < len(rows):
            w = self.world
            j0, k0, pod = len(got), w.first_slot, s.pair[3]
            if s.column == UP:
                new = [0.0 if w.missed(pod, k0 + j) else 1.0 for j in range(j0, len(rows))]
            elif w.realism.missed_scrapes > 0:
                new = [math.nan if w.missed(pod, k0 + j) else rows[j][s.column] for j in range(j0, len(rows))]
            else:
                new = [r[s.column] for r in rows[j0:]]
            got = self._values_of[i] = got + new
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
