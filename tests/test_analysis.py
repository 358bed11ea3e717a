"""The analysis layer on hand-made inputs, edge cases included."""

from __future__ import annotations

import math
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugintop.analysis import flame, window
from plugintop.analysis.cost import ratio, summarise_cost
from plugintop.analysis.model import FunctionShare, ProfileSummary, TraceAnalysis
from plugintop.analysis.slo import alerts_firing, burn_rate
from plugintop.analysis.traces import analyse
from plugintop.analysis.verdict import latency_cause
from plugintop.ids import SpanId, TraceId
from plugintop.models.pyroscope import FlameGraph
from plugintop.models.tempo import Span, Trace
from plugintop.schema import Schema

S = Schema()
MS = 1_000_000


def pts(*values: float, step: float = 60) -> list[tuple[float, float]]:
    return [(i * step, v) for i, v in enumerate(values)]


# ----- window finder ---------------------------------------------------------------------------
def test_stretches_over_a_line_and_each_one_kept() -> None:
    p = pts(1, 1, 3, 3, 1, 1, 1, 1, 5, 5, 5, 1, 1, 1)
    found = window.above(p, 2.0, 2.0, 60)
    assert [(s.start, s.end, s.peak) for s in found] == [(60, 180, 3), (420, 600, 5)]


def test_window_edge_cases() -> None:
    assert window.above([], 2.0, 2.0, 60) == []
    assert window.baseline([], []) is None
    assert window.baseline(pts(1), pts(1)) is None  # one sample: no baseline
    assert window.above(pts(3), 2.0, 2.0, 60) == []  # one stray point is not a stretch
    # NaN gaps of up to two points do not break a stretch; +Inf counts as past the line
    p = pts(1, 3, math.nan, 3, math.inf, 1, 1, 1)
    found = window.above(p, 2.0, 2.0, 60)
    assert len(found) == 1 and found[0].peak == math.inf and found[0].end == 240
    assert window.peak_in(pts(math.nan, math.nan), 0, 100) is None


# ----- SLO -----------------------------------------------------------------------------------
def test_burn_rates_and_alerts() -> None:
    assert burn_rate(0.072, 0.995) == pytest.approx(14.4)
    assert alerts_firing({"5m": 20, "1h": 15, "30m": 1, "6h": 1}) == ["14.4x/1h"]
    assert alerts_firing({"5m": 20, "1h": 10, "30m": 7, "6h": 6.5}) == ["6x/6h"]
    assert alerts_firing({"5m": math.nan, "1h": 100}) == []
    assert alerts_firing({}) == []


# ----- traces ----------------------------------------------------------------------------------
T = cast(TraceId, "t")
"""A trace id the analysis takes as given (ids are checked where they enter, not here)."""


def span(sid: str, parent: str | None, name: str, start: int, end: int, **attrs: object) -> Span:
    return Span(
        T,
        cast(SpanId, sid),
        cast(SpanId | None, parent),
        name,
        "svc",
        start * MS,
        end * MS,
        "client" if parent else "server",
        attributes=dict(attrs),  # type: ignore[arg-type]
    )


TOOL = "plugin.p.tool.t"


def test_trace_tree_self_time_critical_path_llm_share() -> None:
    tr = Trace(
        T,
        [
            span("a", None, TOOL, 0, 1000, **{"llm.model": "gpt"}),
            span("b", "a", "db.query", 0, 100),
            span("c", "a", "chat gpt", 100, 900, **{"gen_ai.request.model": "gpt"}),
            span("d", "a", "render", 900, 1000),
            span("e", "b", "db.connect", 10, 40),
        ],
    )
    a = analyse(tr, S, "p", "t")
    assert a.tool_span == TOOL and a.tool_duration_s == 1.0
    assert a.llm_share == pytest.approx(0.8)  # the tool span's own llm.model does not count
    assert a.slowest_child == "db.query" and a.slowest_child_share == pytest.approx(0.1)
    assert a.critical_path == [TOOL, "db.query", "db.connect", "chat gpt", "render"]
    selfs = {n.name: n.self_ns // MS for n in a.spans}
    assert selfs == {TOOL: 0, "db.query": 70, "db.connect": 30, "chat gpt": 800, "render": 100}
    assert [n.name for n in a.spans] == [TOOL, "db.query", "db.connect", "chat gpt", "render"]
    assert [n.depth for n in a.spans] == [0, 1, 2, 1, 1]
    assert a.llm_model == "gpt"


def test_trace_with_orphans_and_clock_skew() -> None:
    tr = Trace(
        T,
        [
            span("a", None, TOOL, 100, 600),
            span("b", "a", "chat gpt-4o", 50, 700),  # starts before and ends after its parent
            span("x", "missing", "orphan", 0, 10),
        ],
    )
    a = analyse(tr, S, "p", "t")
    assert a.orphans == 1 and a.clamped == 1
    b = next(n for n in a.spans if n.name == "chat gpt-4o")
    assert (b.start_ns, b.end_ns) == (100 * MS, 600 * MS)
    assert a.llm_share == pytest.approx(1.0)


def test_trace_with_one_span_and_no_children() -> None:
    a = analyse(Trace(T, [span("a", None, "root", 0, 10)]), S)
    assert a.critical_path == ["root"] and a.slowest_child is None and a.llm_share == 0


# ----- flame -----------------------------------------------------------------------------------
def fg(names: list[str], levels: list[list[int]]) -> FlameGraph:
    return FlameGraph(names=names, levels=levels, total=levels[0][1] if levels else 0)


def test_flame_decode_top_and_recursion() -> None:
    # total(100) > main(100) > [f(60) > f(40 self), g(40 self)]; f self 20
    g = fg(["total", "main", "f", "g"], [[0, 100, 0, 0], [0, 100, 0, 1], [0, 60, 20, 2, 0, 40, 40, 3], [0, 40, 40, 2]])
    nodes = flame.decode(g)
    assert [(n.name, nodes[n.parent].name if n.parent >= 0 else None) for n in nodes] == [
        ("total", None),
        ("main", "total"),
        ("f", "main"),
        ("g", "main"),
        ("f", "f"),
    ]
    self_by, total_by = flame.function_totals(nodes)
    assert self_by["f"] == 60 and total_by["f"] == 60  # recursion counted once
    s = flame.summarise(g, None, (0, 1), (0, 1))
    assert s.top_self[0] == FunctionShare("f", 0.6) and s.hotter == []


@st.composite
def flame_graphs(draw: st.DrawFn) -> FlameGraph:
    """Random well-formed flame graphs over a few names (so recursion and repeats are common)."""
    names = ["total", "a", "b", "c", "d"]
    levels = [[0, 1000, 0, 0]]
    parents = [(0, 1000)]  # (x, total) of the level above
    for _ in range(draw(st.integers(0, 6))):
        row: list[int] = []
        spans = []
        end = 0
        for x, total in parents:
            left = total
            pos = x
            for _ in range(draw(st.integers(0, 3))):
                if left <= 1:
                    break
                w = draw(st.integers(1, left - 1))
                gap = draw(st.integers(0, left - w))
                pos += gap
                row += [pos - end, w, 0, draw(st.integers(1, 4))]
                spans.append((pos, w))
                end = pos + w
                pos += w
                left -= gap + w
        if not row:
            break
        levels.append(row)
        parents = spans
    for lv in levels:  # self = total minus children (any non-negative value is a valid profile)
        for i in range(0, len(lv), 4):
            lv[i + 2] = draw(st.integers(0, lv[i + 1]))
    return fg(names, levels)


@settings(max_examples=300, deadline=None)
@given(flame_graphs())
def test_function_totals_match_a_walk_up_the_ancestors(g: FlameGraph) -> None:
    nodes = flame.decode(g)
    want_total: dict[str, int] = {}
    want_self: dict[str, int] = {}
    for n in nodes:
        want_self[n.name] = want_self.get(n.name, 0) + n.self
        p, recursive = n.parent, False
        while p >= 0:
            recursive = recursive or nodes[p].name == n.name
            p = nodes[p].parent
        want_total.setdefault(n.name, 0)
        if not recursive:
            want_total[n.name] += n.total
    assert flame.function_totals(nodes) == (want_self, want_total)
    assert flame.self_totals_of(g) == (want_self, 1000)


def test_flame_hotter_and_empty() -> None:
    base = fg(["total", "a", "b"], [[0, 100, 0, 0], [0, 50, 50, 1, 0, 50, 50, 2]])
    hot = fg(["total", "a", "b"], [[0, 100, 0, 0], [0, 20, 20, 1, 0, 80, 80, 2]])
    s = flame.summarise(hot, base, (1, 2), (0, 1))
    assert s.hotter == [FunctionShare("b", pytest.approx(0.3))]  # type: ignore[arg-type]
    empty = flame.summarise(FlameGraph(["total"], [], 0), None, (0, 1), (0, 1))
    assert empty.top_self == [] and empty.total_s == 0


def test_flame_truncation_is_reported() -> None:
    g = fg(["total", "a", "other"], [[0, 100, 0, 0], [0, 90, 90, 1, 0, 10, 10, 2]])
    assert flame.summarise(g, None, (0, 1), (0, 1)).truncated


# ----- cost and verdict ------------------------------------------------------------------------
def test_cost_summary() -> None:
    c = summarise_cost({"m": 0.6, "n": math.nan}, {"m": 0.1}, {"m": 6000}, {"m": 2000}, 60, 60)
    assert c.usd_per_min == 0.6 and c.usd_per_call == pytest.approx(0.01) and ratio(c.usd_per_call, 0) is None
    assert [m.model for m in c.by_model] == ["m"]


def trace(llm: float, child: str, share: float, kind: str) -> TraceAnalysis:
    return TraceAnalysis("t" * 32, [], ["root", child], [], llm, TOOL, 3.0, child, share, kind)


def test_latency_cause_rules() -> None:
    assert latency_cause(trace(0.8, "db", 0.1, "client"), None)[0] == "llm"
    cause, named, ev = latency_cause(trace(0.1, "catalog.fetch", 0.7, "client"), None)
    assert (cause, named) == ("downstream", "catalog.fetch") and any(e.detail == "catalog.fetch" for e in ev)
    assert latency_cause(trace(0.1, "score", 0.7, "internal"), None)[0] == "cpu"
    prof = ProfileSummary([], [], [FunctionShare("hot_fn", 0.3)], 2, 1, False, (0, 1), (0, 1))
    assert latency_cause(None, prof)[:2] == ("cpu", "hot_fn")
    same_cpu = ProfileSummary([], [], [FunctionShare("ssl.read", 0.3)], 1, 1, False, (0, 1), (0, 1))
    assert latency_cause(None, same_cpu)[0] == "unknown"  # shares moved, but no more CPU was burnt
    assert latency_cause(None, None)[0] == "unknown"  # slow, but nothing sampled
    # just under the bounds: no single part dominates, the largest share names the cause
    assert latency_cause(trace(0.49, "db", 0.34, "client"), None)[0] == "llm"
    assert latency_cause(trace(0.2, "db", 0.34, "client"), None)[0] == "downstream"


async def test_every_tempo_search_of_a_long_window_is_cut_to_tempos_limit() -> None:
    """The first search and the one that fills up the sample (above the median) both stay inside
    Tempo's search limit, and the note says so once."""
    from plugintop.clients.tempo import MAX_SEARCH_RANGE_S, TempoClient
    from plugintop.config.context import Context
    from plugintop.connect.backends import Backends
    from plugintop.errors import NotFound
    from plugintop.models.tempo import SearchResult, SearchSpan, TraceSummary
    from plugintop.timerange import TimeRange
    from plugintop.triage import Triage, TriageRequest

    asked: list[tuple[float, float]] = []

    class Tempo(TempoClient):
        async def search(self, query: str, start: float, end: float, *, limit: int = 20, spss: int = 3) -> SearchResult:
            asked.append((start, end))
            span = SearchSpan("s1", "plugin.p.tool.search", 0, 3 * 10**9)
            return SearchResult([TraceSummary(cast(TraceId, "t1"), "svc", "root", 0, 3000, [span])])

        async def trace(self, trace_id: TraceId, start: float | None = None, end: float | None = None) -> Trace:
            raise NotFound("tempo", "not kept")

    end = 30 * 86400.0
    t = Triage(
        Backends(tempo=Tempo(None)),  # type: ignore[arg-type]
        Context(),
        TriageRequest(plugin="p", tenant="t", range=TimeRange(0, end), p99_target_s=2.0),
    )
    trace = await t.drill.window(None, None, (0.0, end), 2.0)
    await trace
    assert len(asked) == 2  # one sample is fewer than five: asked again above the median
    assert all(e == end and e - s == MAX_SEARCH_RANGE_S for s, e in asked)
    assert sum("tempo search limited" in n for n in t.result.notes) == 1
    assert t.result.spans[0].tool == "search"  # read back from the span's name


def test_tool_of_span_reads_the_span_name_template_backwards() -> None:
    s = Schema()
    assert s.tool_of_span("rec", s.tool_span_name("rec", "recommend_courses")) == "recommend_courses"
    assert s.tool_of_span("rec", "plugin.other.tool.x") == "" and s.tool_of_span("rec", "plugin.rec.tool.") == ""
    custom = Schema(span_name="{tool} of {plugin}")
    assert custom.tool_of_span("rec", "search of rec") == "search" and custom.tool_of_span("rec", "search") == ""


def test_windows_longer_than_a_backend_allows_are_cut_and_said() -> None:
    from plugintop.config.context import Context
    from plugintop.connect.backends import Backends
    from plugintop.timerange import TimeRange
    from plugintop.triage import Triage, TriageRequest

    t = Triage(Backends(), Context(), TriageRequest(plugin="p", tenant="t", range=TimeRange(0, 10 * 86400)))
    assert t.drill.limit(0, 10 * 86400, 86400, "profile") == 9 * 86400
    assert t.drill.limit(0, 3600, 86400, "profile") == 0
    assert any("profile limited to the last 24 h" in n for n in t.result.notes)
