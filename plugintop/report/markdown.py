"""Provides `plugintop report` as markdown: an incident bundle for a ticket or a chat channel (verdict,
findings, percentiles, the window's chart, the critical path, hotter frames, the cost table, the slow
trace's log lines, the equivalent commands and Grafana Explore links). Every untrusted string goes
through `md` (prose, table cells) or `md_code` (inline code); the lines of a code block through
`fenced`, so none closes its block."""

from __future__ import annotations

from plugintop.analysis import wording
from plugintop.analysis.model import TriageResult
from plugintop.present.chart import chart
from plugintop.present.commands import commands, explore_link
from plugintop.report import why
from plugintop.textsafe import inert, md, md_code
from plugintop.timerange import to_rfc3339

_s = wording.duration
_pct = wording.pct
FENCE = "`" * 3


def fenced(line: str, limit: int | None = None) -> str:
    """An untrusted line for a code block: inert, and no run of three backticks in it (it would close
    the block, and what follows would be markdown again)."""
    return inert(line, limit).replace(FENCE, "'''")


def to_markdown(
    r: TriageResult, urls: dict[str, str] | None = None, grafana_url: str | None = None, dashboard: str | None = None
) -> str:
    """An incident bundle for a ticket or a chat channel."""
    urls = urls or {}
    out = [f"## plugintop: {md_code(r.plugin)} / {md_code(r.tenant)} {to_rfc3339(r.start)} .. {to_rfc3339(r.end)}", ""]
    v = r.verdict
    if v:
        cause = f": {v.cause} ({v.scope})" if v.state == "incident" else ""
        out += [f"**Verdict: {v.state}{cause}** {md(v.summary)}", ""]
        out += [f"- {md(e)}" for e in v.evidence]
        if v.unchecked:
            out += [f"- unchecked: {md('; '.join(v.unchecked))}"]
        known = r.known_tenants or r.known_plugins
        if v.state == "no_data" and known:
            out += [f"- {'tenants' if r.known_tenants else 'plugins'} with data: {md(', '.join(known[:20]))}"]
        out += [""]
    if r.findings:
        out += ["### Findings", ""]
        for i, f in enumerate(r.findings, 1):
            scope = f.scope + (f" {f.version}" if f.version else "")
            out += [
                f"{i}. **{f.kind}** {md_code(f.tool)} {wording.window(f)}, ×{f.severity:.1f}, {f.cause} ({md(scope)})"
            ]
            out += [f"   - {md(e)}" for e in wording.evidence_lines(f)]
            for p in f.patterns[:3]:
                tid = f" (trace {md_code(p.trace_id)})" if p.trace_id else ""
                out += [f"   - e.g. {md_code(p.example, 200)}{tid}"]
            if f.explain is not None:
                out += why.markdown(f.explain)
        out += [""]
    out += ["| tool | p50 | p90 | p99 | rate/s | success | fleet p99 |", "|---|---|---|---|---|---|---|"]
    out += [
        f"| {md(t.tool)} | {_s(t.p50_s)} | {_s(t.p90_s)} | {_s(t.p99_s)} | {t.rate_per_s:.2f} | "
        f"{_pct(t.success_ratio, 2)} | {_s(t.fleet_p99_s)} |"
        for t in r.tools
    ]
    w = r.slow_window
    if w:
        ts = next((t for t in r.tools if t.tool == w.tool), None)
        out += [
            "",
            f"### Slow window {to_rfc3339(w.start)} .. {to_rfc3339(w.end)}: {md_code(w.tool)} p99 {_s(w.p99_s)}"
            + (f" (target {_s(w.target_s)})" if w.target_s else ""),
            "",
            FENCE,
        ]
        if ts:
            out += [fenced(row) for row in chart(ts.p99_series, r.start, r.end, 72, 6, w.target_s, (w.start, w.end))]
        out += [FENCE]
    if r.trace:
        out += [
            "",
            f"### Slowest trace {md_code(r.trace.trace_id)} ({_s(r.trace.tool_duration_s)}, LLM share "
            f"{_pct(r.trace.llm_share, 0)})",
            "",
            "Critical path:",
            "",
        ]
        out += [f"1. {md_code(name)} {ns / 1e6:.0f} ms on the path" for name, ns in r.trace.critical_path_ns]
    if r.profile and r.profile.hotter:
        out += ["", "### Hotter than baseline (CPU, whole plugin)", ""]
        out += [f"- {md_code(f.function)} +{f.share * 100:.1f} pts" for f in r.profile.hotter[:8]]
    if r.cost and r.cost.by_model:
        out += [
            "",
            "### LLM cost",
            "",
            "| model | USD/min | baseline | tokens/min | baseline |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {md(c.model)} | {c.usd_per_min:.4f} | {c.baseline_usd_per_min:.4f} | {c.tokens_per_min:,.0f} | "
            f"{c.baseline_tokens_per_min:,.0f} |"
            for c in r.cost.by_model
        ]
    if r.business:
        out += [
            "",
            "### Business metrics (window vs the stretch before it)",
            "",
            "| metric | tenant | baseline | change | rest of fleet |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {md(m.name)} | {wording.number(m.window)}{md(m.unit)} | {wording.number(m.baseline)}{md(m.unit)} | "
            f"{wording.signed_change(m.window, m.baseline)} | {wording.signed_change(m.fleet_window, m.fleet_baseline)} |"
            for m in r.business
        ]
    if r.logs and r.logs.trace_lines:
        out += ["", "### Log lines of the slow trace", "", FENCE]
        out += [fenced(line, 300) for line in r.logs.trace_lines[:30]] + [FENCE]
    out += ["", "### Reproduce", "", FENCE + "sh"] + [fenced(c) for c in commands(r, urls)] + [FENCE]
    if dashboard:
        out += ["", f"[Plugin Overview dashboard, same range]({dashboard})"]
    if grafana_url:
        out += ["", "### Grafana Explore", ""]
        out += [
            f"- [{b}]({explore_link(grafana_url, q, r.start, r.end)})" for b, qs in r.queries.items() for q in qs[:1]
        ]
    if r.errors:
        out += ["", "### Errors", ""] + [f"- **{e.backend}**: {md(e.message)}" for e in r.errors]
    return "\n".join(out) + "\n"
