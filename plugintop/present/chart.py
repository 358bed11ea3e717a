"""Provides plain-text charts of a series (p99, error ratio) with a threshold, a marked window and a
time axis, for the report and any 16-colour terminal: no colour needed to read them."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from plugintop.analysis.model import Points

BLOCKS = " ▁▂▃▄▅▆▇█"
NICE = (1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0)
TICK_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
"""The spacings a time axis may tick at, in minutes."""
HEADROOM = 1.15
"""The scale's top sits at least this far above the highest value: a flat series draws as a flat line
part-way up, not as a row of full blocks."""


def nice_top(v: float) -> float:
    """The scale's top for values up to `v`: a round number (1, 1.5, 2, 3, 5, 7.5 × 10^k) above v × HEADROOM."""
    if not math.isfinite(v) or v <= 0:
        return 1.0
    want = v * HEADROOM
    unit = 10.0 ** math.floor(math.log10(want))
    return next(n * unit for n in NICE if n * unit >= want)


def level(v: float, top: float) -> str:
    """The block a value draws as on a 0..top scale (at least ▁, so a zero is still seen)."""
    return BLOCKS[min(len(BLOCKS) - 1, max(1, round(v / (top or 1.0) * (len(BLOCKS) - 1))))]


def binned(points: Points, start: float, end: float, width: int) -> list[list[float]]:
    """The values of each of `width` cells over [start, end) (every chart here draws from these)."""
    cells: list[list[float]] = [[] for _ in range(max(0, width))]
    if width <= 0 or end <= start:
        return cells
    for t, v in points:
        i = int((t - start) / (end - start) * width)
        if 0 <= i < width:
            cells[i].append(v)
    return cells


def cells_over(points: Points, start: float, end: float, width: int, line: float) -> list[bool]:
    """Per cell, whether any point in it is above `line` (the cells to emphasise)."""
    return [any(v > line for v in c) for c in binned(points, start, end, width)]


def _offset(t: float, utc: bool) -> float:
    """Seconds east of UTC at `t`, in the zone the axis shows."""
    if utc:
        return 0.0
    off = datetime.fromtimestamp(t).astimezone().utcoffset()
    return off.total_seconds() if off is not None else 0.0


def time_axis(start: float, end: float, width: int, utc: bool = False) -> str:
    """A row of `HH:MM` labels at round times (every 1, 2, 5, 10, 15, 30 minutes, 1 h …), local or UTC,
    each starting at its own cell; at least one blank between labels."""
    if width <= 0 or end <= start:
        return ""
    per_cell = (end - start) / width
    step = next((m * 60 for m in TICK_MINUTES if m * 60 / per_cell >= 8), TICK_MINUTES[-1] * 60)
    off = _offset(start, utc)
    first = math.ceil((start + off) / step) * step - off
    row = [" "] * width
    t = first
    while t <= end:
        i = int((t - start) / per_cell)
        label = datetime.fromtimestamp(t, tz=UTC if utc else None).strftime("%H:%M")
        if i + len(label) <= width and all(c == " " for c in row[max(0, i - 1) : i + len(label)]):
            row[i : i + len(label)] = label
        t += step
    return "".join(row)


def sparkline(points: Points, start: float, end: float, width: int, top: float | None = None) -> str:
    """One row of block characters; NaN gaps as `·`, +Inf as `▲`."""
    if width <= 0 or end <= start:
        return ""
    cells = binned(points, start, end, width)
    finite = [v for c in cells for v in c if math.isfinite(v)]
    hi = top if top is not None else nice_top(max(finite) if finite else 1.0)
    out = []
    for c in cells:
        vals = [v for v in c if not math.isnan(v)]
        if not vals:
            out.append("·")
        elif any(math.isinf(v) and v > 0 for v in vals):
            out.append("▲")
        else:
            out.append(level(max(vals), hi))
    return "".join(out)


def window_ruler(start: float, end: float, ws: float, we: float, width: int, mark: str = "^") -> str:
    """A row with `mark` under the cells of [ws, we]."""
    if width <= 0 or end <= start:
        return ""
    a = max(0, int((ws - start) / (end - start) * width))
    b = min(width - 1, int((we - start) / (end - start) * width))
    return "".join(mark if a <= i <= b else " " for i in range(width))


def chart(
    points: Points,
    start: float,
    end: float,
    width: int,
    height: int = 6,
    threshold: float | None = None,
    window: tuple[float, float] | None = None,
) -> list[str]:
    """A small multi-row chart; the threshold is a row of `-`, the window is marked `^` below."""
    finite = [v for _, v in points if math.isfinite(v)]
    hi = nice_top(max([*finite, threshold or 0.0, 1e-9]))
    cols = [max((v for v in c if math.isfinite(v)), default=None) for c in binned(points, start, end, width)]
    rows = []
    for r in range(height, 0, -1):
        lo_v = hi * (r - 1) / height
        row = []
        thr_row = threshold is not None and lo_v <= threshold < hi * r / height
        for c in cols:
            if c is not None and c > lo_v:
                row.append("█")
            elif thr_row:
                row.append("-")
            else:
                row.append(" ")
        rows.append("".join(row))
    if window is not None:
        rows.append(window_ruler(start, end, window[0], window[1], width))
    return rows
