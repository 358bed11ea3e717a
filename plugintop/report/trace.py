"""Provides `plugintop trace ID` as text, markdown or JSON: the waterfall (offsets, durations, ★ critical
path, ◆ model call, ✗ error), the critical path with the time each span spends on it, the LLM share and
the trace's log lines. Every untrusted string passes through `inert` before it is printed."""

from __future__ import annotations

from typing import Any

from plugintop.analysis import wording
from plugintop.analysis.model import SpanNode, TraceAnalysis
from plugintop.report.markdown import FENCE, fenced
from plugintop.textsafe import inert, json_text, md, md_code

MAX_ROWS = 200
"""Spans written in the waterfall (the rest are counted)."""


def _marks(sp: SpanNode) -> str:
    return ("★" if sp.on_critical_path else " ") + ("◆" if sp.is_llm else "✗" if sp.status == "error" else " ")


def _who(plugin: str | None, tenant: str | None) -> str:
    return f"plugin {inert(plugin or '?', 60)}, tenant {inert(tenant or '?', 60)}"


def to_text(t: TraceAnalysis, plugin: str | None, tenant: str | None, logs: list[str], width: int = 80) -> str:
    """The trace for a terminal of `width` columns."""
    t0 = min((sp.start_ns for sp in t.spans), default=0)
    out = [
        f"TRACE {inert(t.trace_id, 32)}  {len(t.spans)} spans  {wording.duration(t.tool_duration_s)}  "
        f"LLM share {wording.pct(t.llm_share, 0)}  ({_who(plugin, tenant)})",
    ]
    if t.partial:
        out.append("  PARTIAL: Tempo cut the trace (its span limit); what is shown is what came")
    out += ["", "CRITICAL PATH (time on the path in each span)"]
    out += [f"  {wording.duration(ns / 1e9):>8}  {inert(name, width - 14)}" for name, ns in t.critical_path_ns]
    out += ["", "WATERFALL  ★ critical path  ◆ model call  ✗ error", f"  {'offset':>8} {'duration':>8}"]
    name_w = max(20, width - 24)
    for sp in t.spans[:MAX_ROWS]:
        label = inert("  " * min(sp.depth, 8) + sp.name, name_w)
        offset = wording.duration((sp.start_ns - t0) / 1e9)
        out.append(f"{_marks(sp)} {offset:>8} {wording.duration((sp.end_ns - sp.start_ns) / 1e9):>8}  {label}")
    if len(t.spans) > MAX_ROWS:
        out.append(f"  … {len(t.spans) - MAX_ROWS} more spans")
    if logs:
        out += ["", f"LOG LINES ({len(logs)})"]
        out += [f"  {inert(line, width - 2)}" for line in logs]
    return "\n".join(out) + "\n"


def to_markdown(t: TraceAnalysis, plugin: str | None, tenant: str | None, logs: list[str]) -> str:
    """The trace for an incident channel: the header, the critical path as a list, the waterfall as code."""

    out = [
        f"### Trace {md_code(t.trace_id)}",
        f"{len(t.spans)} spans, {wording.duration(t.tool_duration_s)}, LLM share {wording.pct(t.llm_share, 0)}, "
        f"{md(_who(plugin, tenant))}",
        "",
        "**Critical path**",
        *[f"- {md_code(name, 200)} {wording.duration(ns / 1e9)}" for name, ns in t.critical_path_ns],
        "",
        FENCE,
        *[fenced(line) for line in to_text(t, plugin, tenant, [], 100).rstrip("\n").split("\n")],
        FENCE,
    ]
    if logs:
        out += ["", "**Log lines**", FENCE, *[fenced(x, 200) for x in logs], FENCE]
    return "\n".join(out) + "\n"


def to_json(t: TraceAnalysis, plugin: str | None, tenant: str | None, logs: list[str]) -> str:
    """The trace as JSON: DESIGN §4's `trace` object, plus the spans, whose it is and its log lines."""
    doc: dict[str, Any] = {
        "trace_id": t.trace_id,
        "plugin": plugin,
        "tenant": tenant,
        "span_count": len(t.spans),
        "duration_s": t.tool_duration_s,
        "critical_path": t.critical_path,
        "critical_path_s": [[name, ns / 1e9] for name, ns in t.critical_path_ns],
        "llm_share": t.llm_share,
        "partial": t.partial,
        "spans": [
            {
                "span_id": sp.span_id,
                "parent_id": sp.parent_id,
                "name": sp.name,
                "start_ns": str(sp.start_ns),
                "duration_s": (sp.end_ns - sp.start_ns) / 1e9,
                "depth": sp.depth,
                "critical": sp.on_critical_path,
                "llm": sp.is_llm,
                "status": sp.status,
            }
            for sp in t.spans
        ],
        "log_lines": logs,
    }
    return json_text(doc)
