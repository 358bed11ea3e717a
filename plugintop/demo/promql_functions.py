"""Provides the arithmetic of the demo's PromQL functions, with Prometheus' own algorithms:
`extrapolatedRate`, `bucketQuantile`, the φ-quantile, the `*_over_time` family and the math functions."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from plugintop.demo.lex import QueryError

RANGE_FUNCTIONS = frozenset(
    {"rate", "increase", "delta", "irate", "idelta", "resets", "changes"}
    | {f"{a}_over_time" for a in ("sum", "avg", "count", "max", "min", "last", "quantile")}
)
MATH: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": math.ceil,
    "floor": math.floor,
    "exp": math.exp,
    "sqrt": math.sqrt,
    "ln": math.log,
    "log2": math.log2,
    "log10": math.log10,
}


def safe(fn: Callable[[float], float], v: float) -> float:
    """`fn(v)`, NaN where the math is undefined (as Go's math package answers)."""
    try:
        return float(fn(v))
    except (ValueError, OverflowError):
        return math.nan


def extrapolated_rate(
    points: Sequence[tuple[float, float]],
    t: float,
    rng: float,
    offset: float,
    counter: bool,
    is_rate: bool,
    monotonic: bool,
) -> float | None:
    """Prometheus' `extrapolatedRate` for `rate`, `increase` and `delta`."""
    if len(points) < 2:
        return None
    first_t, first_v = points[0]
    last_t, last_v = points[-1]
    result = last_v - first_v
    if counter and not monotonic:
        prev = 0.0
        for _, v in points:
            if v < prev:
                result += prev
            prev = v
    return extrapolate(result, first_t, first_v, last_t, len(points), t - offset, rng, counter, is_rate)


def extrapolate(
    result: float,
    first_t: float,
    first_v: float,
    last_t: float,
    n: int,
    range_end: float,
    rng: float,
    counter: bool,
    is_rate: bool,
) -> float:
    """The end of `extrapolatedRate`: `result` (the increase seen between the first and last of `n`
    samples) extrapolated to the range's edges, per second for `rate`."""
    to_start = first_t - (range_end - rng)
    to_end = range_end - last_t
    sampled = last_t - first_t
    avg = sampled / (n - 1)
    if counter and result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        to_start = min(to_start, to_zero)
    threshold = avg * 1.1
    interval = sampled + (to_start if to_start < threshold else avg / 2) + (to_end if to_end < threshold else avg / 2)
    result = result * (interval / sampled)
    return result / rng if is_rate else result


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' `bucketQuantile` over (upper bound, cumulative count) pairs."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for ub, c in buckets:
        merged[ub] = merged.get(ub, 0.0) + c
    bs = sorted(merged.items())
    if not bs or not math.isinf(bs[-1][0]):
        return math.nan
    fixed: list[tuple[float, float]] = []
    hi = -math.inf
    for ub, c in bs:
        hi = max(hi, c)
        fixed.append((ub, hi))
    if len(fixed) < 2:
        return math.nan
    observations = fixed[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i in range(len(fixed) - 1) if fixed[i][1] >= rank), len(fixed) - 1)
    if b == len(fixed) - 1:
        return fixed[-2][0]
    if b == 0 and fixed[0][0] <= 0:
        return fixed[0][0]
    start, end, count = 0.0, fixed[b][0], fixed[b][1]
    if b > 0:
        start = fixed[b - 1][0]
        count -= fixed[b - 1][1]
        rank -= fixed[b - 1][1]
    return start + (end - start) * (rank / count)


def quantile(q: float, values: Sequence[float]) -> float:
    """Prometheus' φ-quantile of plain values (`quantile`, `quantile_over_time`): linear between ranks."""
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    vs = sorted(values)
    rank = q * (len(vs) - 1)
    lo = max(0, math.floor(rank))
    hi = min(len(vs) - 1, lo + 1)
    w = rank - math.floor(rank)
    return vs[lo] * (1 - w) + vs[hi] * w


def over_range(
    f: str,
    pts: Sequence[tuple[float, float]],
    t: float,
    rng: float,
    offset: float,
    monotonic: bool,
    phi: float = math.nan,
) -> float | None:
    """Function `f` of `RANGE_FUNCTIONS` over one series' samples in a `rng`-second window ending
    at `t - offset`; None where Prometheus gives no sample. `phi` is `quantile_over_time`'s φ."""
    if f in ("rate", "increase", "delta"):
        return extrapolated_rate(pts, t, rng, offset, f != "delta", f == "rate", monotonic)
    if f in ("irate", "idelta"):
        if len(pts) < 2:
            return None
        (t1, v1), (t2, v2) = pts[-2], pts[-1]
        d = v2 - v1 if f == "idelta" or v2 >= v1 else v2
        return d / (t2 - t1) if f == "irate" else d
    vals = [v for _, v in pts]
    if not vals:
        return None
    if f == "sum_over_time":
        return sum(vals)
    if f == "avg_over_time":
        return sum(vals) / len(vals)
    if f == "count_over_time":
        return float(len(vals))
    if f == "max_over_time":
        return max(vals)
    if f == "min_over_time":
        return min(vals)
    if f == "last_over_time":
        return vals[-1]
    if f == "quantile_over_time":
        return quantile(phi, vals)
    if f == "resets":  # a counter's decreases (a restart)
        return float(sum(b < a for a, b in itertools.pairwise(vals)))
    if f == "changes":
        return float(sum(b != a for a, b in itertools.pairwise(vals)))
    raise QueryError(f'parse error: unknown function with name "{f}"')
