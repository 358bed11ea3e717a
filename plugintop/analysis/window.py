"""Provides the slow window: the contiguous stretch where a tenant's p99 is above the target (or,
without a target, well above its own baseline), the worst one when there are several."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from plugintop.analysis.model import Points

BASELINE_FACTOR = 2.0
"""Without a target, "well above its baseline" means more than this many times the median p99."""


@dataclass(frozen=True)
class Stretch:
    start: float
    end: float
    peak: float
    excess: float
    """Area above the threshold (seconds × seconds): how bad the stretch was."""


def threshold_for(points: Points, target: float | None) -> float | None:
    """The p99 above which a point is slow: the target, or a multiple of the median (None without data)."""
    if target is not None:
        return target
    finite = [v for _, v in points if math.isfinite(v)]
    if len(finite) < 3:
        return None
    med = statistics.median(finite)
    mad = statistics.median(abs(v - med) for v in finite)
    return max(med * BASELINE_FACTOR, med + 6 * mad) if med > 0 else None


def stretches(points: Points, threshold: float, step: float, max_gap_steps: int = 1) -> list[Stretch]:
    """Contiguous runs of points above `threshold`; NaN gaps of up to `max_gap_steps` do not break a run,
    `+Inf` counts as above. The run covers [first slow point - step, last slow point] (the data a rate
    window ending at the first point already saw)."""
    out: list[Stretch] = []
    cur: list[tuple[float, float]] = []
    gap = 0
    for t, v in sorted(points):
        if math.isnan(v):
            gap += 1
            if gap > max_gap_steps and cur:
                out.append(_close(cur, threshold, step))
                cur = []
            continue
        if v > threshold:
            if cur and t - cur[-1][0] > step * (max_gap_steps + 1) + 1e-6:
                out.append(_close(cur, threshold, step))
                cur = []
            cur.append((t, v))
            gap = 0
        else:
            if cur:
                out.append(_close(cur, threshold, step))
                cur = []
            gap = 0
    if cur:
        out.append(_close(cur, threshold, step))
    return out


def _close(run: list[tuple[float, float]], threshold: float, step: float) -> Stretch:
    capped = [min(v, threshold * 100) for _, v in run]
    excess = sum(v - threshold for v in capped) * step
    return Stretch(run[0][0] - step, run[-1][0], max(v for _, v in run), excess)


def worst(found: list[Stretch]) -> Stretch | None:
    """The stretch with the most excess (ties: the latest)."""
    return max(found, key=lambda s: (s.excess, s.end), default=None)


def infer_step(points: Points, default: float = 60.0) -> float:
    ts = sorted(t for t, _ in points)
    diffs = [b - a for a, b in zip(ts, ts[1:], strict=False) if b > a]
    return min(diffs) if diffs else default


def peak_in(points: Points, start: float, end: float) -> float | None:
    """The highest finite value in [start, end], or None."""
    vals = [v for t, v in points if start <= t <= end and not math.isnan(v)]
    finite = [v for v in vals if math.isfinite(v)]
    return max(finite) if finite else (math.inf if vals else None)


def median_in(points: Points, start: float, end: float) -> float | None:
    vals = [v for t, v in points if start <= t <= end and math.isfinite(v)]
    return statistics.median(vals) if vals else None
