"""The demo's query engines on hand-made inputs: Prometheus semantics, LogQL pipelines, TraceQL."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from plugintop.demo.gofmt import go_float
from plugintop.demo.lex import QueryError
from plugintop.demo.logql import LogQuery, run_pipeline
from plugintop.demo.logql import parse as parse_logql
from plugintop.demo.logs import LogLine, _json_line, _json_value
from plugintop.demo.promql_eval import Engine, Scalar, SeriesData, bucket_quantile, extrapolated_rate
from plugintop.demo.promql_parse import LabelMatcher
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.demo.traceql import DemoSpan, TraceView, match, plan
from plugintop.demo.traceql import parse as parse_traceql
from plugintop.errors import ConfigError
from tests.hostile import HOSTILE


class Mem:
    def __init__(self, series: list[SeriesData]) -> None:
        self.series = series

    def select(self, matchers: Sequence[LabelMatcher]) -> list[SeriesData]:
        return [s for s in self.series if all(m.matches(s.labels.get(m.name, "")) for m in matchers)]


def counter(name: str, per_step: float, n: int = 100, **labels: str) -> SeriesData:
    return SeriesData({"__name__": name, **labels}, 0.0, 15.0, [per_step * i for i in range(n)])


def test_bucket_quantile_matches_prometheus_rules() -> None:
    inf = math.inf
    assert bucket_quantile(0.5, [(1, 10), (2, 20), (inf, 20)]) == 1.0
    assert bucket_quantile(0.75, [(1, 10), (2, 20), (inf, 20)]) == 1.5
    assert bucket_quantile(0.99, [(1, 0), (2, 0), (inf, 10)]) == 2.0  # highest bucket: second-highest bound
    assert math.isnan(bucket_quantile(0.5, [(1, 0), (inf, 0)]))  # no observations
    assert math.isnan(bucket_quantile(0.5, [(1, 5), (2, 10)]))  # no +Inf bucket
    assert math.isnan(bucket_quantile(0.5, [(inf, 10)]))  # fewer than 2 buckets
    assert bucket_quantile(-1, [(1, 1), (inf, 1)]) == -inf and bucket_quantile(2, [(1, 1), (inf, 1)]) == inf
    assert bucket_quantile(0.5, [(1, 10), (2, 8), (inf, 20)]) == 1.0  # monotonicity fixed


def test_extrapolated_rate() -> None:
    pts = [(15.0 * i, 10.0 * i) for i in range(1, 21)]  # 10 per 15 s over (0, 300]
    assert extrapolated_rate(pts, 300, 300, 0, True, True, True) == pytest.approx(10 / 15)
    assert extrapolated_rate(pts[:1], 300, 300, 0, True, True, True) is None
    reset = [(0.0, 5.0), (15.0, 10.0), (30.0, 2.0), (45.0, 6.0)]
    inc = extrapolated_rate(reset, 45, 60, 0, True, False, False)
    assert inc is not None and inc > 0


def test_engine_rate_sum_by_and_arithmetic() -> None:
    e = Engine(
        Mem(
            [
                counter("c", 15, tool="a", tenant="x"),
                counter("c", 30, tool="b", tenant="x"),
                counter("c", 45, tool="a", tenant="y"),
            ]
        )
    )
    vec = e.instant('sum by (tool) (rate(c{tenant=~"x|y"}[5m]))', 1000)
    assert isinstance(vec, list)
    got = {lb["tool"]: v for lb, v in vec}
    assert got == pytest.approx({"a": 4.0, "b": 2.0})
    got2 = e.instant('sum(rate(c{tenant="x"}[5m])) * 60', 1000)
    assert isinstance(got2, list) and got2[0][1] == pytest.approx(180.0)
    ratio = e.instant('sum by (tool) (rate(c{tenant="x"}[5m])) / sum by (tool) (rate(c[5m]))', 1000)
    assert isinstance(ratio, list)
    assert {lb["tool"]: v for lb, v in ratio} == pytest.approx({"a": 0.25, "b": 1.0})
    assert e.instant("1 + 2 * 3", 0) == Scalar(7.0)
    assert e.instant("2 ^ 3 ^ 2", 0) == Scalar(512.0)
    assert len(e.instant("rate(c[5m]) > 1.5", 1000)) == 2  # type: ignore[arg-type]
    top = e.instant("topk(1, rate(c[5m]))", 1000)
    assert isinstance(top, list) and top[0][1] == pytest.approx(3.0)


def test_engine_range_steps_and_lookback() -> None:
    e = Engine(Mem([counter("c", 1, n=10)]))
    m = e.range("c", 0, 600, 60)
    assert [t for t, _ in m[0][1]] == [0, 60, 120, 180, 240, 300, 360, 420]  # the last sample is 5 m stale at 435
    assert m[0][0]["__name__"] == "c"


NOW = 1_796_000_000.0
"""Today's epoch: the window arithmetic is not exact there, as it is near 0."""
COLUMN_QUERIES = [
    "histogram_quantile(0.99, sum by (le, tool) (rate(plugin_tool_duration_seconds_bucket[1m])))",
    'histogram_quantile(0.5, sum by (le, tool, tenant) (rate(plugin_tool_duration_seconds_bucket{tenant!="acme"}[5m])))',
    'sum by (tool, version) (rate(plugin_tool_duration_seconds_count{outcome!~"success"}[1m]))',
    "sum by (tool, tenant) (rate(plugin_llm_cost_usd_total[1m])) / sum by (tool, tenant) (rate(plugin_tool_duration_seconds_count[1m]))",
    "sum(increase(plugin_llm_tokens_total[20m30s])) * 60",
    "avg by (tool) (rate(plugin_tool_duration_seconds_sum[2m] offset 10m))",
    "max without (le) (rate(plugin_tool_duration_seconds_bucket[45s]))",
    "count by (tenant) (rate(plugin_tool_duration_seconds_count[1m])) > 2",
    "stddev(rate(plugin_llm_cost_usd_total[3m]))",
]


@pytest.mark.parametrize("query", COLUMN_QUERIES)
def test_range_queries_by_columns_equal_the_step_by_step_answers(query: str) -> None:
    """A range query's shapes evaluated series by series give exactly the numbers of one instant query
    per step (which are evaluated step by step), on the demo's series at today's epoch."""
    stack = DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW, only=())
    e = Engine(stack.metrics)
    start, end, step = NOW - 7200 + 7.3, NOW, 30.0
    got = {tuple(sorted(lb.items())): pts for lb, pts in e.range(query, start, end, step)}
    want: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    for i in range(int((end - start) // step) + 1):
        t = start + i * step
        vec = e.instant(query, t)
        assert isinstance(vec, list)
        for lb, v in vec:
            want.setdefault(tuple(sorted(lb.items())), []).append((t, v))
    assert want and got.keys() == want.keys()
    for k, pts in want.items():
        assert [(t, repr(v)) for t, v in got[k]] == [(t, repr(v)) for t, v in pts], k  # NaN == NaN, exactly


@pytest.mark.parametrize(
    "query", ["sum(", "foo(bar)", "rate(c)", "c[5m] + 1", "{}", "sum by (le) rate(c[5m])", "1 > 2", 'c{a=~"("}']
)
def test_engine_rejects(query: str) -> None:
    with pytest.raises(QueryError):
        Engine(Mem([counter("c", 1)])).instant(query, 100)


def test_go_float() -> None:
    assert [go_float(x) for x in (0.5, 1.0, 1e-7, 1e21, math.nan, math.inf, -math.inf, 123456789.0)] == [
        "0.5",
        "1",
        "1e-07",
        "1e+21",
        "NaN",
        "+Inf",
        "-Inf",
        "123456789",
    ]


LINE = LogLine(
    1,
    '{"level":"error","event":"x","trace_id":"t1","n":5}',
    {"plugin": "p", "tenant_id": "a"},
    {"trace_id": "t1", "detected_level": "error"},
    {"level": "error", "event": "x", "trace_id": "t1", "n": "5"},
)


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ('{plugin="p"}', True),
        ('{plugin="p"} |= "error"', True),
        ('{plugin="p"} != "error"', False),
        ('{plugin="p"} |~ "lev.l"', True),
        ('{plugin="p"} | json | level="error"', True),
        ('{plugin="p"} | json | level=~"(?i)ERROR|fatal"', True),
        ('{plugin="p"} | json | n > 4 and level="error"', True),
        ('{plugin="p"} | json | n > 5 or event="y"', False),
        ('{plugin="p"} | json | trace_id="t1"', True),
        ('{plugin="p"} | json | trace_id_extracted="t1"', True),
    ],
)
def test_logql_pipelines(query: str, kept: bool) -> None:
    q = parse_logql(query)
    assert isinstance(q, LogQuery)
    assert (run_pipeline(q, LINE) is not None) == kept


@pytest.mark.parametrize("query", ['{plugin="p"', "{}", '{plugin=""}', 'count_over_time({plugin="p"})', "sum("])
def test_logql_rejects(query: str) -> None:
    with pytest.raises(QueryError, match="parse error"):
        parse_logql(query)


SPANS = [
    DemoSpan("plugin.p.tool.t", 2.5, "unset", "server", {"tenant.id": "acme", "n": 3}, {"service.name": "p"}),
    DemoSpan("chat gpt", 2.0, "error", "client", {"llm.model": "gpt"}, {"service.name": "p"}),
]
TRACE = TraceView("plugin.p.tool.t", "p", 2.5)


@pytest.mark.parametrize(
    ("query", "hits"),
    [
        ('{ name = "plugin.p.tool.t" }', [0]),
        ('{ name =~ "plugin\\\\.p\\\\.tool\\\\..*" && span.tenant.id = "acme" && duration > 2s }', [0]),
        ("{ duration > 2100ms }", [0]),
        ("{ status = error }", [1]),
        ("{ kind = client || span.n >= 3 }", [0, 1]),
        ('{ .service.name = "p" && span.llm.model != nil }', [1]),
        ('{ resource.service.name = "p" }', [0, 1]),
        ('{ span.tenant.id = "other" }', None),
        ('{ span.tenant.id = "acme" } && { status = error }', [0, 1]),
        ('{ span.tenant.id = "acme" } && { status = ok }', None),
        ("{ }", [0, 1]),
    ],
)
def test_traceql(query: str, hits: list[int] | None) -> None:
    q = parse_traceql(query)
    assert match(q.tree, SPANS, TRACE) == hits


def test_traceql_plan_and_errors() -> None:
    q = plan(parse_traceql('{ span.tenant.id = "acme" && duration > 1s } | select(span.llm.model)'))
    assert q.must_equal == {"tenant.id": "acme"} and q.min_duration == 1.0 and q.select == [("span", "llm.model")]
    assert plan(parse_traceql('{ span.tenant.id = "a" || duration > 1s }')).must_equal == {}
    for bad in ("{ span.x = }", "{ name = ", "{ duration > 1s } | rate()", "x"):
        with pytest.raises(QueryError, match="invalid TraceQL query"):
            parse_traceql(bad)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('plugin="p"\ntenants=[]\n[[tools]]\nname="t"', "tenants"),
        ('plugin="p"\ntenants=["a"]', "tools"),
        (
            'plugin="p"\ntenants=["a"]\n[[tools]]\nname="t"\n[[incidents]]\ntenant="b"\ntool="t"\nstart="-1h"\n'
            'duration="5m"\ncause="llm"\nfactor=2',
            "incidents.0.tenant",
        ),
        (
            'plugin="p"\ntenants=["a"]\n[[tools]]\nname="t"\n[[incidents]]\ntenant="a"\ntool="t"\nstart="-1h"\n'
            'duration="5m"\ncause="cpu"\nfactor=2\nfunction="nope"',
            "incidents.0.function",
        ),
        ('plugin="p"\ntenants=["a"]\nbogus=1\n[[tools]]\nname="t"', "bogus"),
        ('plugin="p"\ntenants=["a"]\nhistory="forever"\n[[tools]]\nname="t"', "history"),
        ('plugin="p"\ntenants=["a"]\n[[tools]]\nname="t"\n[[tools]]\nname="u"\nmedian_ms=0', "tools.1.median_ms"),
        ('plugin="p"\ntenants=["a"]\n[[tools]]\nname="t"\n[[tools]]\nname="t"', "tools: two tools share a name"),
    ],
)
def test_scenario_errors_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    f = tmp_path / "s.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_scenario(str(f))
    assert str(f) in str(e.value) and key in str(e.value)


def test_builtin_scenario() -> None:
    sc = load_scenario(None)
    assert sc.plugin == "recommender" and sc.tenants == ["acme", "globex", "initech"]
    inc = sc.incidents[0]
    assert (inc.tenant, inc.cause, inc.window(1000.0)) == ("acme", "llm", (1000.0 - 2700, 1000.0 - 1500))


@pytest.mark.parametrize("text", [*HOSTILE, "".join(map(chr, range(128))), "é\u2028日本", "plain"])
def test_log_lines_are_written_as_json_dumps_writes_them(text: str) -> None:
    """The demo writes its lines through msgspec (for speed): byte for byte what `json.dumps` writes,
    control characters and non-ASCII escaped, and `| json` sees the values it would parse."""
    obj: dict[str, object] = {"ts": "2026-12-02T18:00:00Z", "msg": text, "ms": 1234.5, "n": 7, "ok": True}
    assert _json_line(obj) == json.dumps(obj, separators=(",", ":"))
    assert {k: _json_value(v) for k, v in obj.items()} == {
        k: v if isinstance(v, str) else json.dumps(v) for k, v in obj.items()
    }
