"""Provides the recording rules that keep the fleet's questions as cheap with 1,000 tenants as with 10
(`Recorded.rules`), and the questions asked of them (`RecordedRest`, `RecordedFleetQL`).

Without the rules, a question about the rest of the fleet (its p99, its calls and failures, the other
tenants that show a finding) is an aggregation over every tenant's raw series: the server's work grows with
the fleet. With them, the server has already summed the fleet (by plugin, tool, version, `le` and outcome)
and each tenant (by plugin, tool and tenant, with its p99) once per evaluation, and a question reads those
few series. Each recorded series is a `rate` over `Recorded.window`; a window of a question is the
average of the recorded rate over it (`avg_over_time`), the standard way to re-window a recorded rate.

"The rest of the fleet" is the fleet's recorded sum minus the tenant's own rate over the same window (the
tenant's raw series are few). A tenant "shows a finding" by its recorded p99: the median of its
`Recorded.window` p99s over the finding's window crosses the line (with raw series it is the p99 of the
whole window)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from plugintop.queries.fleet import FleetQL, Span
from plugintop.queries.promql import Matcher, PromQL, Scope, any_of, none_of, selector
from plugintop.timerange import parse_duration

WINDOW = "5m"
"""Every recorded rate's window."""
FLEET_INTERVAL = "1m"
"""How often the fleet's sums are evaluated: a few series, drawn as lines beside the tenant's."""
TENANT_INTERVAL = WINDOW
"""How often each tenant's series are evaluated: once a window, so that the average of the recorded rates
over a finding's window is the rate over it, and a question reads a few points per tenant, not one a
minute."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One recording rule: the series `record` is `expr` evaluated every interval of its group."""

    record: str
    expr: str


@dataclass(frozen=True, slots=True)
class Group:
    """A rule group: its rules are evaluated together every `interval`."""

    name: str
    interval: str
    rules: list[Rule]


class Recorded:
    """The recorded series' names and the rules that make them, for one schema."""

    def __init__(self, promql: PromQL) -> None:
        self.promql, self.window = promql, WINDOW
        s = promql.s
        d = s.duration_metric
        roles = {"plugin": s.plugin_label, "tool": "tool", "tenant": "tenant", "version": "version"}
        self.labels = {role: promql.label(name) for role, name in {**roles, "outcome": s.outcome_label}.items()}
        rate = f"rate{WINDOW}"
        self.fleet_buckets = f"plugin_tool_version_le:{d}_bucket:{rate}"
        self.fleet_calls = f"plugin_tool_version_outcome:{d}_count:{rate}"
        self.resets = f"plugin_instance_pod:{d}_count:resets{WINDOW}"
        self.tenant_calls = f"plugin_tool_tenant:{d}_count:{rate}"
        self.tenant_failed = f"plugin_tool_tenant:{d}_count_failed:{rate}"
        self.tenant_p99 = f"plugin_tool_tenant:{d}:p99_{WINDOW}"
        self.tenant_cost = f"plugin_tool_tenant:{s.cost_metric}_per_call:ratio_{rate}"
        self.tenant_tokens = f"plugin_tool_tenant:{s.tokens_metric}_per_call:ratio_{rate}"
        self.calling = f"plugin_tool:{d}_count:tenants_calling_{WINDOW}"

    def groups(self) -> list[Group]:
        """The rules, every plugin's at once (each sum keeps the plugin label)."""
        s, w, lb = self.promql.s, self.window, self.labels
        d = s.duration_metric
        failed = selector(f"{d}_count", [none_of(s.outcome_label, s.success_outcomes)])

        def by(*names: str) -> str:
            return ", ".join(lb[x] for x in names)

        tenant_calls = f"sum by ({by('plugin', 'tool', 'tenant')}) (rate({d}_count[{w}]))"

        def per_call(metric: str) -> str:
            return f"sum by ({by('plugin', 'tool', 'tenant')}) (rate({metric}[{w}])) / ({tenant_calls} > 0)"

        fleet = [
            Rule(self.fleet_buckets, f"sum by ({by('plugin', 'tool', 'version')}, le) (rate({d}_bucket[{w}]))"),
            Rule(self.fleet_calls, f"sum by ({by('plugin', 'tool', 'version', 'outcome')}) (rate({d}_count[{w}]))"),
            Rule(self.resets, f"sum by ({lb['plugin']}, instance, pod) (resets({d}_count[{w}]))"),
        ]
        tenants = [
            Rule(self.tenant_calls, tenant_calls),
            Rule(self.tenant_failed, f"sum by ({by('plugin', 'tool', 'tenant')}) (rate({failed}[{w}]))"),
            Rule(
                self.tenant_p99,
                f"histogram_quantile(0.99, sum by ({by('plugin', 'tool', 'tenant')}, le) (rate({d}_bucket[{w}])))",
            ),
            Rule(self.tenant_cost, per_call(s.cost_metric)),
            Rule(self.tenant_tokens, per_call(s.tokens_metric)),
            Rule(self.calling, f"count by ({by('plugin', 'tool')}) ({tenant_calls} > 0)"),
        ]
        return [Group("plugintop-fleet", FLEET_INTERVAL, fleet), Group("plugintop-tenants", TENANT_INTERVAL, tenants)]

    def probe(self, plugin: str) -> str:
        """Whether the rules run for `plugin`: how many of its fleet call series are recorded (none: no)."""
        return f"count({selector(self.fleet_calls, [Matcher(self.promql.s.plugin_label, '=', plugin)])})"


class RestQL:
    """The first wave's questions about the rest of the fleet (every tenant but `scope`'s), from the raw
    series: an aggregation over every other tenant's buckets and counters. `scope` is the tenant's own;
    `window` the rate window of a ranged question, or the whole range of an instant one."""

    def __init__(self, promql: PromQL) -> None:
        self.promql = promql

    def quantile(self, q: float, scope: Scope, window: str, *, ranged: bool, by: Sequence[str] = ("tool",)) -> str:
        return self.promql.quantile(q, scope.rest(), window, by)

    def rate(self, scope: Scope, window: str, *, ranged: bool, by: Sequence[str], failed: bool = False) -> str:
        if failed:
            return self.promql.failure_rate(scope.rest(), window, by)
        return self.promql.request_rate(scope.rest(), window, by)

    def burn_rate(self, scope: Scope, window: str, target: float) -> str:
        return self.promql.burn_rate(scope.rest(), window, target)


class RecordedRest(RestQL):
    """`RestQL`'s questions from the recorded fleet sums less the tenant's own rate: a handful of series
    whatever the tenant count. A ranged question reads the recorded rate at each step (its window is
    `Recorded.window`), an instant one its average over the whole range."""

    def __init__(self, recorded: Recorded) -> None:
        super().__init__(recorded.promql)
        self.recorded = recorded

    def _fleet(self, metric: str, scope: Scope, *extra: Matcher) -> str:
        m = [Matcher(self.promql.s.plugin_label, "=", scope.plugin)]
        if scope.tool is not None:
            m.append(Matcher(self.promql.s.tool_label, "=", scope.tool))
        return selector(metric, [*m, *extra])

    def _less(self, fleet: str, own: str, by: Sequence[str]) -> str:
        """`fleet - own` by `by`, the fleet's series alone where the tenant has none."""
        labels = ", ".join(self.promql.label(b) for b in by)
        return f"(sum by ({labels}) ({fleet}) - sum by ({labels}) ({own})) or sum by ({labels}) ({fleet})"

    def _windowed(self, sel: str, window: str, ranged: bool) -> tuple[str, str]:
        """(the fleet's recorded rate, the window of the tenant's own rate to subtract)."""
        if ranged:
            return sel, self.recorded.window
        return f"avg_over_time({sel}[{window}])", window

    def quantile(self, q: float, scope: Scope, window: str, *, ranged: bool, by: Sequence[str] = ("tool",)) -> str:
        fleet, own_window = self._windowed(self._fleet(self.recorded.fleet_buckets, scope), window, ranged)
        own = f"rate({self.promql.buckets(scope)}[{own_window}])"
        return f"histogram_quantile({q:g}, {self._less(fleet, own, ['le', *by])})"

    def rate(self, scope: Scope, window: str, *, ranged: bool, by: Sequence[str], failed: bool = False) -> str:
        s = self.promql.s
        extra = [none_of(s.outcome_label, s.success_outcomes)] if failed else []
        fleet, own_window = self._windowed(self._fleet(self.recorded.fleet_calls, scope, *extra), window, ranged)
        return self._less(fleet, f"rate({self.promql.count(scope, *extra)}[{own_window}])", by)

    def burn_rate(self, scope: Scope, window: str, target: float) -> str:
        s = self.promql.s
        ok = any_of(s.outcome_label, s.success_outcomes)

        def rest(*extra: Matcher) -> str:
            fleet = f"sum(avg_over_time({self._fleet(self.recorded.fleet_calls, scope, *extra)}[{window}]))"
            return f"({fleet} - (sum(rate({self.promql.count(scope, *extra)}[{window}])) or vector(0)))"

        return f"(1 - {rest(ok)} / {rest()}) / (1 - {target:g})"


class RecordedFleetQL(FleetQL):
    """`FleetQL`'s questions about the other tenants, read from each tenant's recorded series: the
    server reads one series per tenant and tool instead of every raw bucket and counter."""

    def __init__(self, recorded: Recorded) -> None:
        super().__init__(recorded.promql)
        self.recorded = recorded

    def _of(self, metric: str, scope: Scope, *extra: Matcher) -> str:
        return selector(metric, self.p.matchers(scope, *extra))

    def aligned(self, span: Span) -> Span:
        """`span` to whole `TENANT_INTERVAL`s, as the tenants' recorded series have one point each: two
        findings' nearly equal windows become one question."""
        step = parse_duration(TENANT_INTERVAL)

        def up(x: float) -> float:
            return math.ceil(x / step) * step

        return Span(
            end=up(span.end),
            length=up(span.length),
            baseline=up(span.baseline),
            baseline_offset=up(span.baseline_offset),
        )

    def _avg(self, over: str, by: str | None = None) -> str:
        """Each tenant's (or each `by`'s) average recorded rate over `over` (`sel[window]`)."""
        return f"sum by ({by or self.tenant}) (avg_over_time({over}))"

    def calls(self, scope: Scope, span: Span, *extra: Matcher) -> str:
        """Each tenant's calls in the window; with an outcome matcher, its failed calls (the only outcome
        question asked)."""
        metric = self.recorded.tenant_failed if extra else self.recorded.tenant_calls
        return f"{self._avg(span.now(self._of(metric, scope)))} * {max(1.0, span.length):g}"

    def resets(self, plugin: str, window: str) -> str:
        return (
            f"sum by (instance, pod) ({selector(self.recorded.resets, [Matcher(self.p.s.plugin_label, '=', plugin)])})"
        )

    def latency(self, scope: Scope, span: Span, line: float | None, factor: float) -> str:
        p99 = self._of(self.recorded.tenant_p99, scope)
        now = f"max by ({self.tenant}) (quantile_over_time(0.5, {span.now(p99)}))"
        if line is not None:
            return f"{now} > {line:g}"
        return f"{now} > {factor:g} * max by ({self.tenant}) (quantile_over_time(0.5, {span.usual(p99)}))"

    def dearer(self, scope: Scope, span: Span, factor: float, k: int) -> str:
        """The `k` (tool, tenant) pairs whose recorded p99 over the window grew most (the median of its
        p99s against the usual's), `factor` × or more; the value is the growth."""
        p99, by = self._of(self.recorded.tenant_p99, scope), f"{self.p.label('tool')}, {self.tenant}"
        now = f"max by ({by}) (quantile_over_time(0.5, {span.now(p99)}))"
        usual = f"max by ({by}) (quantile_over_time(0.5, {span.usual(p99)}))"
        return f"topk({k}, ({now} / {usual}) >= {factor:g})"

    def cost(self, scope: Scope, span: Span, factor: float, usd: bool) -> str:
        """Each tenant's recorded cost (or tokens) per call, averaged over the window against the usual."""
        per_call = self._of(self.recorded.tenant_cost if usd else self.recorded.tenant_tokens, scope)
        now, usual = self._avg(span.now(per_call)), self._avg(span.usual(per_call))
        return f"{now} >= {factor:g} * {usual}"

    def told(self, scope: Scope, span: Span) -> str:
        """How many tenants called the tool in the window, less the tenant itself when it did: one recorded
        series (the most tenants calling in any `WINDOW` of it)."""
        plugin = Matcher(self.p.s.plugin_label, "=", scope.plugin)
        tool = [Matcher(self.p.s.tool_label, "=", scope.tool)] if scope.tool is not None else []
        calling = f"max(max_over_time({span.now(selector(self.recorded.calling, [plugin, *tool]))}))"
        own = Scope(scope.plugin, scope.not_tenant, scope.tool)
        itself = f"(count(sum by ({self.tenant}) (increase({span.now(self.p.count(own))})) > 0) or vector(0))"
        return f"{calling} - {itself}"

    def traffic(self, scope: Scope, span: Span, factor: float, surge: bool) -> str:
        calls = self._of(self.recorded.tenant_calls, scope)
        now, usual = self._avg(span.now(calls)), self._avg(span.usual(calls))
        return f"({now} / ({usual} > 0)) {'>=' if surge else '<='} {factor:g}"

    def neighbours(self, scope: Scope, span: Span, factor: float, k: int) -> str:
        by = f"{self.p.label('tool')}, {self.tenant}"
        calls = self._of(self.recorded.tenant_calls, scope)
        now, usual = self._avg(span.now(calls), by), self._avg(span.usual(calls), by)
        return f"topk({k}, ({now} / {usual}) >= {factor:g})"

    def rates_of(self, plugin: str, pairs: Sequence[tuple[str, str]], window: str) -> str:
        m = [Matcher(self.p.s.plugin_label, "=", plugin), *self._only(pairs)]
        return f"sum by ({self.p.label('tool')}, {self.tenant}) ({selector(self.recorded.tenant_calls, m)})"
