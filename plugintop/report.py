"""Provides `plugintop report`: the triage as JSON (DESIGN §4), text for an 80-column terminal, or
markdown for an incident channel (with a text chart, the critical path, hotter frames, the cost
table, the slow trace's own log lines, Grafana Explore links and the equivalent CLI commands).
Every untrusted string passes through `inert` before it is printed."""

from __future__ import annotations

import json
import math
import shlex
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from plugintop.analysis.model import TriageResult
from plugintop.textchart import chart
from plugintop.textsafe import inert
from plugintop.timerange import to_rfc3339

EXIT_OK, EXIT_NO_DATA, EXIT_USAGE, EXIT_ALL_FAILED = 0, 1, 2, 3
BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")


def _num(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def to_json(r: TriageResult) -> dict[str, Any]:
    """The report's JSON object, exactly DESIGN §4 (NaN and ±Inf become null)."""
    w = r.slow_window
    slo = r.slo
    return {
        "plugin": r.plugin,
        "tenant": r.tenant,
        "range": {"start": to_rfc3339(r.start), "end": to_rfc3339(r.end)},
        "tools": [
            {
                "tool": t.tool,
                "p50_s": _num(t.p50_s),
                "p90_s": _num(t.p90_s),
                "p99_s": _num(t.p99_s),
                "rate_per_s": _num(t.rate_per_s),
                "success_ratio": _num(t.success_ratio),
                "fleet_p99_s": _num(t.fleet_p99_s),
            }
            for t in r.tools
        ],
        "slow_window": None
        if w is None
        else {
            "start": to_rfc3339(w.start),
            "end": to_rfc3339(w.end),
            "tool": w.tool,
            "p99_s": _num(w.p99_s),
            "target_s": w.target_s,
        },
        "spans": [
            {
                "trace_id": s.trace_id,
                "span_id": s.span_id,
                "tool": s.tool,
                "duration_s": s.duration_s,
                "source": s.source,
            }
            for s in r.spans
        ],
        "trace": None
        if r.trace is None
        else {
            "trace_id": r.trace.trace_id,
            "span_count": len(r.trace.spans),
            "critical_path": r.trace.critical_path,
            "llm_share": r.trace.llm_share,
        },
        "profile": None
        if r.profile is None
        else {
            "top_self": [{"function": f.function, "share": f.share} for f in r.profile.top_self],
            "hotter": [{"function": f.function, "delta_share": f.share} for f in r.profile.hotter],
        },
        "cost": None
        if r.cost is None
        else {
            "usd_per_min": r.cost.usd_per_min,
            "baseline_usd_per_min": r.cost.baseline_usd_per_min,
            "tokens_per_min": r.cost.tokens_per_min,
            "baseline_tokens_per_min": r.cost.baseline_tokens_per_min,
        },
        "logs": None
        if r.logs is None
        else {
            "error_lines": r.logs.error_lines,
            "baseline_error_lines": r.logs.baseline_error_lines,
            "trace_lines": r.logs.trace_lines,
        },
        "slo": {
            "success_ratio_30d": _num(slo.success_ratio_30d) if slo else None,
            "burn_rate": {k: _num((slo.burn_rate if slo else {}).get(k)) for k in ("5m", "30m", "1h", "6h")},
            "alerts_firing": list(slo.alerts_firing) if slo else [],
        },
        "verdict": {
            "cause": r.verdict.cause if r.verdict else "none",
            "scope": r.verdict.scope if r.verdict else "tenant",
            "tool": r.verdict.tool if r.verdict else None,
            "summary": r.verdict.summary if r.verdict else "",
            "evidence": r.verdict.evidence if r.verdict else [],
        },
        "errors": [{"backend": e.backend, "message": e.message} for e in r.errors],
    }


def exit_code(r: TriageResult) -> int:
    """0 report made, 1 no data for that plugin/tenant, 3 every backend failed."""
    failed = {e.backend for e in r.errors}
    if all(b in failed for b in BACKENDS):
        return EXIT_ALL_FAILED
    if not r.has_data:
        return EXIT_NO_DATA
    return EXIT_OK


def _t(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def _s(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "-"
    if math.isinf(v):
        return "+Inf"
    return f"{v * 1000:.0f}ms" if v < 1 else f"{v:.2f}s"


def _pct(v: float | None, digits: int = 1) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v * 100:.{digits}f}%"


def _x(now: float | None, before: float | None) -> str:
    if now is None or before is None or before <= 0:
        return ""
    return f" (x{now / before:.1f})"


def to_text(r: TriageResult, width: int = 80) -> str:
    """The triage for a terminal, at most `width` columns."""

    def x(s: object, n: int = width - 4) -> str:
        return inert(str(s), n)

    lines = [f"plugintop report  {x(r.plugin, 24)} / {x(r.tenant, 24)}  {to_rfc3339(r.start)[:16]}Z .. {_t(r.end)}Z"]
    v = r.verdict
    if v:
        lines += ["", f"VERDICT  {v.cause.upper()} ({v.scope})  {x(v.summary, width - 20)}"]
        lines += [f"  - {x(e, width - 4)}" for e in v.evidence]
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
        lines += [f"  {_s(s.duration_s):>8}  {s.trace_id}  {s.source}" for s in r.spans[:8]]
    if r.trace:
        tr = r.trace
        lines += [
            "",
            f"TRACE {tr.trace_id}  {len(tr.spans)} spans  {_s(tr.tool_duration_s)}  LLM share {_pct(tr.llm_share, 0)}",
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
    if r.logs:
        lines += [
            "",
            f"LOGS  {r.logs.error_lines} error lines in the window (baseline {r.logs.baseline_error_lines});"
            f" {len(r.logs.trace_lines)} lines of the slow trace",
        ]
    if r.slo:
        s = r.slo
        burn = "  ".join(f"{k} {b:.1f}x" for k, b in s.burn_rate.items())
        lines += [
            "",
            f"SLO  success 30d {_pct(s.success_ratio_30d, 2)}  burn {burn}",
            f"     alerts firing: {', '.join(s.alerts_firing) or 'none'}",
        ]
    if r.errors:
        lines += ["", "ERRORS"] + [f"  {e.backend}: {x(e.message, width - 14)}" for e in r.errors]
    for n in r.notes[:5]:
        lines.append(f"note: {x(n, width - 7)}")
    return "\n".join(lines) + "\n"


def to_markdown(r: TriageResult, urls: dict[str, str] | None = None, grafana_url: str | None = None) -> str:
    """An incident bundle for a ticket or a chat channel."""
    urls = urls or {}

    def md(s: object) -> str:
        return inert(str(s)).replace("|", "\\|").replace("`", "'")

    out = [f"## plugintop: `{md(r.plugin)}` / `{md(r.tenant)}` {to_rfc3339(r.start)} .. {to_rfc3339(r.end)}", ""]
    if r.verdict:
        out += [f"**Verdict: {r.verdict.cause} ({r.verdict.scope})** {md(r.verdict.summary)}", ""]
        out += [f"- {md(e)}" for e in r.verdict.evidence] + [""]
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
            f"### Slow window {to_rfc3339(w.start)} .. {to_rfc3339(w.end)}: `{md(w.tool)}` p99 {_s(w.p99_s)}"
            + (f" (target {_s(w.target_s)})" if w.target_s else ""),
            "",
            "```",
        ]
        if ts:
            out += chart(ts.p99_series, r.start, r.end, 72, 6, w.target_s, (w.start, w.end))
        out += ["```"]
    if r.trace:
        out += [
            "",
            f"### Slowest trace `{r.trace.trace_id}` ({_s(r.trace.tool_duration_s)}, LLM share "
            f"{_pct(r.trace.llm_share, 0)})",
            "",
            "Critical path:",
            "",
        ]
        out += [f"1. `{md(name)}` {ns / 1e6:.0f} ms on the path" for name, ns in r.trace.critical_path_ns]
    if r.profile and r.profile.hotter:
        out += ["", "### Hotter than baseline (CPU, whole plugin)", ""]
        out += [f"- `{md(f.function)}` +{f.share * 100:.1f} pts" for f in r.profile.hotter[:8]]
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
    if r.logs and r.logs.trace_lines:
        out += ["", "### Log lines of the slow trace", "", "```"]
        out += [inert(line, 300).replace("```", "'''") for line in r.logs.trace_lines[:30]] + ["```"]
    out += ["", "### Reproduce", "", "```sh"] + [inert(c) for c in commands(r, urls)] + ["```"]
    if grafana_url:
        out += ["", "### Grafana Explore", ""]
        out += [
            f"- [{b}]({explore_link(grafana_url, q, r.start, r.end)})" for b, qs in r.queries.items() for q in qs[:1]
        ]
    if r.errors:
        out += ["", "### Errors", ""] + [f"- **{e.backend}**: {md(e.message)}" for e in r.errors]
    return "\n".join(out) + "\n"


def commands(r: TriageResult, urls: dict[str, str]) -> list[str]:
    """The equivalent `promtool` / `logcli` / `tempo-cli` / `profilecli` commands of the queries."""
    q = shlex.quote
    start, end = to_rfc3339(r.start), to_rfc3339(r.end)
    out = []
    for query in r.queries.get("prometheus", [])[:3]:
        out.append(
            f"promtool query range --start={start} --end={end} --step=60s "
            f"{q(urls.get('prometheus', 'http://PROMETHEUS'))} {q(query)}"
        )
    for query in r.queries.get("loki", [])[:2]:
        out.append(
            f"logcli query --addr={q(urls.get('loki', 'http://LOKI'))} --from={start} --to={end} --limit=100 {q(query)}"
        )
    tempo = urls.get("tempo", "http://TEMPO").split("://", 1)[-1]
    for query in r.queries.get("tempo", [])[:1]:
        out.append(f"tempo-cli query api search {q(tempo)} {q(query)} {start} {end}")
    if r.trace:
        out.append(f"tempo-cli query api trace-id {q(tempo)} {r.trace.trace_id}")
    for query in r.queries.get("pyroscope", [])[:1]:
        brace = query.find("{")
        out.append(
            f"profilecli query merge --url={q(urls.get('pyroscope', 'http://PYROSCOPE'))} "
            f"--profile-type={q(query[:brace])} --query={q(query[brace:])} --from={start} --to={end}"
        )
    return out


def explore_link(grafana: str, query: str, start: float, end: float) -> str:
    """A Grafana Explore link (the `left` form every Grafana version redirects)."""
    state = {
        "queries": [{"refId": "A", "expr": query}],
        "range": {"from": str(int(start * 1000)), "to": str(int(end * 1000))},
    }
    return f"{grafana.rstrip('/')}/explore?left={quote(json.dumps(state, separators=(',', ':')))}"


def _no_nan(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _no_nan(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_no_nan(x) for x in v]
    return v


def render(r: TriageResult, fmt: str, urls: dict[str, str] | None = None, grafana_url: str | None = None) -> str:
    """The report in `json`, `markdown` or `text`."""
    if fmt == "json":
        return json.dumps(_no_nan(to_json(r)), indent=2, allow_nan=False) + "\n"
    if fmt == "markdown":
        return to_markdown(r, urls, grafana_url)
    return to_text(r)
