"""The query builders: every value ends up as exactly itself and cannot change the query's structure."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugintop.errors import QueryValueError
from plugintop.queries import logql, promql, pyroscope, traceql
from plugintop.queries._gostring import go_quote, re2_escape
from plugintop.queries.promql import Matcher, PromQL, Scope, any_of, selector
from plugintop.schema import Schema
from tests.gosyntax import go_unquote, selector_matchers, tokens

HOSTILE = [
    '"',
    "\\",
    "\n",
    'a"b',
    'x"}[5m])) or vector(1) #',
    "|",
    "\x00",
    "ümlaut ✓",
    "\\n",
    "`",
    "${x}",
    "\u202e",
    "\x7f\x1b[2J",
    'a,b="c"',
    "}",
    "' or '1'='1",
]
values = st.text() | st.sampled_from(HOSTILE)
S = Schema()


def _valid(v: str) -> bool:
    try:
        v.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


@given(values)
def test_go_quote_round_trips(v: str) -> None:
    if not _valid(v):
        with pytest.raises(QueryValueError):
            go_quote(v)
        return
    q = go_quote(v)
    assert go_unquote(q, 0) == (v, len(q))
    assert "\n" not in q


@given(values)
def test_each_language_has_its_escaper(v: str) -> None:
    if _valid(v):
        for quote in (promql.quote, logql.quote, traceql.quote, pyroscope.quote):
            assert go_unquote(quote(v), 0)[0] == v


@given(st.text().filter(_valid))
def test_re2_escape_matches_only_itself(v: str) -> None:
    pattern = re2_escape(v)
    assert re.fullmatch(pattern, v, re.DOTALL)
    assert not re.fullmatch(pattern, v + "x", re.DOTALL)


@given(values.filter(_valid), values.filter(_valid), values.filter(_valid))
def test_promql_selector_structure(plugin: str, tenant: str, tool: str) -> None:
    q = PromQL(S).buckets(Scope(plugin, tenant, tool))
    metric, matchers = selector_matchers(q)
    assert metric == "plugin_tool_duration_seconds_bucket"
    assert matchers == [("plugin", "=", plugin), ("tenant", "=", tenant), ("tool", "=", tool)]


@given(values.filter(_valid), values.filter(_valid))
def test_promql_queries_keep_their_shape(plugin: str, tenant: str) -> None:
    p = PromQL(S)
    sc = Scope(plugin, tenant)
    q = p.quantile(0.99, sc, "5m")
    toks = tokens(q)
    strs = [v for k, v in toks if k == "STR"]
    assert strs == [plugin, tenant]
    assert [v for k, v in toks if k == "TOK"][:4] == ["histogram_quantile", "(", "0.99", ","]
    q = p.burn_rate(sc, "1h", 0.995)
    assert [v for k, v in tokens(q) if k == "STR"] == [plugin, tenant, "success", plugin, tenant]


@given(values.filter(_valid), values.filter(_valid))
def test_logql_selector_structure(plugin: str, tenant: str) -> None:
    q = logql.LogQL(S).selector(plugin, tenant)
    assert selector_matchers(q) == ("", [("plugin", "=", plugin), ("tenant_id", "=", tenant)])


@given(values.filter(_valid), values.filter(_valid), values.filter(_valid))
def test_traceql_structure(plugin: str, tenant: str, tool: str) -> None:
    q = traceql.TraceQL(S).tool_spans(plugin, tenant, tool, min_duration_s=2.5)
    toks = tokens(q)
    assert toks == [
        ("TOK", "{"),
        ("TOK", "name"),
        ("TOK", "="),
        ("STR", f"plugin.{plugin}.tool.{tool}"),
        ("TOK", "&&"),
        ("TOK", "span.tenant.id"),
        ("TOK", "="),
        ("STR", tenant),
        ("TOK", "&&"),
        ("TOK", "duration"),
        ("TOK", ">"),
        ("TOK", "2500ms"),
        ("TOK", "}"),
    ]


@given(values.filter(_valid))
def test_traceql_all_tools_regex_is_literal_around_the_wildcard(plugin: str) -> None:
    q = traceql.TraceQL(S).tool_spans(plugin, None)
    toks = tokens(q)
    assert toks[:3] == [("TOK", "{"), ("TOK", "name"), ("TOK", "=~")]
    pattern = toks[3][1]
    assert re.fullmatch(pattern, f"plugin.{plugin}.tool.recommend", re.DOTALL)
    assert not re.fullmatch(pattern, f"plugin.{plugin}x.tool.recommend", re.DOTALL) or plugin.endswith("x")


@given(values.filter(_valid))
def test_pyroscope_selector_structure(plugin: str) -> None:
    assert selector_matchers(pyroscope.label_selector(S, plugin)) == ("", [("service_name", "=", plugin)])


def test_known_forms_match_what_real_servers_were_sent() -> None:
    p = PromQL(S)
    sc = Scope("recommender", "initech")
    assert p.buckets(sc) == 'plugin_tool_duration_seconds_bucket{plugin="recommender",tenant="initech"}'
    assert p.quantile(0.99, sc, "5m") == (
        "histogram_quantile(0.99, sum by (le, tool) (rate(plugin_tool_duration_seconds_bucket"
        '{plugin="recommender",tenant="initech"}[5m])))'
    )
    assert p.burn_rate(sc, "1h", 0.995) == (
        '(1 - sum(rate(plugin_tool_duration_seconds_count{plugin="recommender",tenant="initech",outcome="success"}[1h]))'
        ' / sum(rate(plugin_tool_duration_seconds_count{plugin="recommender",tenant="initech"}[1h]))) / (1 - 0.995)'
    )
    assert logql.LogQL(S).selector("recommender", "initech") == '{plugin="recommender", tenant_id="initech"}'
    assert traceql.TraceQL(S).tool_spans("recommender", "initech", min_duration_s=1) == (
        '{ name =~ "plugin\\\\.recommender\\\\.tool\\\\..*" && span.tenant.id = "initech" && duration > 1000ms }'
    )


def test_odd_label_names_are_quoted() -> None:
    assert selector("m", [Matcher("a.b", "=", "x")]) == 'm{"a.b"="x"}'
    assert selector("my.metric", [Matcher("a", "=", "x")]) == '{"my.metric",a="x"}'
    assert any_of("outcome", ["ok", "a.b"]).render() == 'outcome=~"ok|a\\\\.b"'
    assert traceql.attribute("span", "a b") == 'span."a b"'
    assert traceql.attribute("span", 'q"\\') == 'span."q\\"\\\\"'


def test_schema_names_flow_into_queries() -> None:
    s = Schema(tenant_label="tenant_id", plugin_label="namespace", duration_metric="calls_seconds")
    assert PromQL(s).buckets(Scope("p", "t")) == 'calls_seconds_bucket{namespace="p",tenant_id="t"}'


@given(values.filter(_valid), st.text(max_size=12))
def test_a_pivot_is_one_escaped_label_filter_after_json(value: str, field: str) -> None:
    """A JSON field of a log line and any value become `| json | label="value"`: the label as Loki's
    json parser names it, the value one string token whatever it holds."""
    q = logql.LogQL(S).logs("p", "t", pivots=[(field or "x", value)])
    toks = tokens(q)
    tail = toks[toks.index(("TOK", "json")) :]
    label = logql.json_label(field or "x")
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label)
    assert tail == [("TOK", "json"), ("TOK", "|"), ("TOK", label), ("TOK", "="), ("STR", value)]


def test_json_labels_are_what_lokis_json_parser_makes() -> None:
    assert [logql.json_label(f) for f in ("error.type", "a-b", "9lives", "ok_1")] == [
        "error_type",
        "a_b",
        "_9lives",
        "ok_1",
    ]
