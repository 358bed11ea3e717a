"""Provides the verdict: the state of the triage, and the cause of its top finding with the evidence.

States (DESIGN §4.1), in order:

1. **unknown** — Prometheus could not be asked (no verdict stands without it).
2. **no_data** — Prometheus answered, but the plugin/tenant has no series in the range.
3. **incident** — there are findings; the verdict is the top one. A latency finding's cause comes
   from the slowest sampled trace (below); when Tempo could not be asked and the profile does not
   name the cause either, the state is **unknown** (the cause of a slow window needs Tempo).
4. **unknown** — no findings, but a pillar did not answer: nothing says it is healthy.
5. **healthy** — every pillar answered and nothing crossed a line.

The cause of a latency finding, from the slowest sampled trace:
   - **llm** — model-call spans take at least `LLM_BOUND` of the tool span, and more than any
     other child;
   - **cpu** — the slowest non-LLM child is plugin code (an internal span) taking at least
     `CHILD_BOUND`, or the profile's hottest function grew by at least `HOTTER_BOUND` of CPU;
   - **downstream** — the slowest non-LLM child is a call out (client span) taking at least
     `CHILD_BOUND` of the tool span;
   - otherwise the largest of the shares names it.
   Without a trace, the profile alone can name **cpu**; else the cause is **unknown**. The profile
   names cpu only when its hottest function grew by `HOTTER_BOUND` of the CPU *and* the plugin burnt
   `CPU_GROWTH` × the baseline's CPU or more: a slower model call shifts shares towards the socket reads
   that wait for it without burning more CPU.
"""

from __future__ import annotations

import msgspec

from plugintop.analysis import wording
from plugintop.analysis.model import Evidence, Finding, ProfileSummary, TraceAnalysis, Verdict

LLM_BOUND = 0.5
CHILD_BOUND = 0.35
HOTTER_BOUND = 0.10
CPU_GROWTH = 1.2
SATURATION_GROWTH = 1.5
"""The plugin's CPU per second in the window against the baseline's, from which a slowdown shared with
other tenants is the plugin's saturation when the calls grew as well (`LOAD_GROWTH`)."""
SATURATION_ALONE = 2.0
"""The same growth that is saturation on its own, with no more calls (one tenant's calls got dearer)."""
LOAD_GROWTH = 1.5
"""All tenants' calls of the tool in the window against the baseline's: a surge the pods must absorb."""


def saturated(top: Finding, profile: ProfileSummary | None, load_growth: float | None = None) -> bool:
    """Whether the plugin was saturated in the finding's window (DESIGN §4.2, "Cause under saturation"):
    other tenants slowed in the same window, and the plugin burnt `SATURATION_ALONE` × its baseline CPU
    per second, or `SATURATION_GROWTH` × while the tool's calls from every tenant grew `LOAD_GROWTH` × (a
    neighbour's surge). An async plugin's busy event loop stretches every `await`: the time shows in the
    model-call and downstream spans, though the model and the database are as fast as before. A slow
    dependency alone burns little more CPU (parsing its answers): no saturation."""
    if profile is None or profile.baseline_cpu_per_s <= 0 or not top.others:
        return False
    growth = profile.cpu_per_s / profile.baseline_cpu_per_s
    surge = load_growth is not None and load_growth >= LOAD_GROWTH
    return growth >= SATURATION_ALONE or (growth >= SATURATION_GROWTH and surge)


def _profile_hot(profile: ProfileSummary | None) -> bool:
    if profile is None or not profile.hotter or profile.hotter[0].share < HOTTER_BOUND:
        return False
    return profile.baseline_total_s <= 0 or profile.total_s >= CPU_GROWTH * profile.baseline_total_s


def latency_cause(trace: TraceAnalysis | None, profile: ProfileSummary | None) -> tuple[str, str, list[Evidence]]:
    """(cause, the span or function it names, evidence) of a slow window."""
    hottest = profile.hotter[0] if profile and profile.hotter else None
    hot_ev = (
        [Evidence(signal="pyroscope", what="cpu_hotter", value=hottest.share, detail=hottest.function)]
        if hottest is not None
        else []
    )
    if trace is None:
        if hottest is not None and _profile_hot(profile):
            return "cpu", hottest.function, hot_ev
        return "unknown", "", [Evidence(signal="tempo", what="no_trace")]
    ev = [
        Evidence(signal="tempo", what="slowest_trace", value=trace.tool_duration_s, unit="s", detail=trace.trace_id),
        Evidence(signal="tempo", what="critical_path", detail=" › ".join(trace.critical_path[:6])),
    ]
    llm, child, share = trace.llm_share, trace.slowest_child, trace.slowest_child_share
    llm_ev = Evidence(signal="tempo", what="llm_share", value=llm, unit="ratio", detail=trace.llm_model or "")
    child_ev = Evidence(signal="tempo", what="span_share", value=share, unit="ratio", detail=child or "")
    if llm >= LLM_BOUND and llm > share:
        return "llm", trace.llm_model or "", [*ev, llm_ev]
    internal = bool(child) and trace.slowest_child_kind == "internal" and share >= CHILD_BOUND
    profile_hot = hottest is not None and _profile_hot(profile)
    if internal or (profile_hot and share < CHILD_BOUND and llm < LLM_BOUND):
        fn = hottest.function if hottest is not None and profile_hot else (child or "")
        return "cpu", fn, [*ev, *([child_ev] if internal else []), *hot_ev]
    if child and share >= CHILD_BOUND:
        return "downstream", child, [*ev, child_ev]
    if trace.slowest_child_kind == "internal":
        return ("cpu", child or "", [*ev, llm_ev, child_ev]) if share > llm else ("llm", "", [*ev, llm_ev, child_ev])
    return ("downstream", child or "", [*ev, llm_ev, child_ev]) if share > llm else ("llm", "", [*ev, llm_ev, child_ev])


def decide(
    findings: list[Finding],
    *,
    trace: TraceAnalysis | None,
    profile: ProfileSummary | None,
    problems: dict[str, str],
    has_data: bool,
    known_tenants: list[str] | None = None,
    partial: dict[str, str] | None = None,
    sampled: tuple[int, int] | None = None,
    load_growth: float | None = None,
) -> tuple[Verdict, list[Finding]]:
    """The verdict, and the findings with the top one's cause filled in. `problems` maps each backend that
    could not be asked (or is not configured) to why; `partial`, each backend whose answers said they
    lacked data (an incident found on them stands, but nothing found on them is "healthy"); `sampled`, the
    traces sampled in the window and how many of them came from exemplars; `load_growth`, every tenant's
    calls of the top finding's tool in its window against the stretch before it."""
    partial = {b: m for b, m in (partial or {}).items() if b not in problems}
    unchecked = [f"{b}: {m}" for b, m in problems.items()] + [f"{b}: {m}" for b, m in partial.items()]
    if "prometheus" in problems:
        why = f"unknown: Prometheus could not be asked ({problems['prometheus']})"
        return _plain("unknown", "unknown", why, unchecked), findings
    if not has_data:
        known = f"; tenants with data: {', '.join(known_tenants[:12])}" if known_tenants else ""
        why = f"no data: no series for this plugin and tenant in the range{known}"
        return _plain("no_data", "none", why, unchecked), findings
    if findings:
        top = findings[0]
        detail = ""
        state = "incident"
        if top.kind == "latency":
            cause, detail, ev = latency_cause(trace, profile)
            if profile is not None and saturated(top, profile, load_growth) and cause != "cpu":
                hottest = profile.hotter[0].function if profile.hotter else ""
                cause, detail = "cpu", hottest
                ev = [
                    Evidence(
                        signal="pyroscope",
                        what="cpu_saturated",
                        value=profile.cpu_per_s,
                        baseline=profile.baseline_cpu_per_s,
                        unit="cores",
                        detail=hottest,
                    ),
                    *ev,
                ]
            if sampled is not None and (trace is not None or sampled):
                ev.append(
                    Evidence(signal="tempo", what="sampled_traces", value=sampled[0], baseline=sampled[1], unit="count")
                )
            top = msgspec.structs.replace(top, cause=cause, evidence=[*top.evidence, *ev])
            if cause == "unknown" and "tempo" in problems:
                state = "unknown"
        findings = [top, *findings[1:]]
        return (
            Verdict(
                state=state,
                cause=top.cause,
                scope=top.scope,
                tool=top.tool,
                version=top.version,
                window=(top.start, top.end),
                summary=wording.summary(top, detail),
                evidence=wording.evidence_lines(top),
                unchecked=unchecked,
                detail=detail,
            ),
            findings,
        )
    if problems:
        return _plain(
            "unknown", "unknown", "no finding, but not every pillar answered: " + "; ".join(unchecked), unchecked
        ), findings
    if partial:
        return _plain(
            "unknown", "unknown", "no finding, but answers were partial: " + "; ".join(unchecked), unchecked
        ), findings
    return _plain("healthy", "none", "healthy: every pillar answered and nothing crossed a line", []), findings


def _plain(state: str, cause: str, summary: str, unchecked: list[str]) -> Verdict:
    """A verdict without a finding."""
    return Verdict(
        state=state, cause=cause, scope="tenant", tool=None, summary=summary, evidence=[], unchecked=unchecked
    )
