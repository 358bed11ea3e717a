"""Provides the window finder: stretches of a series past a line, held together across a point or two
back under it (hysteresis), each with how far and how long it was past, and the baseline a line is
drawn from.

The baseline is not swallowed by a long incident: it is the lower of the median of the time before
the range (the triage fetches an equal stretch before it) and the lower quartile of the range
itself. An incident that covers most of the range leaves the time before it clean; one that began
before the range leaves the range's lower quartile clean unless it covers three quarters of it."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from plugintop.analysis.model import Points

MAX_GAP_POINTS = 2
"""A stretch holds across this many points back under the exit line (or missing)."""
MIN_POINTS = 2
"""A stretch needs this many points past the entry line: one stray point is noise, not an incident."""
MIN_BASELINE_POINTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Stretch:
    """A run of a series past a line."""

    start: float
    """The first point past the line, less one step (the data its rate window already saw)."""
    end: float
    """The last point still past the exit line."""
    peak: float
    """The value furthest past the line."""
    hot: list[tuple[float, float]]
    """The points past the entry line."""
    points: list[tuple[float, float]]
    """Every finite point from the first hot one to the end."""

    @property
    def duration(self) -> float:
        return self.end - self.start


def finite(points: Points) -> list[float]:
    return [v for _, v in points if math.isfinite(v)]


def between(points: Points, start: float, end: float) -> Points:
    """The points with start <= t <= end."""
    return [(t, v) for t, v in points if start <= t <= end]


def ratio(num: Points, den: Points) -> Points:
    """num / den at the times both have, where den > 0 (a failure rate over a request rate); a time with
    calls and no failure point counts as 0."""
    top = dict(num)
    return [(t, (top.get(t, 0.0) / d)) for t, d in den if math.isfinite(d) and d > 0 and math.isfinite(top.get(t, 0.0))]


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of values (linear interpolation); values must not be empty."""
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def baseline(before: Points, within: Points) -> float | None:
    """The healthy level of a series where higher is worse: min(median before the range, lower quartile
    of the range), from whichever has enough points; None when neither has."""
    found = []
    pre, cur = finite(before), finite(within)
    if len(pre) >= MIN_BASELINE_POINTS:
        found.append(statistics.median(pre))
    if len(cur) >= MIN_BASELINE_POINTS:
        found.append(quantile(cur, 0.25))
    return min(found) if found else None


def level(before: Points, within: Points) -> float | None:
    """The usual level of a series that may move either way (traffic): the median before the range,
    or the range's own median without enough points before it."""
    pre, cur = finite(before), finite(within)
    if len(pre) >= MIN_BASELINE_POINTS:
        return statistics.median(pre)
    if len(cur) >= MIN_BASELINE_POINTS:
        return statistics.median(cur)
    return None


def stretches(
    points: Points,
    hot: Callable[[float], bool],
    warm: Callable[[float], bool],
    step: float,
    *,
    min_points: int = MIN_POINTS,
    max_gap: int = MAX_GAP_POINTS,
    low: bool = False,
) -> list[Stretch]:
    """Runs that start at a `hot` point and go on while points are `warm` (hot implies warm), held
    together across up to `max_gap` points that are neither or missing (NaN); runs with fewer than
    `min_points` hot points are dropped. The peak is the highest hot value (the lowest with `low`)."""
    out: list[Stretch] = []
    run: list[tuple[float, float]] = []
    hots: list[tuple[float, float]] = []
    cold = 0

    def close() -> None:
        nonlocal run, hots
        if len(hots) >= min_points:
            kept = [p for p in run if p[0] <= _last_warm(run, warm)]
            values = [v for _, v in hots]
            out.append(
                Stretch(
                    start=hots[0][0] - step,
                    end=kept[-1][0],
                    peak=min(values) if low else max(values),
                    hot=list(hots),
                    points=kept,
                )
            )
        run, hots = [], []

    last_t: float | None = None
    for t, v in sorted(points):
        if last_t is not None and run and t - last_t > step * (max_gap + 1) + 1e-6:
            close()  # a hole in the data longer than the gap allowed
        last_t = t
        if math.isnan(v):
            if run:
                cold += 1
                if cold > max_gap:
                    close()
            continue
        if hot(v):
            run.append((t, v))
            hots.append((t, v))
            cold = 0
        elif run and warm(v):
            run.append((t, v))
            cold = 0
        elif run:
            cold += 1
            run.append((t, v))
            if cold > max_gap:
                close()
    if run:
        close()
    return out


def _last_warm(run: list[tuple[float, float]], warm: Callable[[float], bool]) -> float:
    return max(t for t, v in run if not math.isnan(v) and warm(v))


def above(points: Points, line: float, exit_line: float, step: float) -> list[Stretch]:
    """Stretches above `line`, held while above `exit_line` (<= line)."""
    return stretches(points, lambda v: v > line, lambda v: v > exit_line, step)


def below(points: Points, line: float, exit_line: float, step: float) -> list[Stretch]:
    """Stretches below `line`, held while below `exit_line` (>= line)."""
    return stretches(points, lambda v: v < line, lambda v: v < exit_line, step, low=True)


def peak_in(points: Points, start: float, end: float) -> float | None:
    """The highest finite value in [start, end], or None."""
    vals = [v for t, v in points if start <= t <= end and not math.isnan(v)]
    finite_vals = [v for v in vals if math.isfinite(v)]
    return max(finite_vals) if finite_vals else (math.inf if vals else None)


def median_in(points: Points, start: float, end: float) -> float | None:
    vals = [v for t, v in points if start <= t <= end and math.isfinite(v)]
    return statistics.median(vals) if vals else None
