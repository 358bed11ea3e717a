"""Provides a plain-text chart of a series (p99 over time) with a threshold and a marked window,
for the report and any 16-colour terminal: no colour needed to read it."""

from __future__ import annotations

import math

from plugintop.analysis.model import Points

BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(points: Points, start: float, end: float, width: int, top: float | None = None) -> str:
    """One row of block characters; NaN gaps as `·`, +Inf as `▲`."""
    if width <= 0 or end <= start:
        return ""
    cells: list[list[float]] = [[] for _ in range(width)]
    for t, v in points:
        i = int((t - start) / (end - start) * width)
        if 0 <= i < width:
            cells[i].append(v)
    finite = [v for c in cells for v in c if math.isfinite(v)]
    hi = top if top is not None else (max(finite) if finite else 1.0)
    hi = hi or 1.0
    out = []
    for c in cells:
        vals = [v for v in c if not math.isnan(v)]
        if not vals:
            out.append("·")
        elif any(math.isinf(v) and v > 0 for v in vals):
            out.append("▲")
        else:
            v = max(vals)
            out.append(BLOCKS[min(len(BLOCKS) - 1, max(1, round(v / hi * (len(BLOCKS) - 1))))])
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
    hi = max([*finite, threshold or 0.0, 1e-9])
    cols: list[float | None] = [None] * width
    for t, v in points:
        i = int((t - start) / (end - start) * width) if end > start else -1
        if 0 <= i < width and math.isfinite(v):
            cols[i] = max(cols[i] or 0.0, v)
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
