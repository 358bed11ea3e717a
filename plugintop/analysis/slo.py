"""Provides SLO figures: multi-window multi-burn-rate alerts (Google SRE workbook)."""

from __future__ import annotations

import math

from plugintop.analysis.model import SLOStatus

BURN_WINDOWS = ("5m", "30m", "1h", "6h")
ALERTS = (("14.4x/1h", 14.4, "1h", "5m"), ("6x/6h", 6.0, "6h", "30m"))
"""(name, burn-rate threshold, long window, short window): fires when both windows burn faster."""


def burn_rate(error_ratio: float, target: float) -> float:
    """Observed error ratio / allowed error ratio (1 - target)."""
    return error_ratio / (1 - target)


def alerts_firing(burn: dict[str, float]) -> list[str]:
    """The alerts that would be firing now for these burn rates (NaN never fires)."""
    out = []
    for name, threshold, long, short in ALERTS:
        a, b = burn.get(long, math.nan), burn.get(short, math.nan)
        if a > threshold and b > threshold:
            out.append(name)
    return out


def slo_state(s: SLOStatus) -> str:
    """`ok` only when every burn rate is under 1×; `burning` otherwise; `unknown` without burn rates."""
    if not s.burn_rate:
        return "unknown"
    return "ok" if all(b < 1 for b in s.burn_rate.values()) else "burning"
