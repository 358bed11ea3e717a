"""Provides `plugintop report` as text: the triage for a terminal of `width` columns (verdict,
findings with their evidence and log patterns, percentiles, the window's chart, spans, trace, profile,
cost, logs, SLO). Every untrusted string passes through `inert` before it is printed."""

from __future__ import annotations

import math
import textwrap

from plugintop.analysis import wording
from plugintop.analysis.model import TriageResult
from plugintop.analysis.slo import slo_state
from plugintop.present.chart import chart
from plugintop.report import why
from plugintop.textsafe import inert
from plugintop.timerange import to_rfc3339

_s = wording.duration
_pct = wording.pct


def _t(ts: float) -> str:
    return wording.clock(ts)


def _x(now: float | None, before: float | None) -> str:
    if now is None or before is None or before <= 0:
        return ""
    return f" (x{now / before:.1f})"


def wrap(text: str, width: int, first: str, rest: str | None = None) -> list[str]:
    """Untrusted `text` made inert and wrapped to `width` columns (long words are broken)."""
    return textwrap.wrap(
        inert(text, 2000), width, initial_indent=first, subsequent_indent=rest if rest is not None else first
    ) or [first.rstrip()]


def to_text(r: TriageResult, width: int = 80) -> str:
    """The triage for a terminal, at most `width` columns."""

    def x(s: object, n: int = width - 4) -> str:
        return inert(str(s), n)

    lines = [f"plugintop report  {x(r.plugin, 24)} / {x(r.tenant, 24)}  {to_rfc3339(r.start)[:16]}Z .. {_t(r.end)}Z"]
    v = r.verdict
    if v:
        head = f"VERDICT  {v.state.upper()}" + (f"  {v.cause} ({v.scope})" if v.state == "incident" else "")
        lines += ["", head, *wrap(v.summary, width, "  ")]
        for e in v.evidence:
            lines += wrap(e, width, "  - ", "    ")
        if v.unchecked:
            lines += wrap("unchecked: " + "; ".join(v.unchecked), width, "  ", "    ")
        if v.state == "no_data" and (r.known_tenants or r.known_plugins):
            known = r.known_tenants or r.known_plugins
            what = "tenants" if r.known_tenants else "plugins"
            lines += [f"  {what} with data: {x(', '.join(known[:20]), width - 20)}"]
    if r.findings:
        lines += ["", f"FINDINGS ({len(r.findings)}, most severe first)"]
        for i, f in enumerate(r.findings, 1):
            scope = f.scope + (f" {f.version}" if f.version else "")
            lines += [
                f"  {i}. {f.kind.upper():<8} {x(f.tool, 24)}  {wording.window(f)}  ×{f.severity:.1f}  "
                f"{f.cause} ({x(scope, 20)})"
            ]
            if i == 1 and v is not None and v.state in ("incident", "unknown"):
                lines += ["     (the verdict above)"]
            else:
                for e in wording.evidence_lines(f):
                    lines += wrap(e, width, "     - ", "       ")
                for pt in f.patterns[:3]:
                    tid = f"  trace {x(pt.trace_id, 40)}" if pt.trace_id else ""
                    lines += [f"       e.g. {x(pt.example, width - 12 - len(tid))}{tid}"]
            if f.explain is not None:
                for line in why.text(f.explain, "     "):
                    body = line.lstrip(" ")
                    pad = " " * (len(line) - len(body))
                    lines += wrap(body, width, pad, pad + "  ")
    lines += ["", f"{'TOOL':<22}{'p50':>8}{'p90':>8}{'p99':>8}{'rate/s':>8}{'success':>9}{'fleet p99':>11}"]
    for t in r.tools:
        lines.append(
            f"{x(t.tool, 21):<22}{_s(t.p50_s):>8}{_s(t.p90_s):>8}{_s(t.p99_s):>8}"
            f"{(f'{t.rate_per_s:.2f}' if math.isfinite(t.rate_per_s) else '-'):>8}"
            f"{_pct(t.success_ratio, 2):>9}{_s(t.fleet_p99_s):>11}"
        )
    w = r.slow_window
    if w:
        tgt = f" target {_s(w.target_s)}" if w.target_s else ""
        lines += [
            "",
            f"SLOW WINDOW  {_t(w.start)}-{_t(w.end)}Z ({w.duration / 60:.0f} min)  {x(w.tool, 30)}  "
            f"p99 {_s(w.p99_s)}{tgt}",
        ]
        ts = next((t for t in r.tools if t.tool == w.tool), None)
        if ts:
            lines += [
                "  " + row for row in chart(ts.p99_series, r.start, r.end, width - 4, 5, w.target_s, (w.start, w.end))
            ]
    if r.spans:
        lines += ["", "SLOW SPANS (slowest first)"]
        lines += [f"  {_s(s.duration_s):>8}  {x(s.trace_id, 32)}  {x(s.source, 12)}" for s in r.spans[:8]]
    if r.trace:
        tr = r.trace
        lines += [
            "",
            f"TRACE {x(tr.trace_id, 32)}  {len(tr.spans)} spans  {_s(tr.tool_duration_s)}  LLM share {_pct(tr.llm_share, 0)}",
        ]
        lines += [f"  critical path: {x(' > '.join(tr.critical_path), width - 17)}"]
        if tr.slowest_child:
            lines += [f"  slowest non-LLM child: {x(tr.slowest_child, 40)} {_pct(tr.slowest_child_share, 0)}"]
    if r.profile:
        p = r.profile
        lines += ["", "PROFILE  window vs baseline (eBPF profiles know no tenant: the whole plugin)"]
        lines += [
            "  top self:  " + x(", ".join(f"{f.function} {_pct(f.share, 0)}" for f in p.top_self[:4]), width - 14)
        ]
        if p.hotter:
            lines += [
                "  hotter:    "
                + x(", ".join(f"{f.function} +{f.share * 100:.0f}pts" for f in p.hotter[:4]), width - 14)
            ]
        if p.truncated:
            lines += ["  (flame graph truncated by maxNodes: small frames merged into 'other')"]
    if r.cost:
        c = r.cost
        lines += [
            "",
            f"COST  ${c.usd_per_min:.4f}/min vs ${c.baseline_usd_per_min:.4f}/min"
            f"{_x(c.usd_per_min, c.baseline_usd_per_min)}; {c.tokens_per_min:,.0f} tokens/min vs "
            f"{c.baseline_tokens_per_min:,.0f}{_x(c.tokens_per_min, c.baseline_tokens_per_min)}",
        ]
        if c.usd_per_call is not None:
            lines += [
                f"      per call ${c.usd_per_call:.5f} vs ${c.baseline_usd_per_call or 0:.5f}"
                f"{_x(c.usd_per_call, c.baseline_usd_per_call)}"
            ]
    if r.business:
        head = "BUSINESS  the plugin's own metrics: window vs the stretch before it (tenant; rest of fleet)"
        lines += ["", *wrap(head, width, "", "          ")]
        for m in r.business:
            fleet = wording.signed_change(m.fleet_window, m.fleet_baseline)
            row = (
                f"  {wording.number(m.window)}{x(m.unit, 8)} vs {wording.number(m.baseline)}{x(m.unit, 8)} "
                f"{wording.signed_change(m.window, m.baseline)} (fleet {fleet})  "
            )
            lines += [row + x(m.name, max(10, width - len(row)))]
    if r.logs:
        lines += [
            "",
            f"LOGS  {r.logs.error_lines} error lines in the window (baseline {r.logs.baseline_error_lines});"
            f" {len(r.logs.trace_lines)} lines of the slow trace",
        ]
    if r.slo:
        s = r.slo
        burn = "  ".join(f"{k} {b:.1f}x" + ("!" if b >= 1 else "") for k, b in s.burn_rate.items())
        state = slo_state(s)
        lines += [
            "",
            f"SLO {state}  success 30d {_pct(s.success_ratio_30d, 2)}  burn {burn}",
            f"     alerts firing: {x(', '.join(s.alerts_firing) or 'none', width - 20)}",
        ]
    else:
        lines += ["", "SLO unknown  (Prometheus did not answer)"]
    if r.errors:
        lines += ["", "ERRORS"] + [f"  {x(e.backend, 12)}: {x(e.message, width - 14)}" for e in r.errors]
    for n in r.notes[:5]:
        lines.append(f"note: {x(n, width - 7)}")
    return "\n".join(lines) + "\n"
