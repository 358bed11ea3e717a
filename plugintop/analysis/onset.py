"""Provides the onset of a change: the change point of a series, where it stepped or began to ramp, not
the first point over a line (DESIGN §4.2).

The model is a continuous piecewise-linear fit with three pieces: a level, a straight ramp from `a`
to `b`, and a new level after `b` (a step is a ramp one point long). Every pair (a, b) with a ramp of
at most `max_ramp_s` is fitted by least squares in O(1) from prefix sums, and the pair with the least
squared error wins; the onset is `a`, the last point at the old level, where the line bends.

The noise guard: a change counts only when (1) the fit explains the series far better than one flat
level (the log-likelihood gain of the extra pieces past `BIC_FACTOR` × ln n, a BIC with a stiff
penalty because points of a rate window overlap and are not independent), (2) the jump is
`MIN_SIGMA` × the residuals' robust spread or more, and (3) it is at least `min_effect` and
`min_ratio` × the old level. Pure noise, even wandering noise, finds no onset."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TypedDict, Unpack

from plugintop.analysis.model import Points

MIN_SIGMA = 5.0
"""The jump, in robust standard deviations of the residuals, below which a change is noise."""
BIC_FACTOR = 3.0
"""The fit's gain over one flat level must beat this × ln n (a plain BIC would take 1.5 for 3 extra
parameters; the points of a rate window overlap, so the effective sample is smaller)."""
MIN_POINTS = 4
"""Points needed on each side of a change."""
MAX_RAMP_S = 3600.0
EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Onset:
    at: float
    """The last point at the old level (the change began after it)."""
    ramp_end: float
    """The first point at the new level (`at` plus a step for a step)."""
    before: float
    """The old level, in the series' own units."""
    after: float
    sigma: float
    """The residuals' robust spread, in the fitted scale."""

    @property
    def kind(self) -> str:
        return "ramp" if self.ramp_end - self.at > 0 else "step"


def _clean(points: Points, log: bool) -> list[tuple[float, float]]:
    out = []
    for t, v in sorted(points):
        if not math.isfinite(v):
            continue
        if log:
            if v <= 0:
                continue
            v = math.log(v)
        out.append((t, v))
    return out


def _prefix(values: list[float]) -> list[float]:
    out = [0.0]
    for v in values:
        out.append(out[-1] + v)
    return out


class FitOptions(TypedDict, total=False):
    """`fit`'s options, which `detect` passes on."""

    log: bool
    direction: int
    min_effect: float
    min_ratio: float
    max_ramp_s: float
    step: float | None
    smooth_s: float


def detect(points: Points, **options: Unpack[FitOptions]) -> Onset | None:
    """The first change point of `points` (the options are `fit`'s), or None when it holds no change
    above its noise. One level-ramp-level fit over a staircase (a ramp, a level, then another step) lays
    one long ramp across both and starts it early; so while the stretch before the fitted ramp's end
    holds a change that reaches a level of its own, that earlier change is the onset (the level reached stays the whole
    fit's)."""

    def fitted(pts: Points) -> Onset | None:
        return fit(pts, **options)

    found = best = fitted(points)
    times = sorted(t for t, _ in points)
    spacing = options.get("step") or (
        statistics.median(b - a for a, b in zip(times, times[1:], strict=False)) if len(times) > 1 else 0
    )
    while best is not None and best.ramp_end > best.at:
        cut = best.ramp_end - spacing
        earlier = fitted([(t, v) for t, v in points if t <= cut])
        # only a change inside the fitted ramp (the long ramp began early: the first stair begins later)
        # that reaches a level of its own before the cut (a plain ramp cut short is the same ramp again)
        if earlier is None or earlier.at <= best.at or earlier.ramp_end > cut - MIN_POINTS * spacing:
            break
        best = earlier
    if best is None or found is None or best is found:
        return found
    return Onset(at=best.at, ramp_end=best.ramp_end, before=best.before, after=found.after, sigma=best.sigma)


def fit(
    points: Points,
    *,
    log: bool = False,
    direction: int = 0,
    min_effect: float = 0.0,
    min_ratio: float = 1.0,
    max_ramp_s: float = MAX_RAMP_S,
    step: float | None = None,
    smooth_s: float = 0.0,
) -> Onset | None:
    """The change point of `points` by one level-ramp-level fit, or None when the series holds no
    change above its noise.

    Args:
        log: fit log values; non-positive points drop. The default fits the values themselves: a ramp
            that grows linearly (a factor growing with time) is straight there, and its start is found
            where it is (in log scale its start bends and the fit puts the onset early).
        direction: +1 only a rise counts, -1 only a fall, 0 either.
        min_effect: the least jump that counts, in the fitted scale.
        min_ratio: the least ratio of the new level to the old (or the old to the new, for a fall).
        max_ramp_s: the longest ramp considered.
        step: the series' step (the spacing of its points, found from them when None).
        smooth_s: the window each point averages over (a rate window): a ramp no longer than it and a
            step is a step that the window smeared.
    """
    pts = _clean(points, log)
    n = len(pts)
    if n < 2 * MIN_POINTS + 1:
        return None
    t0 = pts[0][0]
    xs = [(t - t0) for t, _ in pts]
    ys = [v for _, v in pts]
    if step is None:
        gaps = [b - a for a, b in zip(xs, xs[1:], strict=False) if b > a]
        step = statistics.median(gaps) if gaps else 1.0
    px, py = _prefix(xs), _prefix(ys)
    pxx = _prefix([x * x for x in xs])
    pxy = _prefix([x * y for x, y in zip(xs, ys, strict=True)])
    sy, syy = py[n], sum(y * y for y in ys)
    syy_c = syy - sy * sy / n
    if syy_c <= EPS:
        return None  # flat
    best: tuple[float, int, int, float, float] | None = None
    for a in range(MIN_POINTS - 1, n - MIN_POINTS):
        xa = xs[a]
        for b in range(a + 1, n - MIN_POINTS + 1):
            d = xs[b] - xa
            if d > max_ramp_s and b > a + 1:
                break
            m = b - a - 1  # points inside the ramp: a+1 .. b-1
            sx_r = px[b] - px[a + 1]
            sxx_r = pxx[b] - pxx[a + 1]
            sxy_r = pxy[b] - pxy[a + 1]
            sy_r = py[b] - py[a + 1]
            post = n - b
            sh = (sx_r - m * xa) / d + post
            shh = (sxx_r - 2 * xa * sx_r + m * xa * xa) / (d * d) + post
            shy = (sxy_r - xa * sy_r) / d + (py[n] - py[b])
            shh_c = shh - sh * sh / n
            if shh_c <= EPS:
                continue
            shy_c = shy - sh * sy / n
            sse = syy_c - shy_c * shy_c / shh_c
            if best is None or sse < best[0] - EPS:
                c1 = shy_c / shh_c
                c0 = sy / n - c1 * sh / n
                best = (sse, a, b, c0, c1)
    if best is None:
        return None
    sse, a, b, c0, c1 = best
    if direction and c1 * direction <= 0:
        return None
    if abs(c1) < min_effect:
        return None
    sse = max(sse, EPS)
    if n * math.log(syy_c / sse) < BIC_FACTOR * math.log(n):
        return None
    resid = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        h = 0.0 if i <= a else 1.0 if i >= b else (x - xs[a]) / (xs[b] - xs[a])
        resid.append(y - c0 - c1 * h)
    med = statistics.median(resid)
    mad = statistics.median(abs(r - med) for r in resid) * 1.4826
    rms = math.sqrt(sse / max(1, n - 4))
    sigma = max(mad, 0.5 * rms, EPS)
    if abs(c1) < MIN_SIGMA * sigma:
        return None
    before, after = c0, c0 + c1
    if log:
        before, after = math.exp(before), math.exp(after)
    lo, hi = min(before, after), max(before, after)
    if min_ratio > 1.0 and (lo <= 0 or hi / lo < min_ratio):
        return None
    ramp_end = pts[b][0] if xs[b] - xs[a] > smooth_s + step * 1.5 else pts[a][0]
    return Onset(at=pts[a][0], ramp_end=ramp_end, before=before, after=after, sigma=sigma)
