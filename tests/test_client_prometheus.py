"""PrometheusClient against every recorded Prometheus response, over a real socket."""

from __future__ import annotations

import math

import httpx
import pytest

from plugintop.clients.prometheus import PrometheusClient, clamp_step, escape_label_name
from plugintop.errors import BadQuery, BadResponse
from plugintop.models.prometheus import invalid_ids
from tests.fixtures import doc, params, real, replay
from tests.servers import Answer, Backend


async def test_buildinfo(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("prom_buildinfo"))
    info = await PrometheusClient(http).buildinfo()
    assert info.version == "2.42.0+ds"


@pytest.mark.parametrize(
    "name",
    [
        "prom_query_range_p50",
        "prom_query_range_p90",
        "prom_query_range_p99",
        "prom_query_range_request_rate",
        "prom_query_range_success_ratio",
        "prom_query_range_tokens",
        "prom_query_range_cost",
        "prom_query_range_empty",
    ],
)
async def test_query_range_real(name: str, backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real(name)
    replay(backend, rec)
    p = params(rec)
    res = await PrometheusClient(http).query_range(p["query"], float(p["start"]), float(p["end"]), float(p["step"]))
    body = rec["body"]["data"]["result"]
    assert res.result_type == "matrix"
    assert len(res.series) == len(body)
    for got, want in zip(res.series, body, strict=True):
        assert got.metric == want["metric"]
        assert len(got.values) == len(want["values"])
        assert got.values[0][0] == want["values"][0][0]
    # the client sent what the real server was sent
    sent = dict(backend.requests[-1].params)
    assert sent["query"] == p["query"] and float(sent["step"]) == float(p["step"])


async def test_p99_values_are_numbers_including_nan(backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real("prom_query_range_p99")
    replay(backend, rec)
    p = params(rec)
    res = await PrometheusClient(http).query_range(p["query"], float(p["start"]), float(p["end"]), 60)
    values = [v for s in res.series for _, v in s.values]
    assert all(isinstance(v, float) for v in values)
    assert max(v for v in values if not math.isnan(v)) > 2.0  # the recorded incident


@pytest.mark.parametrize("name", ["prom_query_instant", "prom_query_instant_burn_rate_1h"])
async def test_instant_real(name: str, backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real(name)
    replay(backend, rec)
    p = params(rec)
    res = await PrometheusClient(http).query(p["query"], float(p["time"]))
    assert res.result_type == "vector"
    assert len(res.series) == len(rec["body"]["data"]["result"])
    assert all(len(s.values) == 1 for s in res.series)


async def test_exemplars_real(backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real("prom_query_exemplars")
    replay(backend, rec)
    p = params(rec)
    res = await PrometheusClient(http).exemplars(p["query"], float(p["start"]), float(p["end"]))
    assert len(res) == len(rec["body"]["data"])
    ex = res[0].exemplars[0]
    assert len(ex.labels["trace_id"]) == 32 and isinstance(ex.value, float) and ex.timestamp > 1.7e9


async def test_labels_series_label_values_real(backend: Backend, http: httpx.AsyncClient) -> None:
    for name in ("prom_labels", "prom_series", "prom_label_values_tenant"):
        replay(backend, real(name))
    c = PrometheusClient(http)
    assert "tenant" in await c.labels(1795690185, 1795700985)
    lv = params(real("prom_label_values_tenant"))
    assert "initech" in await c.label_values("tenant", 1795690185, 1795700985, [lv["match[]"]])
    rows = await c.series([params(real("prom_series"))["match[]"]], 1795690185, 1795700985)
    assert rows and all(r["tenant"] == "initech" for r in rows)


async def test_errors_real(backend: Backend, http: httpx.AsyncClient) -> None:
    for name in ("prom_query_error_bad_query", "prom_query_range_error_too_many_points"):
        rec = real(name)
        replay(backend, rec)
    c = PrometheusClient(http)
    with pytest.raises(BadQuery, match="unclosed left parenthesis"):
        await c.query("sum(x", 1795700985)
    with pytest.raises(BadQuery, match="11,000 points"):
        await c.query_range("x", 1795679385, 1795700985, 1)  # the client raises step; the fake still says no


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("prom_query_range", "/api/v1/query_range"),
        ("prom_query_range_gaps", "/api/v1/query_range"),
        ("prom_query_range_native_histogram", "/api/v1/query_range"),
        ("prom_query_range_native_histogram_codec_test", "/api/v1/query_range"),
        ("prom_query_vector", "/api/v1/query"),
    ],
)
async def test_documented_shapes(name: str, path: str, backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", path, Answer(200, doc(name)))
    c = PrometheusClient(http)
    res = await (c.query("up", 1) if path.endswith("query") else c.query_range("up", 0, 100, 15))
    assert len(res.series) == len(doc(name)["data"]["result"])


async def test_documented_exemplars_labels_series(backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/api/v1/query_exemplars", Answer(200, doc("prom_exemplars")))
    backend.route("GET", "/api/v1/labels", Answer(200, doc("prom_labels")))
    backend.route("GET", "/api/v1/label/job/values", Answer(200, doc("prom_label_values")))
    backend.route("GET", "/api/v1/series", Answer(200, doc("prom_series")))
    backend.route("GET", "/api/v1/status/buildinfo", Answer(200, doc("prom_buildinfo")))
    c = PrometheusClient(http)
    ex = await c.exemplars("x", 0, 1)  # the documented example's trace ids are not hex: dropped, counted
    assert [s.series_labels["service"] for s in ex] == ["bar", "foo"] and invalid_ids(ex) == 3
    assert await c.labels(0, 1) and await c.label_values("job", 0, 1) and await c.series(["up"], 0, 1)
    assert (await c.buildinfo()).version
    backend.route("GET", "/api/v1/query", Answer(400, doc("prom_error_bad_data")))
    with pytest.raises(BadQuery, match="11,000"):
        await c.query("x", 1)


async def test_status_error_with_200_and_unknown_result(backend: Backend, http: httpx.AsyncClient) -> None:
    c = PrometheusClient(http)
    backend.route("GET", "/api/v1/query", Answer(200, {"status": "error", "errorType": "execution", "error": "boom"}))
    with pytest.raises(BadQuery, match="boom"):
        await c.query("x", 1)
    backend.route("GET", "/api/v1/query", Answer(200, {"status": "success", "data": {"resultType": "weird"}}))
    with pytest.raises(BadResponse, match="unexpected result type"):
        await c.query("x", 1)


async def test_special_values_and_malformed_points(backend: Backend, http: httpx.AsyncClient) -> None:
    c = PrometheusClient(http)
    series = [{"metric": {"tool": "a"}, "values": [[1, "+Inf"], [2, "-Inf"], [3, "NaN"], [4.5, "0.25"]]}]
    backend.route(
        "GET",
        "/api/v1/query_range",
        Answer(200, {"status": "success", "data": {"resultType": "matrix", "result": series}}),
    )
    res = await c.query_range("x", 0, 10, 1)
    (t, v), *_ = res.series[0].values
    assert (t, v) == (1.0, math.inf) and res.series[0].values[1][1] == -math.inf
    assert math.isnan(res.series[0].values[2][1]) and res.series[0].values[3] == (4.5, 0.25)
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [7, "+Inf"]}}
    backend.route("GET", "/api/v1/query", Answer(200, scalar))
    assert (await c.query("x", 7)).scalar == math.inf
    for bad in ([[1, "fast"]], [[1]], [["x", "1"]], {"1": "2"}, [[1, None]]):
        body = {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": bad}]}}
        backend.route("GET", "/api/v1/query_range", Answer(200, body))
        with pytest.raises(BadResponse, match=r"unexpected result\[0\]\.values"):
            await c.query_range("x", 0, 10, 1)
    body = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"a": 1}, "value": [1, "1"]}]}}
    backend.route("GET", "/api/v1/query", Answer(200, body))
    with pytest.raises(BadResponse, match=r"unexpected result\[0\]\.metric: Expected `str`, got `int`"):
        await c.query("x", 1)


async def test_exemplar_values_written_as_strings_are_numbers(backend: Backend, http: httpx.AsyncClient) -> None:
    data = [
        {
            "seriesLabels": {"tool": "a"},
            "exemplars": [{"labels": {"trace_id": "a" * 32}, "value": "2.5", "timestamp": 9}],
        }
    ]
    backend.route("GET", "/api/v1/query_exemplars", Answer(200, {"status": "success", "data": data}))
    (got,) = await PrometheusClient(http).exemplars("x", 0, 10)
    assert got.series_labels == {"tool": "a"} and got.exemplars[0].value == 2.5 and got.exemplars[0].timestamp == 9.0
    data[0]["exemplars"] = [{"labels": {}, "value": "slow", "timestamp": 9}]
    with pytest.raises(BadResponse, match="unexpected exemplars"):
        await PrometheusClient(http).exemplars("x", 0, 10)


async def test_warnings_and_infos_are_kept(backend: Backend, http: httpx.AsyncClient) -> None:
    body = {"status": "success", "data": {"resultType": "vector", "result": []}, "warnings": ["w"], "infos": ["i"]}
    backend.route("GET", "/api/v1/query", Answer(200, body))
    res = await PrometheusClient(http).query("x", 1)
    assert res.warnings == ["w"] and res.infos == ["i"]


def test_clamp_step_keeps_points_under_limit() -> None:
    assert (21600 / clamp_step(0, 21600, 1)) <= 11000
    assert clamp_step(0, 3600, 60) == 60


def test_label_name_path_escaping() -> None:
    assert escape_label_name("tenant") == "tenant"
    assert escape_label_name("http.status_code") == "U__http_2e_status__code"


async def test_scrape_interval_from_a_real_servers_config(backend: Backend, http: httpx.AsyncClient) -> None:
    """Recorded from Debian's Prometheus 2.42 started with `global.scrape_interval: 30s`."""
    import json
    from pathlib import Path

    body = json.loads((Path(__file__).parent / "data" / "prom_status_config_real.json").read_text())
    backend.route("GET", "/api/v1/status/config", Answer(200, body))
    client = PrometheusClient(http)
    assert await client.scrape_interval() == 30.0 and await client.scrape_interval() == 30.0
    assert sum(r.path == "/api/v1/status/config" for r in backend.requests) == 1  # asked once per client
    backend.route("GET", "/api/v1/status/config", Answer(200, {"status": "success", "data": {"yaml": "global: {}\n"}}))
    assert await PrometheusClient(http).scrape_interval() is None
    backend.route("GET", "/api/v1/status/config", Answer(200, {"status": "success", "data": {}}))
    with pytest.raises(BadResponse):
        await PrometheusClient(http).scrape_interval()


def test_global_scrape_interval_reads_only_the_global_section() -> None:
    from plugintop.clients.prometheus import global_scrape_interval

    text = "scrape_configs:\n- job_name: x\n  scrape_interval: 5s\nglobal:\n  evaluation_interval: 1m\n  scrape_interval: 1m\n"
    assert global_scrape_interval(text) == 60.0
    assert (
        global_scrape_interval("global:\n  evaluation_interval: 1m\nscrape_configs:\n  scrape_interval: 5s\n") is None
    )
    assert global_scrape_interval("global:\n  scrape_interval: soon\n") is None


async def test_exemplars_with_a_malformed_trace_id_are_dropped_and_counted(
    backend: Backend, http: httpx.AsyncClient
) -> None:
    """An exemplar's labels are the plugin SDK's text: only a trace id travels on (issue 28)."""
    hostile = [
        "\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\u202e4bf92f35\x9b31mPWNED",
        "../../../../api/admin/users?perpage=1000#",
        "4bf92f35\x0077b34da6",
        "0" * 32,
    ]
    good = {"traceID": "4BF92F3577B34DA6", "span_id": "\x1b[2J", "pod": "p-1"}
    data = [
        {
            "seriesLabels": {"tool": "a"},
            "exemplars": [
                *({"labels": {"trace_id": h, "span_id": h}, "value": "9", "timestamp": 1} for h in hostile),
                {"labels": good, "value": "1", "timestamp": 1},
                {"labels": {"pod": "p-2"}, "value": "2", "timestamp": 1},
            ],
        }
    ]
    backend.route("GET", "/api/v1/query_exemplars", Answer(200, {"status": "success", "data": data}))
    got = await PrometheusClient(http).exemplars("x", 0, 10)
    assert invalid_ids(got) == len(hostile)
    ex = got[0].exemplars
    assert [e.labels for e in ex] == [{"pod": "p-1", "trace_id": "0" * 16 + "4bf92f3577b34da6"}, {"pod": "p-2"}]
    assert ex[0].trace_id == "0" * 16 + "4bf92f3577b34da6" and ex[0].span_id is None and ex[1].trace_id is None
