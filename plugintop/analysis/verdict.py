"""Provides the verdict: the rules that turn the triage's figures into a cause, a scope and evidence.

The rules, in order (each one tested):

1. **errors** — a burn-rate alert of the tenant would be firing (14.4x over 1 h and 5 m, or 6x over
   6 h and 30 m), or, inside the slow window, the tool's success ratio is below the SLO target by
   more than ten times the error budget.
2. **none** — no slow window: the tenant's p99 stayed under the target (or its own baseline).
3. With a slow window, the slowest sampled trace decides where the time went:
   - **llm** — model-call spans take at least `LLM_BOUND` of the tool span, and more than any
     other child;
   - **cpu** — the slowest non-LLM child is plugin code (an internal span) taking at least
     `CHILD_BOUND`, or the profile's hottest function grew by at least `HOTTER_BOUND` of CPU;
   - **downstream** — the slowest non-LLM child is a call out (client span) taking at least
     `CHILD_BOUND` of the tool span;
   - otherwise the largest of the three shares names the cause.
   Without a trace, the profile alone can name **cpu**; else the cause is **none** with a note.
4. **scope** is `fleet` when at least half of the other tenants' p99 also crossed the threshold
   in the window, else `tenant`.
"""

from __future__ import annotations

from plugintop.analysis.cost import ratio
from plugintop.analysis.model import CostSummary, ProfileSummary, SLOStatus, SlowWindow, TraceAnalysis, Verdict

LLM_BOUND = 0.5
CHILD_BOUND = 0.35
HOTTER_BOUND = 0.10
ERROR_BUDGET_MULTIPLE = 10.0


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def _secs(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def decide(
    window: SlowWindow | None,
    trace: TraceAnalysis | None,
    profile: ProfileSummary | None,
    cost: CostSummary | None,
    slo: SLOStatus | None,
    window_success: float | None,
    slo_target: float = 0.995,
) -> Verdict:
    """The verdict with the evidence lines that support it."""
    tool = window.tool if window else None
    scope = "tenant"
    evidence: list[str] = []
    if window is not None:
        if window.target_s is not None:
            evidence.append(
                f"{window.tool} p99 up to {_secs(window.p99_s)} against a {_secs(window.target_s)} target"
                f" for {window.duration / 60:.0f} min"
            )
        else:
            base = f" (baseline {_secs(window.baseline_p99_s)})" if window.baseline_p99_s else ""
            evidence.append(f"{window.tool} p99 up to {_secs(window.p99_s)}{base} for {window.duration / 60:.0f} min")
        others = window.other_tenants
        if others and len(window.other_tenants_slow) * 2 >= len(others):
            scope = "fleet"
            evidence.append(
                f"other tenants slow too: {', '.join(window.other_tenants_slow)} "
                f"({len(window.other_tenants_slow)} of {len(others)})"
            )
        elif others:
            evidence.append(
                f"other tenants not slow in the window ({len(others) - len(window.other_tenants_slow)}"
                f" of {len(others)} under the threshold)"
            )
        if window.version_note:
            evidence.append(window.version_note)

    # 1. errors
    firing = slo.alerts_firing if slo else []
    budget = 1 - slo_target
    low_success = window_success is not None and (1 - window_success) > ERROR_BUDGET_MULTIPLE * budget
    if firing or low_success:
        ev = list(evidence)
        if slo:
            ev.append("burn rate " + ", ".join(f"{k} {v:.1f}x" for k, v in slo.burn_rate.items()))
        if firing:
            ev.append(f"alerts firing: {', '.join(firing)}")
        if window_success is not None:
            ev.append(f"success ratio {window_success * 100:.2f} % against the {slo_target * 100:.1f} % target")
        if slo and slo.fleet_alerts_firing:
            scope = "fleet"
            ev.append(f"fleet alerts firing: {', '.join(slo.fleet_alerts_firing)}")
        return Verdict("errors", scope, tool, f"{tool or 'tool'} is failing: error budget burning", ev)

    # 2. healthy
    if window is None:
        return Verdict("none", "tenant", None, "no slow window: p99 stayed under the threshold", evidence)

    # 3. where the time went
    hottest = profile.hotter[0] if profile and profile.hotter else None
    cost_note = _cost_evidence(cost)
    if trace is not None:
        evidence.append(
            f"slowest sampled trace {trace.trace_id[:16]}… {_secs(trace.tool_duration_s)}: "
            f"critical path {' › '.join(trace.critical_path[:6])}"
        )
        llm, child, child_share = trace.llm_share, trace.slowest_child, trace.slowest_child_share
        if llm >= LLM_BOUND and llm > child_share:
            ev = [
                *evidence,
                f"model call{' ' + trace.llm_model if trace.llm_model else ''} = {_pct(llm)} of the tool span",
            ]
            if cost_note:
                ev.append(cost_note)
            return Verdict("llm", scope, tool, f"LLM-bound: the model call dominates {tool}", ev)
        internal_child = bool(child) and trace.slowest_child_kind == "internal" and child_share >= CHILD_BOUND
        profile_hot = hottest is not None and hottest.share >= HOTTER_BOUND
        if internal_child or (profile_hot and child_share < CHILD_BOUND and llm < LLM_BOUND):
            fn = hottest.function if hottest is not None and profile_hot else child
            ev = [*evidence]
            if internal_child:
                ev.append(f"span {child} = {_pct(child_share)} of the tool span")
            if hottest is not None:
                ev.append(f"CPU in {hottest.function} grew by {hottest.share * 100:.0f} pts against the baseline")
            return Verdict("cpu", scope, tool, f"CPU-bound in {fn}", ev)
        if child and child_share >= CHILD_BOUND:
            ev = [*evidence, f"waiting on span {child} = {_pct(child_share)} of the tool span"]
            return Verdict("downstream", scope, tool, f"waiting on {child}", ev)
        shares = {"llm": llm, "downstream" if trace.slowest_child_kind != "internal" else "cpu": child_share}
        cause = max(shares, key=lambda k: shares[k])
        ev = [*evidence, f"model call = {_pct(llm)}, {child or 'no child'} = {_pct(child_share)} of the tool span"]
        return Verdict(cause, scope, tool, f"mostly {cause}: no single part dominates", ev)
    if hottest and hottest.share >= HOTTER_BOUND:
        ev = [*evidence, f"CPU in {hottest.function} grew by {hottest.share * 100:.0f} pts against the baseline"]
        return Verdict("cpu", scope, tool, f"CPU-bound in {hottest.function}", ev)
    if cost_note:
        evidence.append(cost_note)
    evidence.append("no trace could be sampled in the window: the cause is not known")
    return Verdict("none", scope, tool, f"{tool} slow, cause unknown (no trace sampled)", evidence)


def _cost_evidence(cost: CostSummary | None) -> str | None:
    if cost is None:
        return None
    per_call = ratio(cost.usd_per_call, cost.baseline_usd_per_call)
    tokens = ratio(cost.tokens_per_min, cost.baseline_tokens_per_min)
    parts = []
    if per_call is not None:
        parts.append(f"cost per call x{per_call:.1f} vs baseline")
    if tokens is not None:
        parts.append(f"tokens/min x{tokens:.1f}")
    return "; ".join(parts) if parts else None
