"""Provides the "why" block of a finding (DESIGN §4.2) for text and markdown, and its JSON object: since
when, which calls, what changed, how bad, how sure. Untrusted strings (attribute names and values,
tenant, model and version names inside a change) go through `inert` for text and `md` for markdown."""

from __future__ import annotations

import math
from typing import Any

from plugintop.analysis import wording
from plugintop.analysis.model import AttributeLift, Change, Explain, Impact
from plugintop.textsafe import inert, md
from plugintop.timerange import to_rfc3339

NOTHING = "nothing separates the slow calls from the rest"
PILLARS = ("prometheus", "tempo", "loki", "pyroscope")
MIN_EXTRA_USD = 0.01
NAME_LIMIT = 80


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


def _onset(x: Explain) -> str | None:
    if x.onset is None:
        return None
    if x.onset_kind == "ramp" and x.ramp_end is not None:
        return f"since {wording.clock(x.onset)}Z, ramping up to {wording.clock(x.ramp_end)}Z"
    return f"since {wording.clock(x.onset)}Z (a step)"


def _attribute(a: AttributeLift, esc: Any) -> str:
    name = esc(a.attribute, NAME_LIMIT)
    value = esc(a.value, NAME_LIMIT)
    return (
        f"{name}={value}: {a.share:.0%} of these calls vs {a.baseline_share:.0%} of the rest "
        f"(×{a.lift:.1f}, n={a.n}/{a.baseline_n}, p={a.p_value:.1g})"
    )


def _change(c: Change, esc: Any) -> str:
    return f"{wording.clock(c.at)}Z {c.kind.replace('_', ' ')}: {esc(c.what, 200)}"


def _impact(imp: Impact) -> str:
    parts = [f"{imp.calls:,} calls ({imp.share:.0%} of the window's)"]
    if imp.users is not None:
        seen = f" (of {imp.users_seen_of:,} calls seen)" if imp.users_seen_of else ""
        parts.append(f"{imp.users:,} users{seen}")
    if imp.error_budget_used is not None:
        parts.append(f"{imp.error_budget_used:.1%} of the 30-day error budget")
    if imp.extra_cost_usd is not None and imp.extra_cost_usd >= MIN_EXTRA_USD:
        parts.append(f"{wording.usd(imp.extra_cost_usd)} extra LLM spend")
    return ", ".join(parts)


def _corroboration(x: Explain) -> str | None:
    c = x.corroboration
    if not c:
        return None
    confirms = [p for p in PILLARS if c.get(p) == "confirms"]
    parts = [f"{p} {c[p]}" for p in PILLARS if p in c]
    text = ", ".join(parts)
    if len(confirms) == 1:
        text += f": only {confirms[0]} supports it"
    return text


def lines(x: Explain, esc: Any) -> list[str]:
    """The block's lines (without bullets), untrusted parts through `esc(text, limit)`."""
    out = []
    if (o := _onset(x)) is not None:
        out.append(o)
    if x.separates:
        out.append("which calls: " + _attribute(x.attributes[0], esc))
        out += ["  also " + _attribute(a, esc) for a in x.attributes[1:3]]
    elif x.compared:
        out.append(f"which calls: {NOTHING} ({x.compared})")
    if x.changes:
        out += ["changed: " + _change(c, esc) for c in x.changes[:4]]
    elif x.onset is not None:
        out.append("changed: nothing plugintop reads changed at the onset")
    if x.impact is not None:
        out.append("impact: " + _impact(x.impact))
    if (c := _corroboration(x)) is not None:
        out.append("seen by: " + c)
    return out


def text(x: Explain, indent: str = "    ") -> list[str]:
    """The "why" block for the terminal report: one header line, then the lines indented."""
    return [f"{indent}why:", *(f"{indent}  {line}" for line in lines(x, _inert))]


def markdown(x: Explain, indent: str = "   ") -> list[str]:
    """The "why" block for markdown: a bullet, then nested bullets."""
    return [f"{indent}- **why**", *(f"{indent}  - {line}" for line in lines(x, md))]


def _inert(text: object, limit: int | None = None) -> str:
    return inert(str(text), limit)
