"""Provides the triage's results: what the report prints and the screen shows (no formatting here).

They are `msgspec` structs, not dataclasses: a struct class is made in C (the 15 dataclasses here took
7 ms to define on every start, a struct class ~0.05 ms) and so is each instance (10,000 span nodes,
100,000 flame nodes)."""

from __future__ import annotations

import math

import msgspec

from plugintop.ids import TraceId

Points = list[tuple[float, float]]


class ToolStats(msgspec.Struct, frozen=True, kw_only=True):
    """One tool over the range: latest-window percentiles, rate, success, fleet p99, and the series."""

    tool: str
    p50_s: float
    p90_s: float
    p99_s: float
    rate_per_s: float
    success_ratio: float
    fleet_p99_s: float
    p99_series: Points = msgspec.field(default_factory=list)
    fleet_p99_series: Points = msgspec.field(default_factory=list)
    p50_series: Points = msgspec.field(default_factory=list)
    rate_series: Points = msgspec.field(default_factory=list)
    error_series: Points = msgspec.field(default_factory=list)
    """The tenant's failed share of calls over time (failure rate / request rate, where there were calls)."""


class SlowWindow(msgspec.Struct, frozen=True, kw_only=True):
    start: float
    end: float
    tool: str
    p99_s: float
    """The worst p99 inside the window."""
    target_s: float | None
    baseline_p99_s: float | None = None
    other_tenants_slow: list[str] = msgspec.field(default_factory=list)
    """Other tenants showing the same finding in the window."""

    @property
    def duration(self) -> float:
        return self.end - self.start

    def covers(self, f: Finding) -> bool:
        """Whether this (drilled) window is `f`'s: its tool, overlapping in time."""
        return self.tool == f.tool and self.start < f.end and f.start < self.end


class SpanSample(msgspec.Struct, frozen=True):
    trace_id: TraceId
    """Checked where it entered (an exemplar, a search hit): the only form a trace id travels in."""
    span_id: str
    """A `SpanId`, or "" when none was given."""
    tool: str
    duration_s: float
    source: str
    """`exemplar` or `search`."""
    start: float = 0.0


class SpanNode(msgspec.Struct, frozen=True):
    """A span in the analysed tree."""

    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    depth: int
    self_ns: int
    is_llm: bool
    on_critical_path: bool
    status: str
    attributes: dict[str, object]
    service: str = ""

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)


class TraceAnalysis(msgspec.Struct, frozen=True):
    trace_id: str
    spans: list[SpanNode]
    """In waterfall order (depth-first, by start)."""
    critical_path: list[str]
    """Span names along the critical path, from the root."""
    critical_path_ns: list[tuple[str, int]]
    """(span name, nanoseconds the path spends in that span itself)."""
    llm_share: float
    tool_span: str
    tool_duration_s: float
    slowest_child: str | None
    slowest_child_share: float
    slowest_child_kind: str = ""
    llm_model: str | None = None
    llm_cost_usd: float | None = None
    orphans: int = 0
    clamped: int = 0
    partial: bool = False


class FlameNode(msgspec.Struct, gc=False):
    name: str
    level: int
    x: int
    total: int
    self: int
    parent: int
    """Index of the parent node (-1 for the root)."""
    right_total: int = 0
    right_self: int = 0


class FunctionShare(msgspec.Struct, frozen=True):
    function: str
    share: float


class ProfileSummary(msgspec.Struct, frozen=True):
    top_self: list[FunctionShare]
    top_total: list[FunctionShare]
    hotter: list[FunctionShare]
    """Functions that got hotter, hottest first; `share` holds how much, in points of the window's CPU / 100
    (the growth in self share, in total share unless a callee explains it, or, while the plugin's CPU per
    second rose, of the function's own CPU per second), at least `analysis.flame.NOISE`."""
    total_s: float
    baseline_total_s: float
    truncated: bool
    window: tuple[float, float]
    baseline: tuple[float, float]
    colder: list[FunctionShare] = msgspec.field(default_factory=list)
    """`share` holds the fall in self share (positive), at least `analysis.flame.NOISE`."""
    cpu_per_s: float = 0.0
    """The plugin's CPU per second in the window (profile total / window seconds: cores busy)."""
    baseline_cpu_per_s: float = 0.0
    """The same in the baseline window (0: no baseline)."""
    hotter_self: list[FunctionShare] = msgspec.field(default_factory=list)
    """`share` holds the growth in self share, at least `analysis.flame.NOISE`."""
    hotter_total: list[FunctionShare] = msgspec.field(default_factory=list)
    """`share` holds the growth in total (inclusive) share, at least `analysis.flame.NOISE`."""


class ModelCost(msgspec.Struct, frozen=True):
    model: str
    usd_per_min: float
    baseline_usd_per_min: float
    tokens_per_min: float
    baseline_tokens_per_min: float


class CostSummary(msgspec.Struct, frozen=True):
    usd_per_min: float
    baseline_usd_per_min: float
    tokens_per_min: float
    baseline_tokens_per_min: float
    calls_per_min: float
    baseline_calls_per_min: float
    by_model: list[ModelCost] = msgspec.field(default_factory=list)
    source: str = "metrics"
    """`metrics` (the cost counter) or `spans` (sampled spans' cost attribute)."""

    @property
    def usd_per_call(self) -> float | None:
        return self.usd_per_min / self.calls_per_min if self.calls_per_min else None

    @property
    def baseline_usd_per_call(self) -> float | None:
        return self.baseline_usd_per_min / self.baseline_calls_per_min if self.baseline_calls_per_min else None


class LogsSummary(msgspec.Struct, frozen=True):
    error_lines: int
    baseline_error_lines: int
    trace_lines: list[str]


class SLOStatus(msgspec.Struct, frozen=True):
    success_ratio_30d: float | None
    burn_rate: dict[str, float]
    alerts_firing: list[str]
    fleet_burn_rate: dict[str, float] = msgspec.field(default_factory=dict)
    fleet_alerts_firing: list[str] = msgspec.field(default_factory=list)
    target: float = 0.995
    llm_spend_1d_usd: float | None = None
    daily_budget_usd: float | None = None


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """One fact behind a finding, as data: `analysis.wording` turns it into a sentence."""

    signal: str
    """`prometheus`, `tempo`, `loki` or `pyroscope`."""
    what: str
    """What was measured: a key of `wording.WHAT` (`p99`, `failure_ratio`, `cost_per_call`, ...)."""
    value: float | None = None
    baseline: float | None = None
    unit: str = ""
    """`s`, `ratio`, `usd`, `tokens`, `per_s`, `x` (a multiple), `count` or ""."""
    detail: str = ""
    """Names that go with it (a span, a function, tenants); untrusted, sanitised when shown."""


class Pattern(msgspec.Struct, frozen=True, kw_only=True):
    """A log message pattern of the window's error lines, new or grown against the baseline."""

    pattern: str
    count: int
    baseline_count: int
    example: str
    trace_id: str | None = None
    sampled: str | None = None
    """When the counts are estimated from a page of a storm's lines: "1,000 of 36,210" (and the baseline's)."""


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One incident found in the range (DESIGN §4.1)."""

    kind: str
    """`latency`, `errors`, `cost` or `traffic`."""
    tool: str
    start: float
    end: float
    severity: float
    """How far past the line: p99/target, error ratio/budget, cost/baseline, rate/baseline."""
    rank: float
    """Excess × duration, weighted by kind: how the findings are ordered."""
    cause: str
    scope: str = "tenant"
    version: str | None = None
    evidence: list[Evidence] = msgspec.field(default_factory=list)
    patterns: list[Pattern] = msgspec.field(default_factory=list)
    others: list[str] = msgspec.field(default_factory=list)
    """The other tenants that show the same finding in its window."""
    peak: float = math.nan
    """The worst value in the stretch (p99 s, failure ratio, cost per call, rate)."""
    threshold: float = math.nan
    baseline: float | None = None
    explain: Explain | None = None
    """Why (DESIGN §4.2): which calls, since when, what changed, how bad, how sure; None until explained."""

    @property
    def duration(self) -> float:
        return self.end - self.start


class BusinessMetric(msgspec.Struct, frozen=True, kw_only=True):
    """One business metric: a counter's rate per minute (or a gauge's average) for the tenant and for every
    other tenant together, in the window and in the baseline before it."""

    name: str
    kind: str
    """`counter` (its rate per minute) or `gauge` (its average)."""
    window: float | None
    baseline: float | None
    fleet_window: float | None = None
    fleet_baseline: float | None = None

    @property
    def unit(self) -> str:
        return "/min" if self.kind == "counter" else ""

    @property
    def change(self) -> float | None:
        """window / baseline (1.0: unchanged; None: no baseline to compare with)."""
        return _ratio(self.window, self.baseline)

    @property
    def fleet_change(self) -> float | None:
        return _ratio(self.fleet_window, self.fleet_baseline)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not math.isfinite(a) or not math.isfinite(b) or b <= 0:
        return None
    return a / b


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    state: str
    """`incident`, `healthy`, `no_data` or `unknown`."""
    cause: str
    """`llm`, `cpu`, `downstream`, `errors`, `cost`, `none` or `unknown`."""
    scope: str
    """`tenant`, `fleet` or `version`."""
    tool: str | None
    summary: str
    evidence: list[str]
    """The evidence in words (people read this)."""
    version: str | None = None
    window: tuple[float, float] | None = None
    unchecked: list[str] = msgspec.field(default_factory=list)
    """What could not be checked and why: `tempo: unreachable`."""
    detail: str = ""
    """What the summary names in its cause (the hottest function, the downstream call): to write it again."""


class BackendProblem(msgspec.Struct, frozen=True):
    backend: str
    message: str


class TriageResult(msgspec.Struct):
    """Everything one triage found; parts a backend could not give are None."""

    plugin: str
    tenant: str
    start: float
    end: float
    tools: list[ToolStats] = msgspec.field(default_factory=list)
    slow_window: SlowWindow | None = None
    spans: list[SpanSample] = msgspec.field(default_factory=list)
    trace: TraceAnalysis | None = None
    profile: ProfileSummary | None = None
    cost: CostSummary | None = None
    logs: LogsSummary | None = None
    slo: SLOStatus | None = None
    verdict: Verdict | None = None
    errors: list[BackendProblem] = msgspec.field(default_factory=list)
    queries: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """The exact queries each backend ran, for `?` and the report's commands."""
    notes: list[str] = msgspec.field(default_factory=list)
    """Warnings worth showing: truncation, backend warnings, NaN series."""
    has_data: bool = True
    flame_nodes: list[FlameNode] = msgspec.field(default_factory=list)
    """The window's decoded flame graph, for the flame view."""
    findings: list[Finding] = msgspec.field(default_factory=list)
    business: list[BusinessMetric] = msgspec.field(default_factory=list)
    """The plugin's own metrics for the tenant, window against baseline (the first `MAX_METRICS`)."""
    """Every incident found in the range, most severe first."""
    known_tenants: list[str] = msgspec.field(default_factory=list)
    """With no data: the tenants (of the plugin) that do have data."""
    known_plugins: list[str] = msgspec.field(default_factory=list)
    """With no data for the plugin at all: the plugins that do have data."""
    scrape_interval_s: float | None = None
    """The Prometheus scrape interval the rate windows follow, and where it came from."""
    scrape_interval_source: str = ""


# ----- the explanation of a finding (DESIGN §4.2) -------------------------------------------------


class AttributeLift(msgspec.Struct, frozen=True, kw_only=True):
    """One attribute value the finding's calls have more often than the rest of the tool's calls."""

    attribute: str
    """The span attribute (`llm.model`, `course_type`); untrusted."""
    value: str
    """Its value, or for a number its band of the baseline's quantiles (`≥ 1,840`); untrusted."""
    share: float
    """The share of the finding's calls that have it."""
    baseline_share: float
    lift: float
    """share / baseline share: how much likelier a call with it is in the finding."""
    n: int
    """The finding's calls compared (the sample's size, or Tempo's count)."""
    baseline_n: int
    p_value: float
    """One-sided: the finding's calls have it no more often than the rest (Fisher's exact test, or a
    two-proportion z-test for large counts); the bar is Bonferroni-corrected over every value tested."""
    numeric: bool = False
    """`value` is a band of a numeric attribute."""

    @property
    def score(self) -> float:
        """What the attributes are ranked by: share difference × lift."""
        return (self.share - self.baseline_share) * self.lift


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that changed near the onset, with its own evidence."""

    at: float
    kind: str
    """`rollout`, `model_mix`, `prompt_tokens`, `traffic`, `neighbour_traffic`, `neighbour_cpu`,
    `new_log_pattern` or `restart`."""
    what: str
    """In words, naming what changed (a version, a model, a tenant, a pod); holds untrusted names."""
    before: float | str | None = None
    after: float | str | None = None
    unit: str = ""
    """`per_min`, `tokens`, `ratio`, `count` or "" (the unit of before and after)."""
    signal: str = "prometheus"
    """The pillar it was read from."""


class Impact(msgspec.Struct, frozen=True, kw_only=True):
    """How bad: the calls in the finding, the users, the error budget, the extra spend."""

    calls: int
    """Calls in the finding: slow past the line, failed, or (cost, traffic) every call in its window."""
    share: float
    """Of the tool's calls of the tenant in the finding's window."""
    users: int | None = None
    """Distinct `user.id` among the finding's calls that Tempo showed (None: not known)."""
    users_seen_of: int | None = None
    """Of how many of the finding's calls `users` was counted (a sample: at least that many users)."""
    error_budget_used: float | None = None
    """The share of the 30-day error budget (failures, or for latency the calls past the p99 target
    against its 1 %) the finding used, at the tool's usual call rate."""
    extra_cost_usd: float | None = None
    """LLM spend above the baseline's cost per call, over the finding's calls."""


class Explain(msgspec.Struct, frozen=True, kw_only=True):
    """Why (DESIGN §4.2): which calls, since when, what changed, how bad, how sure."""

    onset: float | None = None
    """The change point of the finding's own series (a step, or where a ramp began); None: none found."""
    onset_kind: str = ""
    """`step` or `ramp` (with `ramp_end`)."""
    ramp_end: float | None = None
    separates: bool = False
    """Whether any attribute passed the bar; False: nothing separates the finding's calls from the rest."""
    attributes: list[AttributeLift] = msgspec.field(default_factory=list)
    """The ones that passed, best first (share difference × lift)."""
    compared: str = ""
    """How the calls were compared: "" (not compared), `tempo compare()` or `span samples`."""
    compared_what: str = ""
    """What was compared with what, in words ("calls over 1.2 s in the window vs the tool's other calls")."""
    changes: list[Change] = msgspec.field(default_factory=list)
    impact: Impact | None = None
    corroboration: dict[str, str] = msgspec.field(default_factory=dict)
    """`prometheus`, `tempo`, `loki`, `pyroscope` → `confirms`, `silent`, `contradicts` or `missing`."""
    notes: list[str] = msgspec.field(default_factory=list)
    """What could not be done and why ("tempo: no spans in the window")."""
