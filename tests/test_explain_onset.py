"""The change point of a finding's series (DESIGN §4.2): a step, the start of a ramp, and no onset
invented from noise."""

from __future__ import annotations

import math
import random

from plugintop.analysis.onset import detect

T0 = 1_796_000_000.0
STEP = 60.0


def series(level: list[float], noise: float, seed: int, ar: float = 0.0) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    e, out = 0.0, []
    for i, v in enumerate(level):
        e = ar * e + rng.gauss(0, noise)
        out.append((T0 + i * STEP, v * math.exp(e)))
    return out


def test_a_step_is_found_where_it_stepped() -> None:
    for seed in range(10):
        o = detect(series([0.4 if i < 70 else 2.4 for i in range(120)], 0.1, seed), step=STEP)
        assert o is not None and abs(o.at - (T0 + 69 * STEP)) <= STEP, seed
        assert o.kind == "step" and 0.35 < o.before < 0.45 and 2.1 < o.after < 2.7


def test_a_ramp_is_found_where_it_began() -> None:
    level = [0.4 if i < 50 else 0.4 * min(6.0, 1 + 5 * (i - 50) / 20) for i in range(120)]
    for seed in range(10):
        o = detect(series(level, 0.1, seed), step=STEP)
        assert o is not None and abs(o.at - (T0 + 50 * STEP)) <= 3 * STEP, (seed, (o.at - T0) / STEP if o else None)
        assert o.kind == "ramp" and o.ramp_end > o.at + 10 * STEP


def test_a_step_smeared_by_the_rate_window_is_still_a_step() -> None:
    level = [1.0 if i < 60 else 1.0 + 4.0 * min(1.0, (i - 59) / 3) for i in range(100)]
    o = detect(series(level, 0.05, 1), step=STEP, smooth_s=4 * STEP)
    assert o is not None and o.kind == "step" and abs(o.at - (T0 + 59 * STEP)) <= STEP


def test_no_onset_is_invented_from_noise() -> None:
    found = 0
    for seed in range(100):
        found += detect(series([1.0] * 120, 0.3, seed), step=STEP) is not None
        found += detect(series([1.0] * 120, 0.1, 1000 + seed, ar=0.8), step=STEP) is not None
    assert found <= 1


def test_the_direction_and_the_least_ratio_are_kept() -> None:
    pts = series([1.0 if i < 60 else 3.0 for i in range(120)], 0.05, 2)
    assert detect(pts, direction=-1) is None
    assert detect(pts, direction=1) is not None
    assert detect(pts, min_ratio=4.0) is None


def test_too_few_points_or_a_flat_line_have_no_onset() -> None:
    assert detect([(T0 + i, 1.0) for i in range(100)]) is None
    assert detect([(T0, 1.0), (T0 + 60, 5.0)]) is None


def test_a_staircase_begins_at_its_first_stair() -> None:
    """A ramp to a level, then a step up: one level-ramp-level fit lays a long ramp over both and starts it
    early (seen on e6-ramp's p99, whose histogram quantile stepped again 25 minutes later)."""
    level = [1.0 if i < 40 else min(5.0, 1 + 4 * (i - 40) / 11) if i < 70 else 7.0 for i in range(100)]
    for seed in range(5):
        o = detect(series(level, 0.02, seed), step=STEP, direction=1, min_ratio=1.2, smooth_s=2 * STEP)
        assert o is not None and abs(o.at - (T0 + 40 * STEP)) <= 2 * STEP, (seed, (o.at - T0) / STEP if o else None)
        assert o.after > 6.0  # the level reached is the last one
