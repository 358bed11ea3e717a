"""Provides the report's JSON object (DESIGN §4 and §4.1): NaN and ±Inf become null."""

from __future__ import annotations

import math
from typing import Any

from plugintop.analysis.model import Finding, TriageResult, Verdict
from plugintop.report import why
from plugintop.timerange import to_rfc3339


def _num(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "tool": f.tool,
        "start": to_rfc3339(f.start),
        "end": to_rfc3339(f.end),
        "severity": _num(f.severity),
        "cause": f.cause,
        "scope": f.scope,
        "version": f.version,
        "evidence": [
            {"signal": e.signal, "what": e.what, "value": _num(e.value), "baseline": _num(e.baseline), "unit": e.unit}
            | ({"detail": e.detail} if e.detail else {})
            for e in f.evidence
        ],
        "patterns": [
            {
                "pattern": p.pattern,
                "count": p.count,
                "baseline_count": p.baseline_count,
                "example": p.example,
                "trace_id": p.trace_id,
            }
            | ({"sampled": p.sampled} if p.sampled else {})
            for p in f.patterns
        ],
        "explain": why.to_json(f.explain) if f.explain is not None else None,
    }


def to_json(r: TriageResult) -> dict[str, Any]:
    """The report's JSON object: DESIGN §4 with §4.1's verdict and findings (NaN and ±Inf become null)."""
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
        "business": [
            {
                "name": m.name,
                "type": m.kind,
                "unit": m.unit,
                "window": _num(m.window),
                "baseline": _num(m.baseline),
                "change": _num(m.change),
                "fleet_window": _num(m.fleet_window),
                "fleet_baseline": _num(m.fleet_baseline),
                "fleet_change": _num(m.fleet_change),
            }
            for m in r.business
        ],
        "verdict": _verdict(r),
        "errors": [{"backend": e.backend, "message": e.message} for e in r.errors],
        "findings": [finding_json(f) for f in r.findings],
        "known_tenants": r.known_tenants,
        "known_plugins": r.known_plugins,
        "scrape_interval_s": r.scrape_interval_s,
        "notes": r.notes,
    }


def _verdict(r: TriageResult) -> dict[str, Any]:
    v = r.verdict or Verdict(
        state="unknown", cause="unknown", scope="tenant", tool=None, summary="the triage did not finish", evidence=[]
    )
    return {
        "state": v.state,
        "cause": v.cause,
        "scope": v.scope,
        "tool": v.tool,
        "version": v.version,
        "window": {"start": to_rfc3339(v.window[0]), "end": to_rfc3339(v.window[1])} if v.window else None,
        "summary": v.summary,
        "evidence": v.evidence,
        "unchecked": v.unchecked,
    }


def no_nan(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: no_nan(x) for k, x in v.items()}
    if isinstance(v, list):
        return [no_nan(x) for x in v]
    return v
