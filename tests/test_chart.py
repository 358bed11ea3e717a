"""The text charts (a flat series drawn flat, a time axis at round local or UTC times, cells over a line),
the error ratio series, the flame's search, zoom and noise threshold, and the text report's width."""

from __future__ import annotations

import time

import pytest

from plugintop.analysis.flame import NOISE, decode, matches, subtree, summarise
from plugintop.analysis.window import ratio
from plugintop.cli.report import text_width
from plugintop.models.pyroscope import FlameGraph
from plugintop.present.chart import BLOCKS, cells_over, nice_top, sparkline, time_axis

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC: today's epoch, not floats near 0


def test_a_flat_series_draws_flat_below_the_top() -> None:
    flat = [(NOW + i * 60, 1.0) for i in range(30)]
    line = sparkline(flat, NOW, NOW + 1800, 30)
    assert len(set(line)) == 1 and "█" not in line  # one level, not a wall of full blocks
    assert nice_top(1.0) == 1.5 and nice_top(2.91) == 5.0 and nice_top(0.0) == 1.0


def test_a_zero_still_shows_and_the_scale_top_is_a_round_number() -> None:
    line = sparkline([(NOW, 0.0), (NOW + 60, 3.0)], NOW, NOW + 120, 2)
    assert line[0] == BLOCKS[1] and line[1] != "█"


def test_the_time_axis_ticks_at_round_utc_times() -> None:
    axis = time_axis(NOW - 3600, NOW, 60, utc=True)
    assert axis.split() == ["07:00", "07:10", "07:20", "07:30", "07:40", "07:50", "08:00"][: len(axis.split())]
    assert axis.index("07:30") == 30 and len(axis) == 60


def test_the_time_axis_ticks_at_round_local_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+05:30: round local times are not round UTC times
    time.tzset()
    try:
        axis = time_axis(NOW - 3600, NOW, 60, utc=False)
        assert axis.split()[:2] == ["12:30", "12:40"] and axis.index("13:00") == 30
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_cells_over_a_line() -> None:
    pts = [(NOW, 0.5), (NOW + 60, 2.5)]
    assert cells_over(pts, NOW, NOW + 120, 2, 2.0) == [False, True]


def test_the_error_ratio_is_failures_over_calls_where_there_were_calls() -> None:
    calls = [(NOW, 2.0), (NOW + 15, 4.0), (NOW + 30, 0.0)]
    failures = [(NOW, 0.5)]
    assert ratio(failures, calls) == [(NOW, 0.25), (NOW + 15, 0.0)]


def graph(levels: list[list[int]], names: list[str]) -> FlameGraph:
    return FlameGraph(names=names, levels=levels, total=levels[0][1], max_self=0)


# total(100) > a(60) > ssl(60); total > b(40) > ssl(30) > ssl(10): nested matches count once
FG = graph(
    [[0, 100, 0, 0], [0, 60, 0, 1, 0, 40, 10, 2], [0, 60, 60, 3, 0, 30, 20, 3], [60, 10, 10, 3]],
    ["total", "a", "b", "ssl.read"],
)


def test_search_counts_each_stack_once_and_zoom_reindexes() -> None:
    nodes = decode(FG)
    found, share = matches(nodes, "SSL")
    assert len(found) == 3 and share == pytest.approx(0.9)
    sub = subtree(nodes, 2)  # b
    assert [n.name for n in sub] == ["b", "ssl.read", "ssl.read"] and [n.parent for n in sub] == [-1, 0, 1]


def test_hotter_and_colder_only_past_the_noise_threshold() -> None:
    near = graph(  # ssl.read's self share 89.6 % against 90 % in FG: +0.4 points, sampling noise
        [[0, 1000, 0, 0], [0, 600, 0, 1, 0, 400, 104, 2], [0, 600, 600, 3, 0, 296, 196, 3], [600, 100, 100, 3]],
        ["total", "a", "b", "ssl.read"],
    )
    same = summarise(FG, near, (NOW - 60, NOW), (NOW - 120, NOW - 60))
    assert same.hotter == [] and same.colder == []  # no ▲ at Δ +0
    shifted = graph([[0, 100, 0, 0], [0, 60, 0, 1, 0, 40, 40, 2], [0, 60, 60, 3]], ["total", "a", "b", "ssl.read"])
    s = summarise(FG, shifted, (NOW - 60, NOW), (NOW - 120, NOW - 60))
    assert {f.function for f in s.hotter} == {"ssl.read"} and {f.function for f in s.colder} == {"b"}
    assert all(f.share >= NOISE for f in s.hotter + s.colder)


def test_the_text_report_follows_columns_even_in_a_pipe() -> None:
    assert text_width("160", tty=False) == 160
    assert text_width(None, tty=False) == 80
    assert text_width("12", tty=False) == 12  # asked; report.render holds it to the 80 its tables need
