"""LokiClient against every recorded Loki response, over a real socket."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugintop.clients.loki import Cursor, LokiClient, decode_streams
from plugintop.errors import BadQuery, BadResponse
from plugintop.models.loki import LogEntry, LogPage
from tests.fixtures import doc, params, real, replay
from tests.servers import Answer, Backend

WINDOW = (1795696785, 1795698585)
S = 1_000_000_000
"""A second in nanoseconds."""


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("loki_query_range_backward", "backward"),
        ("loki_query_range_backward_categorized", "backward"),
        ("loki_query_range_forward", "forward"),
        ("loki_query_range_json_level_error", "backward"),
        ("loki_query_range_json_level_error_categorized", "backward"),
    ],
)
async def test_log_queries_real(name: str, direction: str, backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real(name)
    replay(backend, rec)
    p = params(rec)
    page = await LokiClient(http).query_logs(
        p["query"], int(p["start"]), int(p["end"]), limit=int(p["limit"]), direction=direction
    )
    want = sum(len(s["values"]) for s in rec["body"]["data"]["result"])
    assert len(page.entries) == want
    ts = [e.ts_ns for e in page.entries]
    assert ts == sorted(ts, reverse=direction == "backward")
    assert all(e.labels.get("plugin") == "recommender" for e in page.entries)
    # trace ids are found wherever Loki put them: merged into the stream, or as structured metadata
    assert all(e.field("trace_id") for e in page.entries if '"trace_id"' in e.line)
    sent = dict(backend.requests[-1].params)
    assert sent["query"] == p["query"] and sent["start"] == p["start"]
    assert backend.requests[-1].headers.get("X-Loki-Response-Encoding-Flags") == "categorize-labels"


async def test_metric_queries_real(backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real("loki_query_range_metric")
    replay(backend, rec)
    p = params(rec)
    res = await LokiClient(http).query_metric_range(p["query"], int(p["start"]) / 1e9, int(p["end"]) / 1e9, 60)
    assert res.result_type == "matrix" and {s.metric.get("level") for s in res.series} >= {"info"}
    rec = real("loki_query_instant_metric")
    replay(backend, rec)
    res = await LokiClient(http).query_metric(params(rec)["query"], int(params(rec)["time"]) / 1e9)
    assert res.result_type == "vector" and res.series


async def test_labels_series_buildinfo_real(backend: Backend, http: httpx.AsyncClient) -> None:
    for n in ("loki_labels", "loki_label_values_tenant_id", "loki_series", "loki_buildinfo"):
        replay(backend, real(n))
    c = LokiClient(http)
    assert "tenant_id" in await c.labels(1795679385, 1795700985)
    assert "initech" in await c.label_values("tenant_id", 1795679385, 1795700985)
    rows = await c.series(params(real("loki_series"))["match[]"], 1795697385, 1795700985)
    assert rows and rows[0]["tenant_id"] == "initech"
    assert (await c.buildinfo()).version == "v3.7.6"


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("loki_query_error_parse", "parse error"),
        ("loki_query_error_limit", "max entries limit"),
    ],
)
async def test_errors_real(name: str, pattern: str, backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real(name))
    with pytest.raises(BadQuery, match=pattern):
        await LokiClient(http).query_logs("{x}", *(int(t * 1e9) for t in WINDOW))


async def test_instant_log_query_error_real(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("loki_query_error_instant_log_query"))
    with pytest.raises(BadQuery, match="not supported as an instant query"):
        await LokiClient(http).query_metric("{x}", WINDOW[1])


@pytest.mark.parametrize(
    "name",
    [
        "loki_query_range_streams",
        "loki_query_range_streams_categorized",
        "loki_query_range_streams_sm_merged",
    ],
)
async def test_documented_streams(name: str, backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/loki/api/v1/query_range", Answer(200, doc(name)))
    page = await LokiClient(http).query_logs("{x}", 0, 1, limit=1000)
    assert len(page.entries) == sum(len(s["values"]) for s in doc(name)["data"]["result"])


@pytest.mark.parametrize("name", ["loki_query_range_matrix", "loki_query_range_matrix_nan"])
async def test_documented_matrices(name: str, backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/loki/api/v1/query_range", Answer(200, doc(name)))
    res = await LokiClient(http).query_metric_range("count_over_time({x}[1m])", 0, 100, 10)
    assert len(res.series) == len(doc(name)["data"]["result"])


async def test_documented_vector_labels_series(backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/loki/api/v1/query", Answer(200, doc("loki_query_vector")))
    backend.route("GET", "/loki/api/v1/labels", Answer(200, doc("loki_labels")))
    backend.route("GET", "/loki/api/v1/label/foo/values", Answer(200, doc("loki_label_values")))
    backend.route("GET", "/loki/api/v1/series", Answer(200, doc("loki_series")))
    c = LokiClient(http)
    assert (await c.query_metric("x", 1)).warnings
    assert await c.labels(0, 1) and await c.label_values("foo", 0, 1) and await c.series("{x}", 0, 1)


def test_garbage_streams_are_typed_errors() -> None:
    for bad in ({"x": 1}, [1], [{"stream": {}, "values": [["notanint", "l"]]}], [{"values": [["1"]]}]):
        with pytest.raises(BadResponse, match="unexpected streams"):
            decode_streams(json.dumps(_answer(bad)).encode())
    with pytest.raises(BadResponse, match="HTML"):
        decode_streams(b"<html><body>sign in</body></html>")
    with pytest.raises(BadResponse, match="invalid JSON"):
        decode_streams(b'{"status":"success","data":')
    with pytest.raises(BadResponse, match="did not answer streams"):
        decode_streams(b'{"status":"success","data":{"resultType":"matrix","result":[]}}')
    with pytest.raises(BadQuery, match="parse error"):
        decode_streams(b'{"status":"error","errorType":"bad_data","error":"parse error at line 1"}')


async def test_paging_past_the_limit_with_shared_timestamps(backend: Backend, http: httpx.AsyncClient) -> None:
    """12 entries, limit 5 per page, three of them at one timestamp across a page edge: each once."""
    stamps = [1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10]
    entries = [(str(t * 10**9), f"line {i}") for i, t in enumerate(stamps)]

    class Paging(Backend):
        def answer(self, req):  # type: ignore[no-untyped-def]
            p = dict(req.params)
            lo, hi, lim = int(p["start"]), int(p["end"]), int(p["limit"])
            sel = [e for e in entries if lo <= int(e[0]) < hi][:lim]
            body = {
                "status": "success",
                "data": {"resultType": "streams", "result": [{"stream": {"a": "b"}, "values": [list(e) for e in sel]}]},
            }
            return Answer(200, body)

    from tests.servers import serve

    with serve(Paging()) as srv:
        async with httpx.AsyncClient(base_url=srv.url) as h:
            c = LokiClient(h)
            import plugintop.clients.loki as mod

            old = mod.MAX_ENTRIES
            mod.MAX_ENTRIES = 5
            try:
                page = await c.query_logs_all('{a="b"}', 0, 100 * S, max_entries=100)
            finally:
                mod.MAX_ENTRIES = old
    assert [e.line for e in page.entries] == [f"line {i}" for i in range(12)]
    assert not page.limit_reached


def _seen(entries: list[Any]) -> list[tuple[Any, ...]]:
    return [(e.ts_ns, e.line, e.labels, e.metadata, e.parsed) for e in entries]


def _reference(result: Any) -> list[tuple[Any, ...]] | None:
    """What a `streams` result holds, read the slow and obvious way from the JSON tree (the test's
    oracle for the client's one decoder); None where it is not a well-formed streams result."""
    if not isinstance(result, list):
        return None
    out = []
    for stream in result:
        if not isinstance(stream, dict) or not isinstance(stream.get("values", []), list):
            return None
        labels = stream.get("stream", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            return None
        for value in stream.get("values", []):
            if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[1], str):
                return None
            ts = value[0]
            if isinstance(ts, str) and re.fullmatch(r"-?[0-9]+", ts):  # Loki's form: nanoseconds as a string
                ts = int(ts)
            if not isinstance(ts, int) or isinstance(ts, bool):
                return None
            extra = value[2] if len(value) == 3 and isinstance(value[2], dict) else {}  # else: no metadata
            if "structuredMetadata" in extra or "parsed" in extra:
                meta, parsed = extra.get("structuredMetadata", {}), extra.get("parsed", {})
            else:
                meta, parsed = extra, {}
            out.append((ts, value[1], labels, meta, parsed))
    return out


STREAM_BODIES = [
    *(("real", n) for n in ("loki_query_range_backward", "loki_query_range_backward_categorized")),
    *(("real", n) for n in ("loki_query_range_forward", "loki_query_range_json_level_error_categorized")),
    *(("doc", n) for n in ("loki_query_range_streams", "loki_query_range_streams_categorized")),
    ("doc", "loki_query_range_streams_sm_merged"),
]


@pytest.mark.parametrize(("kind", "name"), STREAM_BODIES)
def test_the_decoder_reads_every_recorded_answer(kind: str, name: str) -> None:
    """The one decoder reads every recorded and documented answer as the JSON says."""
    body = real(name)["body"] if kind == "real" else doc(name)
    entries, _ = decode_streams(json.dumps(body).encode())
    assert entries and _seen(entries) == _reference(body["data"]["result"])


_text = st.text(max_size=20)
_meta = st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2)
_extra = st.one_of(
    st.fixed_dictionaries({"structuredMetadata": _meta, "parsed": _meta}),
    st.fixed_dictionaries({"structuredMetadata": _meta}),
    _meta,  # the old flat form
)
_value = st.one_of(
    st.tuples(st.integers(0, 2**62).map(str), _text).map(list),
    st.tuples(st.integers(0, 2**62).map(str), _text, _extra).map(list),
)
_streams = st.lists(
    st.fixed_dictionaries({"stream": _meta, "values": st.lists(_value, max_size=5)}), min_size=1, max_size=3
)


def _answer(result: Any) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "streams", "result": result}}


@settings(max_examples=200, deadline=None)
@given(_streams)
def test_the_decoder_reads_any_well_formed_answer(result: list[Any]) -> None:
    """Any well-formed answer (2- and 3-element values, categorized or flat metadata, several streams)
    is read entry for entry."""
    entries, _ = decode_streams(json.dumps(_answer(result)).encode())
    assert _seen(entries) == _reference(result)


_odd = st.one_of(st.text(max_size=8), st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(
    result=st.lists(
        st.fixed_dictionaries(
            {
                "stream": st.dictionaries(st.text(max_size=5), _odd, max_size=3),
                "values": st.lists(st.one_of(_value, st.lists(_odd, max_size=4)), max_size=4),
            }
        ),
        max_size=2,
    )
)
def test_the_decoder_reads_or_names_odd_answers(result: list[Any]) -> None:
    """On odd answers (numbers for labels, short or mistyped values) the decoder reads exactly what
    the JSON says wherever that is well formed, and otherwise raises `BadResponse`, nothing else."""
    expected = _reference(result)
    try:
        entries, _ = decode_streams(json.dumps(_answer(result)).encode())
    except BadResponse:
        assert expected is None
        return
    if expected is not None:
        assert _seen(entries) == expected


def test_invalid_utf8_is_read_with_replacement_characters() -> None:
    body = b'{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["1","a\xffb"]]}]}}'
    entries, _ = decode_streams(body)
    assert [e.line for e in entries] == ["a\ufffdb"]


def _page(stamps_lines: list[tuple[int, str]], full: bool) -> LogPage:
    return LogPage([LogEntry.of(ts, line, {"a": "b"}) for ts, line in stamps_lines], full)


@pytest.mark.parametrize("forward", [True, False])
def test_cursor_takes_each_entry_once_when_a_shared_timestamp_comes_back_in_another_order(forward: bool) -> None:
    """Entries sharing a timestamp come back on the next page, and not necessarily in the same order or
    all of them: the cursor remembers every one it took at that timestamp, not only the last page's."""
    t1, t2, t3 = (1, 2, 3) if forward else (3, 2, 1)
    cursor = Cursor(0 if forward else 9, forward)
    took = cursor.take(_page([(t1, "a"), (t2, "b"), (t2, "c")], full=True))
    took += cursor.take(_page([(t2, "d"), (t2, "e"), (t2, "b")], full=True))  # c left out, b again
    took += cursor.take(_page([(t2, "c"), (t2, "e"), (t3, "f")], full=True))  # c again: taken on page 1
    assert [e.line for e in took] == ["a", "b", "c", "d", "e", "f"]
    assert cursor.ns == t3 and not cursor.stepped


def test_cursor_steps_past_a_timestamp_fuller_than_a_page() -> None:
    cursor = Cursor(0)
    assert [e.line for e in cursor.take(_page([(5, "a"), (5, "b")], full=True))] == ["a", "b"]
    assert cursor.take(_page([(5, "b"), (5, "a")], full=True)) == [] and cursor.stepped and cursor.ns == 6
    assert [e.line for e in cursor.take(_page([(6, "c")], full=False))] == ["c"] and not cursor.stepped


async def test_paging_backward_with_shared_timestamps() -> None:
    stamps = [1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10]
    entries = [(t * 10**9, f"line {i}") for i, t in enumerate(stamps)]

    class Backward(Backend):
        def answer(self, req):  # type: ignore[no-untyped-def]
            p = dict(req.params)
            lo, hi, lim = int(p["start"]), int(p["end"]), int(p["limit"])
            assert p["direction"] == "backward"
            sel = sorted((e for e in entries if lo <= e[0] < hi), reverse=True)[:lim]
            values = [[str(t), line] for t, line in sel]
            return Answer(
                200,
                {
                    "status": "success",
                    "data": {"resultType": "streams", "result": [{"stream": {"a": "b"}, "values": values}]},
                },
            )

    from tests.servers import serve

    with serve(Backward()) as srv:
        async with httpx.AsyncClient(base_url=srv.url) as h:
            import plugintop.clients.loki as mod

            old, mod.MAX_ENTRIES = mod.MAX_ENTRIES, 4
            try:
                page = await LokiClient(h).query_logs_all('{a="b"}', 0, 100 * S, max_entries=100, direction="backward")
            finally:
                mod.MAX_ENTRIES = old
    assert [e.line for e in page.entries] == [line for _, line in sorted(entries, reverse=True)]


async def test_patterns_documented(backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/loki/api/v1/patterns", Answer(200, doc("loki_patterns")))
    got = await LokiClient(http).patterns('{plugin="p"}', 1711839250, 1711839290, 10)
    assert len(got) == 2 and got[0].pattern.startswith("<_> caller=grpc_logging.go:66")
    assert got[0].count(1711839260, 1711839280) == 3 and got[1].count(0, 2e9) == 523 and got[0].level == ""
    sent = dict(backend.requests[-1].params)
    assert sent["query"] == '{plugin="p"}' and sent["step"] == "10s" and sent["start"] == "1711839250000000000"


async def test_patterns_without_the_pattern_ingester_is_a_typed_error(
    backend: Backend, http: httpx.AsyncClient
) -> None:
    from plugintop.errors import NotFound

    backend.route("GET", "/loki/api/v1/patterns", Answer(404, "404 page not found\n"))
    with pytest.raises(NotFound):
        await LokiClient(http).patterns('{plugin="p"}', 0, 1)
