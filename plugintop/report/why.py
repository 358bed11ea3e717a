"""Provides the "why" block of a finding (DESIGN §4.2) for text and markdown, and its JSON object. The
words are `present.why`'s (the screen's too); untrusted strings (attribute names and values, tenant,
model and version names inside a change) go through `inert` for text and `md` for markdown."""

from __future__ import annotations

import math
from typing import Any

from plugintop.analysis.model import Explain
from plugintop.present.why import lines
from plugintop.textsafe import inert, md
from plugintop.timerange import to_rfc3339


def to_json(x: Explain) -> dict[str, Any]:
    """The `explain` object of a finding in the report's JSON (DESIGN §4.2)."""
    imp = x.impact
    return {
        "onset": to_rfc3339(x.onset) if x.onset is not None else None,
        "onset_kind": x.onset_kind or None,
        "ramp_end": to_rfc3339(x.ramp_end) if x.ramp_end is not None else None,
        "separates": x.separates,
        "compared": x.compared or None,
        "attributes": [
            {
                "attribute": a.attribute,
                "value": a.value,
                "share": round(a.share, 4),
                "baseline_share": round(a.baseline_share, 4),
                "lift": round(a.lift, 2) if math.isfinite(a.lift) else None,
                "n": a.n,
                "baseline_n": a.baseline_n,
                "p_value": float(f"{a.p_value:.3g}"),
            }
            for a in x.attributes
        ],
        "changes": [
            {"at": to_rfc3339(c.at), "kind": c.kind, "what": c.what, "before": c.before, "after": c.after}
            for c in x.changes
        ],
        "impact": None
        if imp is None
        else {
            "calls": imp.calls,
            "share": round(imp.share, 4),
            "users": imp.users,
            "error_budget_used": round(imp.error_budget_used, 4) if imp.error_budget_used is not None else None,
            "extra_cost_usd": imp.extra_cost_usd,
        },
        "corroboration": dict(x.corroboration),
    }


def text(x: Explain, indent: str = "    ") -> list[str]:
    """The "why" block for the terminal report: one header line, then the lines indented."""
    return [f"{indent}why:", *(f"{indent}  {line}" for line in lines(x, _inert))]


def markdown(x: Explain, indent: str = "   ") -> list[str]:
    """The "why" block for markdown: a bullet, then nested bullets."""
    return [f"{indent}- **why**", *(f"{indent}  - {line}" for line in lines(x, md))]


def _inert(text: object, limit: int | None = None) -> str:
    return inert(str(text), limit)
