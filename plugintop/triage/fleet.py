"""Provides the fleet phase: for each finding, what the other tenants of its tool show in its window, and
for the explanation the few other tenants whose calls grew most. Prometheus aggregates (`queries.fleet`):
a triage of one tenant among 1,000 fetches what one among 10 does."""

from __future__ import annotations

import asyncio
import math

from plugintop.analysis import changes, findings, scope
from plugintop.analysis.model import Finding, Points
from plugintop.analysis.signals import Frame
from plugintop.models.prometheus import QueryResult
from plugintop.queries.fleet import FleetQL, Span
from plugintop.queries.promql import PromQL, Scope
from plugintop.schema import Schema
from plugintop.triage.asking import Asker

NAMED = 5
"""How many of the other tenants that show a finding are named (the worst first)."""
NEIGHBOURS = 3
"""How many surging neighbours are looked at for an explanation."""


def window_span(f: Finding, frame: Frame, start: float | None = None, end: float | None = None) -> Span:
    """The fleet questions' span for `f`'s window (or `start`–`end`), the usual stretch the one before the range."""
    s, e = f.start if start is None else start, f.end if end is None else end
    return Span(
        end=e,
        length=max(e - s, frame.step),
        baseline=max(frame.start - frame.baseline_start, frame.step),
        baseline_offset=max(e - frame.start, 1.0),
    )


class FleetPhase:
    """The fleet questions of one triage."""

    def __init__(
        self, asker: Asker, schema: Schema, plugin: str, tenant: str, frame: Frame, fleetql: FleetQL | None = None
    ) -> None:
        self.asker, self.schema, self.plugin, self.tenant, self.frame = asker, schema, plugin, tenant, frame
        self.fleetql = fleetql or FleetQL(PromQL(schema))
        self._neighbours: dict[tuple[Span, str], dict[tuple[str, str], Points]] = {}
        self._asking_neighbours: dict[tuple[Span, str], asyncio.Lock] = {}

    def _hot(self, f: Finding, rest: Scope, span: Span, usd: bool) -> str | None:
        """The expression of the other tenants that show `f` (None: a kind the fleet is not asked about)."""
        q = self.fleetql
        if f.kind == "latency":
            target = any(e.what == "p99_target" for e in f.evidence)
            return q.latency(rest, span, f.threshold if target else None, findings.LATENCY_FACTOR)
        if f.kind == "errors":
            return q.errors(rest, span, scope.MIN_FAILED, findings.ERROR_BURN * (1 - self.frame.success_target))
        if f.kind == "cost":
            return q.cost(rest, span, findings.COST_FACTOR, usd)
        if f.kind == "traffic":
            surge = any(e.detail == "surge" for e in f.evidence)
            return q.traffic(rest, span, findings.SURGE if surge else findings.DROP, surge)
        return None

    async def of(self, f: Finding, usd: bool) -> scope.Fleet | None:
        """What the other tenants of `f`'s tool show in its window (None: Prometheus did not answer)."""
        rest = Scope(self.plugin, self.tenant, f.tool).rest()
        span = window_span(f, self.frame)
        hot = self._hot(f, rest, span, usd)
        if hot is None:
            return None
        told, top = await asyncio.gather(  # one more than named: fewer are all of them, and counted
            self.asker.prom(self.fleetql.told(rest, span), span.end),
            self.asker.prom(self.fleetql.top(hot, NAMED + 1), span.end),
        )
        if told is None or top is None:
            return None
        counted = top if len(top.series) <= NAMED else await self.asker.prom(self.fleetql.count(hot), span.end)
        if counted is None:
            return None
        label = self.schema.tenant_label
        n_told, names = _count(told), _ranked(top, label)[:NAMED]
        n_hot = len(top.series) if counted is top else _count(counted)
        surged: list[tuple[str, float]] = []
        if n_told and n_hot * 2 > n_told:  # fleet-wide: who surged at its start (a noisy neighbour)?
            look = window_span(f, self.frame, f.start, f.start + scope.NOISY_LOOK_S)
            res = await self.asker.prom(
                self.fleetql.top(self.fleetql.traffic(rest, look, scope.NOISY_FACTOR, surge=True), NEIGHBOURS), look.end
            )
            surged = _valued(res, self.schema.tenant_label)
        return scope.Fleet(hot=n_hot, told=n_told, names=names, surged=surged)

    async def neighbours(self, f: Finding, rate_window: str) -> dict[tuple[str, str], Points]:
        """The call rates by (tool, tenant), over the range and the stretch before it, of the few other
        tenants whose calls of any tool grew most in `f`'s window; asked once per window however many
        findings (or an early start, `Triage`'s) ask for it."""
        span = self.fleetql.aligned(window_span(f, self.frame))
        key = (span, rate_window)
        async with self._asking_neighbours.setdefault(key, asyncio.Lock()):
            if key not in self._neighbours:
                self._neighbours[key] = await self._neighbours_in(span, rate_window)
        return self._neighbours[key]

    async def _neighbours_in(self, span: Span, rate_window: str) -> dict[tuple[str, str], Points]:
        rest = Scope(self.plugin, self.tenant).rest()
        top = await self.asker.prom(self.fleetql.neighbours(rest, span, changes.SURGE, NEIGHBOURS), span.end)
        pairs = self._pairs(top)
        if not pairs:
            return {}
        return self._by_pair(await self._ranged(self.fleetql.rates_of(self.plugin, pairs, rate_window)), pairs)

    async def dearer(
        self, f: Finding, rate_window: str
    ) -> tuple[dict[tuple[str, str], Points], dict[tuple[str, str], Points]]:
        """For `neighbour_cpu`: the seconds per call by (tool, tenant), over the range and the stretch before
        it, of the few other tenants whose calls of any tool got dearest in `f`'s window and of this tenant's
        own calls of `f`'s tool; and the other tenants' calls per second (did they surge too?). Asked only
        when the plugin was busy for every tenant: `f` CPU-bound while other tenants slowed too."""
        if f.tool is None or f.cause != "cpu" or not f.others:
            return {}, {}
        span = self.fleetql.aligned(window_span(f, self.frame))
        rest = Scope(self.plugin, self.tenant).rest()
        pairs = self._pairs(
            await self.asker.prom(self.fleetql.dearer(rest, span, changes.DEARER, NEIGHBOURS), span.end)
        )
        if not pairs:
            return {}, {}
        asked = [*pairs, (f.tool, self.tenant)]
        per_call, rates = await asyncio.gather(
            self._ranged(self.fleetql.per_call_of(self.plugin, asked, rate_window)),
            self._ranged(self.fleetql.rates_of(self.plugin, pairs, rate_window)),
        )
        return self._by_pair(per_call, asked), self._by_pair(rates, pairs)

    async def _ranged(self, q: str) -> QueryResult | None:
        """`q` over the range and the stretch before it, at the triage's step."""
        fr = self.frame
        return await self.asker.prom_range(q, fr.baseline_start, fr.end, fr.step)

    def _pair(self, metric: dict[str, str]) -> tuple[str, str]:
        return metric.get(self.schema.tool_label, ""), metric.get(self.schema.tenant_label, "")

    def _pairs(self, res: QueryResult | None) -> list[tuple[str, str]]:
        """The (tool, tenant) of each series, in the answer's order."""
        return [self._pair(s.metric) for s in res.series] if res else []

    def _by_pair(self, res: QueryResult | None, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], Points]:
        """The points of each wanted (tool, tenant) the answer holds (it may hold other pairs of the same tools
        and tenants)."""
        got = {self._pair(s.metric): list(s.values) for s in res.series} if res else {}
        return {p: got[p] for p in wanted if p in got}


def _count(res: QueryResult) -> int:
    """`count(...)`'s value (no series: none counted)."""
    v = res.series[0].last_value() if res.series else 0.0
    return int(v) if math.isfinite(v) else 0


def _valued(res: QueryResult | None, label: str) -> list[tuple[str, float]]:
    """(label value, value) of each series, the highest first."""
    if res is None:
        return []
    got = [(s.metric.get(label, ""), s.last_value()) for s in res.series]
    return sorted(((n, v) for n, v in got if math.isfinite(v)), key=lambda x: -x[1])


def _ranked(res: QueryResult | None, label: str) -> list[str]:
    return [n for n, _ in _valued(res, label)]
