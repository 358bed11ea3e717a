"""Provides the series the findings are read from: per tool, the tenant's, the rest of the fleet's
together and each version's (of the tenant's calls), over the range and an equal stretch before it. What
the other tenants show one by one is asked of Prometheus as counts (`analysis.scope.Fleet`)."""

from __future__ import annotations

import math

import msgspec

from plugintop.analysis.model import Points


class Sig(msgspec.Struct, kw_only=True):
    """One population's series of one tool (per-second rates, p99 in seconds)."""

    p99: Points = msgspec.field(default_factory=list)
    p50: Points = msgspec.field(default_factory=list)
    """The median, over the range only (where it is asked for: the tenant's own calls)."""
    rate: Points = msgspec.field(default_factory=list)
    """Calls per second."""
    failures: Points = msgspec.field(default_factory=list)
    """Failed calls per second (absent points: none failed)."""
    usd: Points = msgspec.field(default_factory=list)
    """LLM cost per second (empty where the cost counter does not exist)."""
    tokens: Points = msgspec.field(default_factory=list)
    """LLM tokens per second."""

    def failure_ratio(self) -> Points:
        """Failed / all calls at each point with calls."""
        return _per(self.failures, self.rate, missing=0.0)

    def has_cost(self) -> bool:
        """Whether the calls have a cost counter (else cost is judged in tokens)."""
        return any(math.isfinite(v) and v > 0 for _, v in self.usd)

    def per_call(self) -> tuple[Points, str]:
        """Cost per call (`usd`), or tokens per call (`tokens`) without a cost counter."""
        if self.has_cost():
            return _per(self.usd, self.rate), "usd"
        return _per(self.tokens, self.rate), "tokens"

    def tokens_per_call(self) -> Points:
        return _per(self.tokens, self.rate)


class ToolSignals(msgspec.Struct, kw_only=True):
    """Everything the findings need about one tool."""

    tool: str
    tenant: Sig
    rest: Sig = msgspec.field(default_factory=Sig)
    """Every other tenant's calls together (never the tenant's own): their call rate."""
    versions: dict[str, Sig] = msgspec.field(default_factory=dict)
    """The tenant's calls by the version that served them."""
    rest_versions: dict[str, Sig] = msgspec.field(default_factory=dict)
    """The other tenants' calls by the version that served them."""
    p99_target_s: float | None = None


class Frame(msgspec.Struct, frozen=True, kw_only=True):
    """Where the series sit in time: the range asked, the time before it used as baseline, the step."""

    start: float
    end: float
    baseline_start: float
    step: float
    success_target: float = 0.995
    daily_budget_usd: float | None = None


def _per(num: Points, den: Points, missing: float = math.nan) -> Points:
    """num / den at den's timestamps where den > 0 (a missing numerator counts as `missing`)."""
    by_t = dict(num)
    out = []
    for t, d in den:
        if math.isfinite(d) and d > 0:
            n = by_t.get(t, missing)
            out.append((t, n / d if math.isfinite(n) else math.nan))
    return out


def total(points: Points, step: float) -> float:
    """Σ rate × step: the events a per-second series stands for."""
    return sum(v for _, v in points if math.isfinite(v)) * step
