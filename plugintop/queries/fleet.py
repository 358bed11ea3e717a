"""Provides the fleet's questions as PromQL the server aggregates: about the other tenants of a tool in a
finding's window, each answered with a handful of series however many tenants there are (a count, or the
`topk` few), never a series per tenant for the client to sift.

Each question is an instant query evaluated at the window's end (`Span.end`): the window is the range
`[Span.length]` before it, the other tenants' usual level the stretch before the triage's range
(`[Span.baseline] offset Span.baseline_offset`). A tenant "shows the finding" when its calls in the
window cross the same line the tenant's did, or its own usual level × the same factor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from plugintop.queries.promql import Matcher, PromQL, Scope, any_of, none_of, selector
from plugintop.timerange import format_duration


@dataclass(frozen=True, slots=True)
class Span:
    """Where a fleet question looks: the window `[end - length, end]` and a usual stretch before it."""

    end: float
    length: float
    baseline: float
    """The usual stretch's length."""
    baseline_offset: float
    """How long before `end` the usual stretch ends."""

    def now(self, inner: str) -> str:
        return f"{inner}[{format_duration(max(1.0, self.length))}]"

    def usual(self, inner: str) -> str:
        return f"{inner}[{format_duration(max(1.0, self.baseline))}] offset {format_duration(max(1.0, self.baseline_offset))}"


class FleetQL:
    """The fleet questions of one schema. `scope` is always the rest of the fleet for one tool
    (`Scope(plugin, tenant, tool).rest()`), or for every tool (`neighbours`)."""

    def __init__(self, promql: PromQL) -> None:
        self.p = promql
        self.tenant = promql.label("tenant")

    def _sum(self, fn: str, sel: str, by: str | None = None) -> str:
        return f"sum by ({by or self.tenant}) ({fn}({sel}))"

    def calls(self, scope: Scope, span: Span, *extra: Matcher) -> str:
        """Each tenant's calls in the window."""
        return self._sum("increase", span.now(self.p.count(scope, *extra)))

    def told(self, scope: Scope, span: Span) -> str:
        """How many of the other tenants had calls in the window (the ones that can tell)."""
        return f"count({self.calls(scope, span)} > 0)"

    def errors(self, scope: Scope, span: Span, min_failed: float, min_ratio: float) -> str:
        """Tenants whose failed calls in the window are at least `min_failed` and `min_ratio` of their
        calls; the value is the ratio."""
        s = self.p.s
        failed = self.calls(scope, span, none_of(s.outcome_label, s.success_outcomes))
        return f"({failed} / {self.calls(scope, span)} >= {min_ratio:g}) and ({failed} >= {min_failed:g})"

    def _p99(self, bucket: str) -> str:
        return f"histogram_quantile(0.99, sum by (le, {self.tenant}) (rate({bucket})))"

    def latency(self, scope: Scope, span: Span, line: float | None, factor: float) -> str:
        """Tenants whose p99 over the window is above `line`, or (None) above `factor` × their usual p99;
        the value is the p99 in seconds."""
        b = self.p.buckets(scope)
        now = self._p99(span.now(b))
        if line is not None:
            return f"{now} > {line:g}"
        return f"{now} > {factor:g} * {self._p99(span.usual(b))}"

    def cost(self, scope: Scope, span: Span, factor: float, usd: bool) -> str:
        """Tenants whose LLM cost per call (tokens per call, without `usd`) over the window is `factor` ×
        their usual; the value is the cost per call."""
        metric = self.p.s.cost_metric if usd else self.p.s.tokens_metric
        sel, count = selector(metric, self.p.matchers(scope)), self.p.count(scope)
        now = f"{self._sum('increase', span.now(sel))} / {self.calls(scope, span)}"
        usual = f"{self._sum('rate', span.usual(sel))} / {self._sum('rate', span.usual(count))}"
        return f"({now}) >= {factor:g} * ({usual})"

    def traffic(self, scope: Scope, span: Span, factor: float, surge: bool) -> str:
        """Tenants whose call rate over the window is `factor` × their usual or more (`surge`), or at most
        that (a drop); the value is the rate over the usual."""
        count = self.p.count(scope)
        now, usual = self._sum("rate", span.now(count)), self._sum("rate", span.usual(count))
        op = ">=" if surge else "<="
        return f"({now} / ({usual} > 0)) {op} {factor:g}"

    def aligned(self, span: Span) -> Span:
        """`span` as the series it reads can tell it apart (the raw series: as it is)."""
        return span

    def resets(self, plugin: str, window: str) -> str:
        """Resets of the plugin's call counter in each `window`, by scrape target (a restarted process)."""
        return self.p.counter_resets(Scope(plugin), window)

    def count(self, expr: str) -> str:
        return f"count({expr})"

    def top(self, expr: str, k: int) -> str:
        return f"topk({k}, {expr})"

    def neighbours(self, scope: Scope, span: Span, factor: float, k: int) -> str:
        """The `k` (tool, tenant) pairs whose call rate over the window grew most, `factor` × their usual
        or more (a tenant new since then too); the value is the growth."""
        count = self.p.count(scope)
        now, usual = self._by_pair("rate", span.now(count)), self._by_pair("rate", span.usual(count))
        return f"topk({k}, ({now} / {usual}) >= {factor:g})"

    def dearer(self, scope: Scope, span: Span, factor: float, k: int) -> str:
        """The `k` (tool, tenant) pairs whose seconds per call over the window grew most, `factor` × their
        usual or more; the value is the growth."""
        secs, count = self.p.seconds(scope), self.p.count(scope)

        def per_call(window: Callable[[str], str]) -> str:
            return f"({self._by_pair('rate', window(secs))} / {self._by_pair('rate', window(count))})"

        return f"topk({k}, ({per_call(span.now)} / {per_call(span.usual)}) >= {factor:g})"

    def per_call_of(self, plugin: str, pairs: Sequence[tuple[str, str]], window: str) -> str:
        """Seconds per call by (tool, tenant) of these pairs (the answer may hold other pairs of the same
        tools and tenants: keep only the asked ones)."""
        only = self._only(pairs)
        secs, calls = self.p.seconds(Scope(plugin), *only), self.p.count(Scope(plugin), *only)
        return f"{self._by_pair('rate', f'{secs}[{window}]')} / {self._by_pair('rate', f'{calls}[{window}]')}"

    def _only(self, pairs: Sequence[tuple[str, str]]) -> tuple[Matcher, Matcher]:
        """Matchers for the tools and the tenants of `pairs`."""
        s = self.p.s
        return any_of(s.tool_label, sorted({t for t, _ in pairs})), any_of(
            s.tenant_label, sorted({n for _, n in pairs})
        )

    def _by_pair(self, fn: str, sel: str) -> str:
        return self._sum(fn, sel, f"{self.p.label('tool')}, {self.tenant}")

    def rates_of(self, plugin: str, pairs: Sequence[tuple[str, str]], window: str) -> str:
        """Calls per second by (tool, tenant) of these pairs (the answer may hold other pairs of the same
        tools and tenants: keep only the asked ones)."""
        count = self.p.count(Scope(plugin), *self._only(pairs))
        return self._by_pair("rate", f"{count}[{window}]")
