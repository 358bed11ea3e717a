"""`neighbour_cpu` on series alone, at today's epoch: under saturation, the other tenant whose seconds per
call rose far more than this tenant's own, with its calls steady, is named; a surge or the contention every
tenant felt is not."""

from __future__ import annotations

import random
import time

from plugintop.analysis.changes import neighbour_cpu
from plugintop.analysis.model import Points

STEP = 60.0
ONSET = float(int(time.time()) // 60 * 60) - 1800
END = ONSET + 1200


def series(before: float, after: float, seed: int) -> Points:
    """A level that steps from `before` to `after` at ONSET, with a little noise, over two hours."""
    rng = random.Random(seed)
    return [
        (t, (after if t >= ONSET else before) * rng.uniform(0.97, 1.03))
        for t in (ONSET - 5400 + i * STEP for i in range(int(7200 / STEP)))
    ]


def named(per_call: dict[tuple[str, str], Points], rates: dict[tuple[str, str], Points]) -> list[str]:
    return [c.what for c in neighbour_cpu(per_call, rates, "grade", "south", ONSET, END, STEP)]


def test_the_tenant_whose_calls_got_dearer_is_named() -> None:
    per_call = {("grade", "south"): series(0.3, 0.9, 1), ("grade", "north"): series(0.3, 1.9, 2)}
    rates = {("grade", "north"): series(1.0, 1.0, 3)}
    (what,) = named(per_call, rates)
    assert what.startswith("north's calls of grade took ×6.") and "south's ×" in what and "steady" in what


def test_contention_alone_or_a_surge_is_not_dearer_work() -> None:
    own = {("grade", "south"): series(0.3, 0.9, 1)}
    felt_the_same = {**own, ("grade", "east"): series(0.3, 1.0, 4)}  # ×3.3 against south's ×3: contention
    assert named(felt_the_same, {("grade", "east"): series(1.0, 1.0, 5)}) == []
    surged = {**own, ("grade", "north"): series(0.3, 1.9, 2)}
    assert named(surged, {("grade", "north"): series(1.0, 6.0, 6)}) == []  # neighbour_traffic's to say
    assert named({("grade", "north"): series(0.3, 0.3, 7), **own}, {}) == []  # no change at all


def test_a_change_long_before_the_onset_did_not_cause_it() -> None:
    early = [(t, v) for t, v in series(0.3, 1.9, 2)]
    shifted = [(t, 1.9 if t >= ONSET - 4000 else 0.3) for t, _ in early]
    assert named({("grade", "south"): series(0.3, 0.9, 1), ("grade", "north"): shifted}, {}) == []
