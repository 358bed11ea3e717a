"""Provides the words of a finding's explanation (DESIGN §4.2), shared by the reports and the screen:
since when, which calls, what changed, how bad, how sure. Each untrusted part (attribute names and
values, names inside a change) goes through the caller's escaper, `esc(text, limit)`."""

from __future__ import annotations

from typing import Any

from plugintop.analysis import wording
from plugintop.analysis.model import AttributeLift, Change, Explain, Impact

NOTHING = "nothing separates the slow calls from the rest"
PILLARS = ("prometheus", "tempo", "loki", "pyroscope")
MIN_EXTRA_USD = 0.01
NAME_LIMIT = 80


def _onset(x: Explain, utc: bool) -> str | None:
    if x.onset is None:
        return None
    if x.onset_kind == "ramp" and x.ramp_end is not None:
        return f"since {wording.at(x.onset, utc)}, ramping up to {wording.at(x.ramp_end, utc)}"
    return f"since {wording.at(x.onset, utc)} (a step)"


def _attribute(a: AttributeLift, esc: Any) -> str:
    name = esc(a.attribute, NAME_LIMIT)
    value = esc(a.value, NAME_LIMIT)
    return (
        f"{name}={value}: {a.share:.0%} of these calls vs {a.baseline_share:.0%} of the rest "
        f"(×{a.lift:.1f}, n={a.n}/{a.baseline_n}, p={a.p_value:.1g})"
    )


def _change(c: Change, esc: Any, utc: bool) -> str:
    return f"{wording.at(c.at, utc)} {c.kind.replace('_', ' ')}: {esc(c.what, 200)}"


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


def lines(x: Explain, esc: Any, utc: bool = True) -> list[str]:
    """The block's lines (without bullets), untrusted parts through `esc(text, limit)`; times in UTC (`19:13Z`)
    or local time."""
    out = []
    if (o := _onset(x, utc)) is not None:
        out.append(o)
    if x.separates:
        out.append("which calls: " + _attribute(x.attributes[0], esc))
        out += ["  also " + _attribute(a, esc) for a in x.attributes[1:3]]
    elif x.compared:
        out.append(f"which calls: {NOTHING} ({x.compared})")
    if x.changes:
        out += ["changed: " + _change(c, esc, utc) for c in x.changes[:4]]
    elif x.onset is not None:
        out.append("changed: nothing plugintop reads changed at the onset")
    if x.impact is not None:
        out.append("impact: " + _impact(x.impact))
    if (c := _corroboration(x)) is not None:
        out.append("seen by: " + c)
    return out
