"""Provides the words: the one place where figures and evidence become text, for the report and the
screen alike (durations, ratios, money, a finding's evidence, a verdict's summary)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from plugintop.analysis.model import Evidence, Finding, FunctionShare, Pattern, ProfileSummary, Verdict
from plugintop.models.loki import Gap


def duration(s: float | None) -> str:
    """Seconds for people: `830 ms`, `2.41 s`, `12.3 s`, `+Inf`, `-`."""
    if s is None or math.isnan(s):
        return "-"
    if math.isinf(s):
        return "+Inf"
    if abs(s) < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s" if abs(s) < 10 else f"{s:.1f} s"


def age(s: float) -> str:
    """How long ago, coarsely: `12 s`, `14 min`, `3.5 h`, `2.0 d`."""
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h" if s < 48 * 3600 else f"{s / 86400:.1f} d"


def minutes(s: float) -> str:
    m = s / 60
    return f"{m:.0f} min" if m < 120 else f"{m / 60:.1f} h"


def pct(v: float | None, digits: int = 1) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v * 100:.{digits}f} %"


def usd(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"${v:.4f}" if abs(v) < 1 else f"${v:,.2f}"


def times(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.1f}×"


def clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def at(ts: float, utc: bool = True) -> str:
    """A time of day in one zone: `19:13Z` in UTC, `14:13` in local time (the screen's header names it)."""
    return clock(ts) + "Z" if utc else datetime.fromtimestamp(ts).strftime("%H:%M")


def value(v: float | None, unit: str, utc: bool = True) -> str:
    """A figure in its unit."""
    if v is None:
        return "-"
    if unit == "s":
        return duration(v)
    if unit == "usd":
        return usd(v)
    if unit == "x":
        return times(v)
    if not math.isfinite(v):
        return "-"
    if unit == "ratio":
        return pct(v, 2)
    if unit == "tokens":
        return f"{v:,.0f} tokens"
    if unit == "per_s":
        return f"{v * 60:,.1f}/min"
    if unit == "count":
        return f"{v:,.0f}"
    if unit == "cores":
        return f"{v:.2f} cores"
    if unit == "time":
        return at(v, utc)
    return f"{v:g}"


def number(v: float | None) -> str:
    """A measured amount: `1,234.5`, `-` when there is none."""
    return "-" if v is None or not math.isfinite(v) else f"{v:,.1f}"


def signed_change(now: float | None, before: float | None) -> str:
    """`now` against `before` as a signed percentage: `−78 %`, `+120 %`, `-` when there is no baseline."""
    if now is None or before is None or not math.isfinite(now) or not before or not math.isfinite(before):
        return "-"
    c = (now / before - 1) * 100
    return f"{'+' if c >= 0 else '−'}{abs(c):.0f} %"


def _vs(e: Evidence) -> str:
    if e.baseline is None or not math.isfinite(e.baseline):
        return ""
    ratio = f", {times(e.value / e.baseline)}" if e.value is not None and e.baseline > 0 else ""
    return f" (baseline {value(e.baseline, e.unit)}{ratio})"


def sentence(e: Evidence, utc: bool = True) -> str:
    """One evidence fact as a sentence fragment."""
    v = value(e.value, e.unit, utc)
    match e.what:
        case "p99":
            return f"p99 up to {v}{_vs(e)}"
        case "p99_target":
            return f"p99 target {v}"
        case "failure_ratio":
            return f"failure ratio {v}{_vs(e)}"
        case "failed_calls":
            return f"{v} failed calls"
        case "burn_rate":
            return f"error budget burning {v}" + (f" over {e.detail}" if e.detail != "window" else " in the window")
        case "alerts_firing":
            return f"burn-rate alerts firing at the window's end: {e.detail}"
        case "slo_target":
            return f"against the {pct(e.value, 1)} success target"
        case "usd_per_call":
            return f"LLM cost per call {v}{_vs(e)}"
        case "tokens_per_call":
            return f"tokens per call {v}{_vs(e)}"
        case "spend_1d":
            return f"LLM spend over 1 day {v} against a {value(e.baseline, 'usd')} daily budget"
        case "call_rate":
            return f"call rate {e.detail} to {v}{_vs(e)}"
        case "other_tenants":
            n, of = int(e.value or 0), int(e.baseline or 0)
            names = f": {e.detail}" if e.detail else ""
            return f"{n} of {of} other tenants show it too{names}"
        case "version_began":
            return f"version {e.detail} began serving at {v}"
        case "noisy_neighbour":
            return f"noisy neighbour: {e.detail}'s calls at {v} their usual rate at the window's start"
        case "slowest_trace":
            return f"slowest sampled trace {e.detail[:16]}… {v}"
        case "critical_path":
            return f"critical path {e.detail}"
        case "llm_share":
            return f"model call{' ' + e.detail if e.detail else ''} = {pct(e.value, 0)} of the tool span"
        case "span_share":
            return f"span {e.detail} = {pct(e.value, 0)} of the tool span"
        case "cpu_hotter":
            return f"CPU in {e.detail} grew by {(e.value or 0) * 100:.0f} pts against the baseline"
        case "failing_spans":
            return f"{v} failing spans sampled from Tempo" + (f", e.g. {e.detail}" if e.detail else "")
        case "error_lines":
            return f"{v} error log lines{_vs(e)}"
        case "business":
            now, before = number(e.value), number(e.baseline)
            return f"{e.detail} {signed_change(e.value, e.baseline)} in the window ({now}{e.unit}, baseline {before}{e.unit})"
        case "business_fleet":
            return f"the rest of the fleet's {e.detail}: {signed_change(e.value, 1.0)}"
        case "cpu_saturated":
            rose = f" ({times(e.value / e.baseline)})" if e.value is not None and e.baseline else ""
            hot = f", hottest {e.detail}" if e.detail else ""
            return (
                f"the plugin saturated: CPU {value(e.baseline, 'cores')} → {v}{rose} while other tenants slowed "
                f"too{hot}; the time in model and downstream spans is waiting on a busy plugin"
            )
        case "sampled_traces":
            n, ex = int(e.value or 0), int(e.baseline or 0)
            src = "no exemplars: from Tempo's search" if ex == 0 else f"{ex} from exemplars"
            return f"{n} sampled trace{'s' if n != 1 else ''} in the window ({src})"
        case "slow_calls":
            return f"≈{v} calls past the line ({e.detail} of the window's calls)"
        case "no_trace":
            return "no trace could be sampled in the window: the cause is not known"
    return f"{e.what} {v}{_vs(e)}" + (f" {e.detail}" if e.detail else "")


def cpu_change(p: ProfileSummary) -> str:
    """The plugin's CPU per second (cores busy) in the window, against the baseline's where there is one:
    `the plugin's CPU 0.46 → 0.68 cores (+48 %)`."""
    if p.baseline_cpu_per_s <= 0:
        return f"the plugin's CPU {p.cpu_per_s:.2f} cores"
    change = signed_change(p.cpu_per_s, p.baseline_cpu_per_s)
    return f"the plugin's CPU {p.baseline_cpu_per_s:.2f} → {p.cpu_per_s:.2f} cores ({change})"


def hot_function(p: ProfileSummary, function: str) -> str:
    """A function's total (inclusive) share of the CPU against the baseline, and its self share:
    `score_rubric 47 → 72 % of the CPU (self 30 → 31 %)`."""

    def share(shares: list[FunctionShare], deltas: list[FunctionShare]) -> str | None:
        now = next((f.share for f in shares if f.function == function), None)
        if now is None:
            return None
        if p.baseline_cpu_per_s <= 0:
            return f"{now * 100:.0f} %"
        d = next((f.share for f in deltas if f.function == function), 0.0)
        return f"{(now - d) * 100:.0f} → {now * 100:.0f} %"

    total, own = share(p.top_total, p.hotter_total), share(p.top_self, p.hotter_self)
    out = f"{function} {total or '-'} of the CPU"
    return out + (f" (self {own})" if own else "")


def pattern_line(p: Pattern) -> str:
    new = "new" if p.baseline_count == 0 else f"was {p.baseline_count:,}"
    est = f", estimated from {p.sampled} lines" if p.sampled else ""
    return f"log pattern ×{p.count:,} ({new}{est}): {p.pattern}"


def window(f: Finding, utc: bool = True) -> str:
    start = clock(f.start) if utc else at(f.start, False)
    return f"{start}-{at(f.end, utc)} ({minutes(f.end - f.start)})"


CAUSE_WORDS = {
    "llm": "LLM-bound: the model call dominates",
    "cpu": "CPU-bound",
    "downstream": "waiting on a downstream call",
    "errors": "failing: error budget burning",
    "cost": "LLM cost per call up",
    "traffic": "call rate changed",
    "unknown": "cause unknown",
}


def summary(f: Finding, detail: str = "", utc: bool = True) -> str:
    """One line: what, where, since when, and why."""
    where = {"fleet": "across the fleet", "version": f"in version {f.version}", "tenant": "for the tenant"}[f.scope]
    cause = CAUSE_WORDS.get(f.cause, f.cause)
    if f.cause == "cpu" and any(e.what == "cpu_saturated" for e in f.evidence):
        cause = "CPU-bound: the plugin is saturated" + (f" (hottest {detail})" if detail else "")
    elif detail and f.cause in ("cpu", "downstream"):
        cause = f"CPU-bound in {detail}" if f.cause == "cpu" else f"waiting on {detail}"
    what = {
        "latency": f"{f.tool} slow (p99 up to {duration(f.peak)})",
        "errors": f"{f.tool} failing ({pct(_first(f, 'failure_ratio'), 1)} of calls)",
        "cost": f"{f.tool} costly (×{f.severity:.1f} per call)"
        if not any(e.what == "spend_1d" for e in f.evidence)
        else f"LLM spend over the daily budget (×{f.severity:.1f})",
        "traffic": f"{f.tool} traffic {'surge' if any(e.detail == 'surge' for e in f.evidence) else 'drop'}"
        f" (×{f.severity:.1f})",
    }[f.kind]
    return f"{what} {where} {window(f, utc)}: {cause}"


def verdict_line(v: Verdict, top: Finding | None, utc: bool = True) -> str:
    """The verdict's summary with its times in one zone: written again from its top finding when it has one
    (the summary the triage wrote is in UTC)."""
    if top is None or v.window != (top.start, top.end) or v.tool != top.tool:
        return v.summary
    return summary(top, v.detail, utc)


def _first(f: Finding, what: str) -> float | None:
    return next((e.value for e in f.evidence if e.what == what), None)


def evidence_lines(f: Finding, utc: bool = True) -> list[str]:
    """The finding's evidence as sentences, then its log patterns."""
    return [sentence(e, utc) for e in f.evidence] + [pattern_line(p) for p in f.patterns]


def gap(g: Gap, when: Callable[[float], str]) -> str:
    """The one wording of a gap in the logs, for the screen and the pipes alike (`when` writes a time)."""
    state = "caught up, nothing lost" if g.recovered else "lines may be missing"
    span = when(g.start) if g.end <= g.start else f"{when(g.start)} – {when(g.end)}"
    return f"gap {span}: {g.reason} ({state})"


def progress(elapsed: float, waiting: Mapping[str, float], limit: float, after: float = 1.0) -> str:
    """A running triage in words: how long it has run, the backend it has waited for longest, and when
    a call is given up ("12 s · waiting for prometheus 9 s, gives up by 30 s")."""
    out = f"{elapsed:.0f} s"
    slow = [(w, b) for b, w in waiting.items() if w >= after]
    if slow:
        w, b = max(slow)
        others = f" (+{len(slow) - 1})" if len(slow) > 1 else ""
        out += f" · waiting for {b}{others} {w:.0f} s, gives up by {limit:.0f} s"
    return out
