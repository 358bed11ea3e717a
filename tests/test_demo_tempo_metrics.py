"""The demo Tempo's TraceQL metrics (`compare()`, `rate()`/`count_over_time()` by), span-scoped tag search and
`select()`: counted from the world's spans, at today's epoch (the shapes are checked against the recordings in
tests/test_demo_contract.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.demo.tempo_metrics import go_duration
from tests.demo_stack import fetch, stack

NOW = float(int(time.time()) // 60 * 60 + 7)
SCENARIO = Path(__file__).parent / "data" / "live_recommender.toml"
GRADE = '{resource.service.name="recommender" && name="plugin.recommender.tool.grade_essay"}'
RECOMMEND = '{name="plugin.recommender.tool.recommend_courses"}'


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with stack(load_scenario(str(SCENARIO)), now=NOW) as s:
        yield s


@pytest.fixture(scope="module")
def slow(demo: DemoStack) -> dict[str, Any]:
    """`compare({duration > 1s})` over the last 40 minutes (the incident began 24 minutes ago)."""
    return _range(demo, GRADE + " | compare({duration > 1s})", minutes=40)


def _get(demo: DemoStack, path: str, **params: str | int) -> tuple[int, Any]:
    status, _, body = fetch(demo.urls["tempo"], "GET", path, [(k, str(v)) for k, v in params.items()])
    return status, body


def _range(demo: DemoStack, q: str, minutes: int = 24, step: str = "60s") -> dict[str, Any]:
    status, body = _get(demo, "/api/metrics/query_range", q=q, start=int(NOW) - minutes * 60, end=int(NOW), step=step)
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def _label(s: dict[str, Any], key: str) -> Any:
    for lab in s["labels"]:
        if lab["key"] == key:
            return next(iter(lab["value"].values()))
    raise KeyError(key)


def _values(s: dict[str, Any]) -> list[float]:
    return [x.get("value", 0) for x in s["samples"]]


def _series(body: dict[str, Any], meta: str, attr: str) -> dict[Any, list[float]]:
    """Value -> samples of the `meta` series of one attribute."""
    out = {}
    for s in body["series"]:
        if _label(s, "__meta_type") == meta and s["labels"][1]["key"] == attr:
            out[_label(s, attr)] = _values(s)
    return out


def test_compare_splits_the_matched_spans_into_selection_and_baseline(demo: DemoStack) -> None:
    body = _range(demo, GRADE + ' | compare({span.tenant.id = "globex"})')
    sel = _series(body, "selection", "span.tenant.id")
    base = _series(body, "baseline", "span.tenant.id")
    assert list(sel) == ["globex"]
    assert set(base) == {"acme", "hooli", "initech", "umbrella"}
    [sel_total] = _series(body, "selection_total", "span.tenant.id").values()
    [base_total] = _series(body, "baseline_total", "span.tenant.id").values()
    assert sel_total == sel["globex"]
    assert base_total == [sum(col) for col in zip(*base.values(), strict=True)]
    # every attribute counts every span: the totals agree with count_over_time() of the outer query
    counts = _values(_range(demo, GRADE + " | count_over_time()")["series"][0])
    assert [a + b for a, b in zip(sel_total, base_total, strict=True)] == counts
    assert sum(counts) > 1000
    # the intrinsics, the resource and the tool span's own attributes, each with a selection and a baseline
    attrs = {s["labels"][1]["key"] for s in body["series"]}
    for a in ("name", "kind", "status", "statusMessage", "rootName", "rootServiceName", "instrumentation:name"):
        assert a in attrs
    for a in ("span.llm.model", "span.user.id", "span.plugin.version", "resource.service.name", "span.http.url"):
        assert a in attrs
    assert "duration" not in attrs and "trace:id" not in attrs
    assert _series(body, "baseline", "span.http.url") == {"nil": base_total}  # a dedicated column it lacks
    assert _series(body, "selection", "kind") == {"server": sel_total}
    # as real Tempo 3.0.3 does, the attributes of the outer filter's conditions are counted twice
    assert _series(body, "selection", "name") == {"plugin.recommender.tool.grade_essay": [2 * v for v in sel_total]}
    assert list(_series(body, "baseline_total", "resource.service.name").values()) == [[2 * v for v in base_total]]


def test_compare_selects_the_slow_calls_of_the_incident(demo: DemoStack, slow: dict[str, Any]) -> None:
    """From now-24m globex's grade_essay calls are ten times slower: `duration > 1s` selects them."""
    body = slow
    sel = _series(body, "selection", "span.tenant.id")
    base = _series(body, "baseline", "span.tenant.id")
    assert max(sel, key=lambda v: sum(sel[v])) == "globex"
    assert sum(sel["globex"]) > 10 * sum(sum(v) for k, v in sel.items() if k != "globex")
    # before the incident globex's calls were fast too: a slow one is rare (the log-normal's tail)
    assert 5 * sum(sel["globex"][:10]) < sum(sel["globex"][-10:])
    assert sum(base["globex"][-10:]) < sum(sel["globex"][-10:])
    # the totals carry exemplars: spans with all their attributes, durations and trace ids
    exemplars = [
        e for s in body["series"] if _label(s, "__meta_type") == "selection_total" for e in s.get("exemplars", [])
    ]
    assert exemplars
    keys = {lab["key"] for lab in exemplars[0]["labels"]}
    assert {"trace:id", "duration", "span.tenant.id", "name"} <= keys
    status, trace = _get(demo, "/api/v2/traces/" + _label({"labels": exemplars[0]["labels"]}, "trace:id"))
    assert status == 200 and trace["trace"]["resourceSpans"]


def test_compare_top_n_and_time_window(demo: DemoStack) -> None:
    body = _range(demo, GRADE + ' | compare({span.tenant.id = "globex"}, 3)', step="300s")
    per: dict[tuple[str, str], int] = {}
    for s in body["series"]:
        key = (_label(s, "__meta_type"), s["labels"][1]["key"])
        per[key] = per.get(key, 0) + 1
    assert per[("baseline", "span.user.id")] == 3 and per[("baseline", "span.tenant.id")] == 3
    assert per[("selection", "span.tenant.id")] == 1
    assert all(n == 1 for (meta, _), n in per.items() if meta.endswith("_total"))
    users = _series(body, "baseline", "span.user.id")
    others_q = "{" + GRADE[1:-1] + ' && span.tenant.id != "globex"} | count_over_time() by (span.user.id)'
    others = _range(demo, others_q, step="300s")
    ranked = sorted((sum(_values(s)) for s in others["series"]), reverse=True)
    assert sorted((sum(v) for v in users.values()), reverse=True) == ranked[:3]  # the 3 commonest values
    # with a window, only spans starting in it can be selected
    lo, hi = (int(NOW) - 600) * 10**9, (int(NOW) - 300) * 10**9
    windowed = _range(demo, GRADE + f' | compare({{span.tenant.id = "globex"}}, 10, {lo}, {hi})', step="300s")
    [sel] = _series(windowed, "selection_total", "kind").values()
    stamps = [int(x["timestampMs"]) / 1000 for x in windowed["series"][0]["samples"]]
    assert sum(sel) > 0
    assert all(t > lo / 1e9 and t - 300 < hi / 1e9 for t, v in zip(stamps, sel, strict=True) if v)


def test_compare_samples_have_no_value_when_zero(slow: dict[str, Any]) -> None:
    body = slow
    zeros = [x for s in body["series"] for x in s["samples"] if "value" not in x]
    assert zeros and all(set(x) == {"timestampMs"} for x in zeros)
    stamps = [int(x["timestampMs"]) for x in body["series"][0]["samples"]]
    assert stamps[0] == (int(NOW) - 2400) // 60 * 60 * 1000 and stamps[-1] == -(-int(NOW) // 60) * 60 * 1000
    assert {_label(s, s["labels"][1]["key"]) for s in body["series"] if _label(s, "__meta_type").endswith("total")} == {
        "nil"
    }
    assert {"totalBlocks", "completedJobs", "totalJobs", "inspectedSpans"} <= set(body["metrics"])


def test_rate_by_tenant_counts_spans_per_second(demo: DemoStack) -> None:
    q = '{resource.service.name="recommender" && kind=server}'
    rate = _range(demo, q + " | rate() by (span.tenant.id)")
    count = _range(demo, q + " | count_over_time() by (span.tenant.id)")
    assert [_label(s, "span.tenant.id") for s in rate["series"]] == ["acme", "globex", "hooli", "initech", "umbrella"]
    for r, c in zip(rate["series"], count["series"], strict=True):
        assert [round(v * 60, 6) for v in _values(r)] == _values(c)
        assert 55 < sum(_values(c)[1:-1]) / 23 < 90  # 40 + 20 + 10 calls a minute (± 15 %), one server span each
        ex = r["exemplars"][0]
        assert {lab["key"] for lab in ex["labels"]} == {"resource.service.name", "kind", "span.tenant.id", "trace:id"}
    total = _range(demo, q + " | rate()")["series"]
    assert [s["labels"] for s in total] == [[{"key": "__name__", "value": {"stringValue": "rate"}}]]
    sums = [sum(col) for col in zip(*(_values(s) for s in rate["series"]), strict=True)]
    assert [round(v, 9) for v in _values(total[0])] == [round(v, 9) for v in sums]


@pytest.mark.parametrize(
    ("q", "wording"),
    [
        ("{} | quantile_over_time(duration, .9)", "parse error"),
        ("{} | compare({status = error}, 0)", "greater than 0"),
        ("{} | compare({status = error}, 5, 20, 10)", "end timestamp must be greater"),
        ("{} | compare(status = error)", "spanset filter"),
        ('{name = "x"}', "not a metrics query"),
    ],
)
def test_metrics_errors_have_tempos_shape(demo: DemoStack, q: str, wording: str) -> None:
    status, ctype, body = fetch(demo.urls["tempo"], "GET", "/api/metrics/query_range", [("q", q)])
    assert status == 400 and ctype.startswith("text/plain") and wording in body, body


def test_search_refuses_a_metrics_query(demo: DemoStack) -> None:
    status, body = _get(demo, "/api/search", q="{} | rate()")
    assert status == 400 and "metrics" in body


def test_span_scoped_tags_list_what_the_matching_spans_carry(demo: DemoStack) -> None:
    start, end = int(NOW) - 2640, int(NOW)
    status, body = _get(demo, "/api/v2/search/tags", scope="span", q=GRADE, start=start, end=end)
    assert status == 200
    [scope] = body["scopes"]
    assert scope["name"] == "span"
    assert {"tenant.id", "user.id", "llm.model", "llm.cost_usd", "plugin.version"} <= set(scope["tags"])
    assert "code.function" not in scope["tags"] and "candidates" not in scope["tags"]  # child spans, other tool
    _, body = _get(demo, "/api/v2/search/tags", scope="span", q=RECOMMEND, start=start, end=end)
    assert "candidates" in body["scopes"][0]["tags"]  # the tool's own attribute (tools.attributes)
    _, body = _get(demo, "/api/v2/search/tags", scope="resource", q=GRADE, start=start, end=end)
    assert [s["name"] for s in body["scopes"]] == ["resource"] and "service.name" in body["scopes"][0]["tags"]
    status, _ = _get(demo, "/api/v2/search/tags", scope="spam")
    assert status == 400


def test_tag_values_come_from_the_matching_spans(demo: DemoStack) -> None:
    start, end = int(NOW) - 1800, int(NOW)
    _, body = _get(
        demo, "/api/v2/search/tag/span.tenant.id/values", q='{span.tenant.id="globex"}', start=start, end=end
    )
    assert body["tagValues"] == [{"type": "string", "value": "globex"}]
    _, body = _get(demo, "/api/v2/search/tag/span.candidates/values", q=RECOMMEND, start=start, end=end)
    assert body["tagValues"] and {v["type"] for v in body["tagValues"]} == {"int"}
    _, body = _get(demo, "/api/v2/search/tag/span.user.id/values", start=start, end=end)
    assert len(body["tagValues"]) > 20 and all(v["value"].startswith("u-") for v in body["tagValues"])
    _, body = _get(demo, "/api/v2/search/tag/status/values", q=GRADE, start=start, end=end)
    assert {v["type"] for v in body["tagValues"]} == {"keyword"}


def test_select_returns_the_attributes_a_span_has(demo: DemoStack) -> None:
    q = "{" + GRADE[1:-1] + " && duration > 1s} | select(span.llm.model, span.tenant.id, span.user.id, span.candidates)"
    status, body = _get(demo, "/api/search", q=q, start=int(NOW) - 1440, end=int(NOW), limit=20, spss=3)
    assert status == 200 and len(body["traces"]) == 20
    for t in body["traces"]:
        for sp in t["spanSet"]["spans"]:
            keys = {a["key"] for a in sp["attributes"]}
            assert keys == {"llm.model", "tenant.id", "user.id", "service.name"}  # no candidates on these spans
    assert {"totalBlocks", "totalBlockBytes"} <= set(body["metrics"])  # older than 15 min: backend blocks
    q = RECOMMEND + " | select(span.candidates)"
    _, body = _get(demo, "/api/search", q=q, start=int(NOW) - 600, end=int(NOW), limit=5)
    values = [a["value"] for t in body["traces"] for sp in t["spanSet"]["spans"] for a in sp["attributes"]]
    assert values and all(10 <= int(v["intValue"]) <= 200 for v in values)
    _, body = _get(demo, "/api/search", q=q, start=int(NOW) - 600, end=int(NOW) - 60, limit=5)
    assert "totalBlocks" not in body["metrics"]  # the last 15 minutes are in the live store only


def test_go_duration() -> None:
    assert go_duration(0.763152065) == "763.152065ms"
    assert go_duration(1.271410581) == "1.271410581s"
    assert go_duration(125.5) == "2m5.5s"
    assert go_duration(0.0000015) == "1.5µs"
    assert go_duration(0) == "0s"


def test_an_instant_query_is_one_bucket_of_its_range_never_aligned() -> None:
    from plugintop.demo.tempo_metrics import Grid

    start = 1_796_000_123.0  # not on any step
    g = Grid.of(start, start + 3600, 3600)
    assert g.n == 1 and g.index(start + 1) == 0 and g.index(start + 3600) == 0
    assert g.index(start) == -1 and g.index(start - 1800) == -1  # a range query would reach back to the step
    aligned = Grid.of(start, start + 3600, 600)
    assert aligned.t0 <= start and aligned.index(start - 1) >= 0


def test_the_explanations_compare_is_an_instant_query() -> None:
    import asyncio

    from plugintop.config.context import context_from
    from plugintop.connect.backends import open_backends
    from plugintop.demo.scenario import load_scenario
    from plugintop.demo.stack import DemoStack
    from plugintop.querylog import QueryLog
    from plugintop.timerange import TimeRange
    from plugintop.triage import Triage, TriageRequest

    now = 1_796_000_000.0
    log = QueryLog()
    with DemoStack(load_scenario(None), now=now, clock=lambda: now) as st:
        ctx = context_from({k: {"url": u} for k, u in st.urls.items()})

        async def go() -> None:
            async with await open_backends(ctx, log=log) as b:
                req = TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(now - 3600, now))
                await Triage(b, ctx, req, clock=lambda: now).run()

        asyncio.run(go())
    compares = [dict(r.query) for r in log if r.path.endswith("/api/metrics/query_range") and "compare(" in r.target]
    assert compares
    for p in compares:  # Tempo aligns a range query's start back to its step (and one more): an instant one, never
        assert int(p["end"]) - int(p["start"]) == int(p["step"].removesuffix("s")), p
