"""The profile diff compares total (inclusive) time as well as self time, and the plugin's CPU per second:
the CPU regression of the real service (process CPU 46 → 68 % of a core, `score_rubric` 47 → 72 % of total
time, its own self time +1 pt) was printed "+1pts", under the verdict's 10-point bar."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugintop.analysis import flame, wording
from plugintop.analysis.verdict import latency_cause
from plugintop.models.pyroscope import FlameGraph
from tests.test_analysis import flame_graphs

NOW = time.time()
WINDOW = (NOW - 600, NOW)
BASELINE = (NOW - 1200, NOW - 600)
Tree = tuple[str, int, Sequence["Tree"]]
"""(name, self, children): a call tree, in per mille of the profile."""


def graph(root: Tree, cores: float, seconds: float = 600) -> FlameGraph:
    """The tree as Pyroscope encodes it (levels of [x delta, total, self, name]), scaled to `cores` busy
    for `seconds` (nanoseconds)."""
    names = ["total"]

    def total(t: Tree) -> int:
        return t[1] + sum(total(c) for c in t[2])

    unit = cores * seconds * 1e9 / total(root)
    levels: list[list[int]] = []
    row: list[tuple[int, Tree]] = [(0, ("total", 0, [root]))]
    while row:
        out: list[int] = []
        end = 0
        nxt: list[tuple[int, Tree]] = []
        for x, t in row:
            if t[0] not in names:
                names.append(t[0])
            w = int(total(t) * unit)
            out += [x - end, w, int(t[1] * unit), names.index(t[0])]
            end = x + w
            cx = x
            for c in t[2]:
                nxt.append((cx, c))
                cx += int(total(c) * unit)
        levels.append(out)
        row = nxt
    return FlameGraph(names=names, levels=levels, total=levels[0][1])


def grading(score_self: int, parts: Sequence[int], search: tuple[int, int, int], loop_self: int) -> Tree:
    """The real service's shape: one event loop, the grading tool's `score_rubric` calling eight helpers,
    the search tool beside it."""
    helpers: list[Tree] = [(f"helper_{i}", p, []) for i, p in enumerate(parts)]
    grade: Tree = ("handle_grade", 30, [("score_rubric", score_self, helpers)])
    s_self, s_db, s_render = search
    handle_search: Tree = ("handle_search", s_self, [("db_encode", s_db, []), ("render", s_render, [])])
    return ("main", 0, [("_run_once", loop_self, [grade, handle_search])])


# score_rubric: 47 % of the profile before (self 30 %), 72 % in the window (self 31 %); the plugin 0.46 → 0.68
# cores. No function's self share grows by more than 3 points.
BEFORE = graph(grading(300, [22, 21, 21, 21, 21, 22, 21, 21], (100, 200, 150), 50), cores=0.46)
AFTER = graph(grading(310, [51, 51, 51, 52, 51, 51, 51, 52], (50, 100, 70), 30), cores=0.68)


def test_the_real_regression_is_seen_in_total_time_and_cpu_per_second() -> None:
    p = flame.summarise(AFTER, BEFORE, WINDOW, BASELINE)
    assert p.cpu_per_s == pytest.approx(0.68, abs=0.005) and p.baseline_cpu_per_s == pytest.approx(0.46, abs=0.005)
    assert max(f.share for f in p.hotter_self) < flame.BAR  # what was printed: self time alone stays under the bar
    hottest = p.hotter[0]
    assert hottest.function == "score_rubric" and hottest.share == pytest.approx(0.25, abs=0.005)
    # its caller grew by the same points, all of it in score_rubric: the caller is not named for it
    assert "handle_grade" not in {f.function for f in p.hotter}
    assert {"score_rubric", "handle_grade"} <= {f.function for f in p.hotter_total}
    cause, fn, _ = latency_cause(None, p)
    assert (cause, fn) == ("cpu", "score_rubric")


def test_the_words_say_cores_and_total_share() -> None:
    p = flame.summarise(AFTER, BEFORE, WINDOW, BASELINE)
    assert wording.cpu_change(p) == "the plugin's CPU 0.46 → 0.68 cores (+48 %)"
    assert wording.hot_function(p, "score_rubric") == "score_rubric 47 → 72 % of the CPU (self 30 → 31 %)"
    assert wording.cpu_change(flame.summarise(AFTER, None, WINDOW, BASELINE)) == "the plugin's CPU 0.68 cores"


def test_a_function_whose_cpu_per_second_rose_a_lot_is_hotter_though_its_share_held() -> None:
    """Twice the CPU, every share the same: score_rubric burns 0.23 more cores, 34 % of the window's CPU."""
    before = graph(grading(300, [22, 21, 21, 21, 21, 22, 21, 21], (100, 200, 150), 50), cores=0.34)
    after = graph(grading(300, [22, 21, 21, 21, 21, 22, 21, 21], (100, 200, 150), 50), cores=0.68)
    p = flame.summarise(after, before, WINDOW, BASELINE)
    assert all(f.share < flame.NOISE for f in p.hotter_self + p.hotter_total)
    assert p.hotter[0].function == "score_rubric" and p.hotter[0].share == pytest.approx(0.235, abs=0.005)
    assert {"main", "_run_once", "handle_grade"}.isdisjoint(f.function for f in p.hotter)  # every stack / explained
    same = flame.summarise(after, after, WINDOW, BASELINE)  # the CPU held: no move at all
    assert same.hotter == [] and same.cpu_per_s == pytest.approx(same.baseline_cpu_per_s)


def test_a_baseline_window_of_another_length_is_compared_per_second() -> None:
    """Half the baseline's length, half its CPU seconds: the same CPU per second, nothing hotter."""
    before = graph(grading(300, [22, 21, 21, 21, 21, 22, 21, 21], (100, 200, 150), 50), cores=0.68, seconds=300)
    after = graph(grading(300, [22, 21, 21, 21, 21, 22, 21, 21], (100, 200, 150), 50), cores=0.68)
    p = flame.summarise(after, before, WINDOW, (NOW - 900, NOW - 600))
    assert p.cpu_per_s == pytest.approx(p.baseline_cpu_per_s, rel=1e-3) and p.hotter == []


@settings(max_examples=200, deadline=None)
@given(flame_graphs())
def test_a_baselines_totals_read_from_its_levels_are_the_trees(g: FlameGraph) -> None:
    _, total = flame.function_totals(flame.decode(g))
    assert flame.totals_of(g, set(total)) == total


@settings(max_examples=200, deadline=None)
@given(flame_graphs(), flame_graphs(), st.sampled_from(["a", "b", "c", "d"]))
def test_what_the_summary_skips_changes_nothing(window: FlameGraph, baseline: FlameGraph, one: str) -> None:
    """`summarise` reads only the functions whose shares can move by `NOISE` and the baseline's levels down to
    the deepest wanted function: the same lists as every function's deltas, and the same totals."""
    _, total = flame.function_totals(flame.decode(baseline))
    assert flame.totals_of(baseline, {one}) == {k: v for k, v in total.items() if k == one}
    p = flame.summarise(window, baseline, (0, 60), (0, 60), sample_rate=1)
    self_w, _ = flame.function_totals(flame.decode(window))
    base_self, base_grand = flame.self_totals_of(baseline)
    grand = window.levels[0][1]
    every = {f: w / grand - base_self.get(f, 0) / base_grand for f, w in self_w.items() if f != "total"}
    hot = sorted(((d, f) for f, d in every.items() if d > flame.NOISE), reverse=True)[:10]
    cold = sorted(((-d, f) for f, d in every.items() if -d > flame.NOISE), reverse=True)[:10]
    assert sorted((x.share, x.function) for x in p.hotter_self) == sorted(hot)
    assert sorted((x.share, x.function) for x in p.colder) == sorted(cold)
