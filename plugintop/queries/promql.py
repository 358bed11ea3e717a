"""Provides PromQL: the escaper (`quote`), selectors, and the queries plugintop runs, all built
from the `Schema` and (plugin, tenant, tool)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from plugintop.queries._gostring import go_quote, re2_escape
from plugintop.schema import Schema

_IDENT = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_SDK_SERIES = ".+_(created|bucket|sum|count|info|gcount|gsum)|target_info"
"""Names of the series the SDKs write beside a metric, never business metrics (`analysis.business`)."""


def quote(value: str) -> str:
    """The one PromQL string escaper: `value` as a literal that parses back to exactly `value`."""
    return go_quote(value)


def label_name(name: str) -> str:
    """A label name, quoted where it is not a plain identifier (Prometheus 3 UTF-8 names)."""
    return name if _IDENT.fullmatch(name) else quote(name)


@dataclass(frozen=True, slots=True)
class Matcher:
    """`name op value`, op one of `=`, `!=`, `=~`, `!~`."""

    name: str
    op: str
    value: str

    def render(self) -> str:
        return f"{label_name(self.name)}{self.op}{quote(self.value)}"


def any_of(name: str, values: Sequence[str]) -> Matcher:
    """A matcher for one value (`=`) or several (`=~` with each value escaped as a literal)."""
    if len(values) == 1:
        return Matcher(name, "=", values[0])
    return Matcher(name, "=~", "|".join(re2_escape(v) for v in values))


def none_of(name: str, values: Sequence[str]) -> Matcher:
    """A matcher for every value but these (`!~` with each value escaped as a literal)."""
    return Matcher(name, "!~", "|".join(re2_escape(v) for v in values))


def selector(metric: str, matchers: Sequence[Matcher]) -> str:
    """`metric{a="b",...}`; a metric name that is not an identifier goes inside the braces."""
    parts = [m.render() for m in matchers]
    if _METRIC.fullmatch(metric):
        return f"{metric}{{{','.join(parts)}}}"
    return "{" + ",".join([quote(metric), *parts]) + "}"


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose telemetry: a plugin, optionally one tenant (None = the whole fleet) and one tool."""

    plugin: str
    tenant: str | None = None
    tool: str | None = None
    not_tenant: str | None = None
    """Every tenant but this one (the rest of the fleet)."""

    def rest(self) -> Scope:
        """The rest of the fleet: every tenant but this one."""
        return Scope(self.plugin, None, self.tool, self.tenant)

    def all_tools(self) -> Scope:
        return Scope(self.plugin, self.tenant, None, self.not_tenant)


class PromQL:
    """The PromQL queries of the triage, for one schema."""

    def __init__(self, schema: Schema) -> None:
        self.s = schema

    def matchers(self, scope: Scope, *extra: Matcher) -> list[Matcher]:
        m = [Matcher(self.s.plugin_label, "=", scope.plugin)]
        if scope.tenant is not None:
            m.append(Matcher(self.s.tenant_label, "=", scope.tenant))
        if scope.not_tenant is not None:
            m.append(Matcher(self.s.tenant_label, "!=", scope.not_tenant))
        if scope.tool is not None:
            m.append(Matcher(self.s.tool_label, "=", scope.tool))
        m.extend(extra)
        return m

    def buckets(self, scope: Scope) -> str:
        """The histogram's bucket series (also the exemplar query)."""
        return selector(f"{self.s.duration_metric}_bucket", self.matchers(scope))

    def count(self, scope: Scope, *extra: Matcher) -> str:
        return selector(f"{self.s.duration_metric}_count", self.matchers(scope, *extra))

    def seconds(self, scope: Scope, *extra: Matcher) -> str:
        """The histogram's sum of call seconds."""
        return selector(f"{self.s.duration_metric}_sum", self.matchers(scope, *extra))

    def quantile(self, q: float, scope: Scope, window: str, by: Sequence[str] = ("tool",)) -> str:
        """`histogram_quantile(q, sum by (le, <by>) (rate(<buckets>[window])))`."""
        labels = ", ".join(["le", *(self.label(b) for b in by)])
        return f"histogram_quantile({q:g}, sum by ({labels}) (rate({self.buckets(scope)}[{window}])))"

    def request_rate(self, scope: Scope, window: str, by: Sequence[str] = ("tool",)) -> str:
        """Calls per second."""
        return f"sum{self._by(by)} (rate({self.count(scope)}[{window}]))"

    def failure_rate(self, scope: Scope, window: str, by: Sequence[str] = ("tool",)) -> str:
        """Failed calls per second (no series where nothing failed)."""
        failed = self.count(scope, none_of(self.s.outcome_label, self.s.success_outcomes))
        return f"sum{self._by(by)} (rate({failed}[{window}]))"

    def cost_rate(self, scope: Scope, window: str, by: Sequence[str] = ("tool",)) -> str:
        """LLM cost (USD) per second."""
        return f"sum{self._by(by)} (rate({selector(self.s.cost_metric, self.matchers(scope))}[{window}]))"

    def token_rate(self, scope: Scope, window: str, by: Sequence[str] = ("tool",)) -> str:
        """LLM tokens (both directions) per second."""
        return f"sum{self._by(by)} (rate({selector(self.s.tokens_metric, self.matchers(scope))}[{window}]))"

    def business_metrics(self, plugin: str, tenant: str | None) -> str:
        """A series selector of the plugin's business metrics for the tenant (None: any tenant), for
        `/api/v1/series`: the series the SDKs write beside a metric (`_created`, `_bucket`, `_sum`,
        `_count`, `_info`, `target_info`: `analysis.business.SDK_SUFFIXES`) left out by the server."""
        prefix = self.s.business_prefix_of(plugin)
        label = self.s.business_tenant_label
        m = [
            Matcher("__name__", "=~", re2_escape(prefix) + ".+"),
            Matcher("__name__", "!~", _SDK_SERIES),
            Matcher(label, "=", tenant) if tenant is not None else Matcher(label, "=~", ".+"),
        ]
        return "{" + ",".join(x.render() for x in m) + "}"

    def business_value(self, metric: str, tenant: str, window: str, counter: bool, rest: bool = False) -> str:
        """A business metric over `window` for the tenant (or, with `rest`, every other tenant together):
        a counter's increase, a gauge's average."""
        m = [Matcher(self.s.business_tenant_label, "!=" if rest else "=", tenant)]
        if counter:
            return f"sum(increase({selector(metric, m)}[{window}]))"
        return f"avg(avg_over_time({selector(metric, m)}[{window}]))"

    def samples_per_step(self, scope: Scope, step: str) -> str:
        """Samples of the call counter scraped in each `step` (0 or absent: nothing scraped then)."""
        return f"sum(count_over_time({self.count(scope)}[{step}]))"

    def scrape_targets(self, plugin: str, window: str) -> str:
        """The plugin's scrape targets: the `job` and `instance` its call counter's series carried in the
        last `window` (a plain scrape config puts no plugin label on `up`; Prometheus puts these two on
        every scraped series)."""
        return f"count by (job, instance) (last_over_time({self.count(Scope(plugin))}[{window}]))"

    def up(self, targets: Sequence[tuple[str, str]]) -> str:
        """`up` (1 up, 0 down) of these (job, instance) targets, in one query: the two labels' values each
        matched as literals, so the answer may hold other pairs of them (keep only the asked ones)."""
        jobs = sorted({j for j, _ in targets})
        instances = sorted({i for _, i in targets})
        return selector("up", [any_of("job", jobs), any_of("instance", instances)])

    def samples_in(self, scope: Scope, window: str) -> str:
        """The most samples any of the call counter's series has in `window` (window / that = the scrape
        interval), one number however many series there are."""
        return f"max(count_over_time({self.count(scope)}[{window}]))"

    def success_ratio(self, scope: Scope, window: str, by: Sequence[str] = ("tool",)) -> str:
        """Successful calls / all calls."""
        ok = self.count(scope, any_of(self.s.outcome_label, self.s.success_outcomes))
        return f"sum{self._by(by)} (rate({ok}[{window}])) / sum{self._by(by)} (rate({self.count(scope)}[{window}]))"

    def burn_rate(self, scope: Scope, window: str, target: float) -> str:
        """Error-budget burn rate over `window`: error ratio / (1 - target)."""
        ok = self.count(scope, any_of(self.s.outcome_label, self.s.success_outcomes))
        return f"(1 - sum(rate({ok}[{window}])) / sum(rate({self.count(scope)}[{window}]))) / (1 - {target:g})"

    def tokens_per_min(self, scope: Scope, window: str) -> str:
        """LLM tokens per minute by model and direction."""
        sel = selector(self.s.tokens_metric, self.matchers(scope))
        return f"sum by ({self.label(self.s.model_label)}, {self.label(self.s.direction_label)}) (rate({sel}[{window}])) * 60"

    def cost_per_min(self, scope: Scope, window: str) -> str:
        """LLM cost (USD) per minute by model."""
        sel = selector(self.s.cost_metric, self.matchers(scope))
        return f"sum by ({self.label(self.s.model_label)}) (rate({sel}[{window}])) * 60"

    def label(self, name: str) -> str:
        """A label of the schema by its role (`tool`, `tenant`, `version`) or name, quoted if need be."""
        resolved = {"tool": self.s.tool_label, "tenant": self.s.tenant_label, "version": self.s.version_label}.get(
            name, name
        )
        return label_name(resolved)

    def _by(self, by: Sequence[str]) -> str:
        return f" by ({', '.join(self.label(b) for b in by)})" if by else ""

    # ----- the explanation of a finding (DESIGN §4.2) ----------------------------------------------
    def prompt_token_rate(self, scope: Scope, window: str) -> str:
        """Prompt tokens per second (divide by the call rate for prompt tokens per call)."""
        m = self.matchers(scope, Matcher(self.s.direction_label, "=", "prompt"))
        return f"sum (rate({selector(self.s.tokens_metric, m)}[{window}]))"

    def tokens_by_model(self, scope: Scope, window: str) -> str:
        """LLM tokens (both directions) per second by model: the model mix."""
        sel = selector(self.s.tokens_metric, self.matchers(scope))
        return f"sum by ({self.label(self.s.model_label)}) (rate({sel}[{window}]))"

    def counter_resets(self, scope: Scope, window: str) -> str:
        """Resets of the call counter in each `window`, by scrape target (a restarted process or pod)."""
        return f"sum by (instance, pod) (resets({self.count(scope)}[{window}]))"
