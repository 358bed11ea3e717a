"""TempoClient against every recorded Tempo response, over a real socket."""

from __future__ import annotations

import httpx
import pytest

from plugintop.clients.tempo import TempoClient, id_to_hex, parse_search, parse_trace, parse_trace_id
from plugintop.errors import BadQuery, BadResponse, NotFound
from plugintop.ids import TraceId
from tests.fixtures import doc, params, real, replay
from tests.servers import Answer, Backend

TID = TraceId("855ca7a9b92d277a7b3e535f8b4e12bf")
ONE = TraceId("0" * 31 + "1")


async def test_trace_v2_real(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("tempo_trace_v2"))
    trace = await TempoClient(http).trace(TID)
    assert trace.trace_id == TID and len(trace.spans) == 7
    root = next(s for s in trace.spans if s.parent_id is None)
    assert root.name == "plugin.recommender.tool.recommend_courses" and root.service == "recommender"
    assert root.attributes["llm.tokens.prompt"] == 906 and root.attributes["tenant.id"] == "initech"
    assert len(root.span_id) == 16 and all(s.trace_id == TID for s in trace.spans)
    assert all(s.parent_id == root.span_id for s in trace.spans if s is not root)


async def test_trace_v2_with_range_real(backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real("tempo_trace_v2_with_range")
    replay(backend, rec)
    p = params(rec)
    trace = await TempoClient(http).trace(TID, int(p["start"]), int(p["end"]) - 1)
    assert len(trace.spans) == 7
    assert dict(backend.requests[-1].params) == p


async def test_trace_missing_v2_is_not_found(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("tempo_trace_not_found"))
    with pytest.raises(NotFound):
        await TempoClient(http).trace(ONE)


async def test_trace_falls_back_to_v1(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("tempo_trace_v1"))  # no v2 route: 404 → v1
    trace = await TempoClient(http).trace(TID)
    assert len(trace.spans) == 7
    assert [r.path for r in backend.requests] == [f"/api/v2/traces/{TID}", f"/api/traces/{TID}"]


async def test_trace_v1_not_found(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("tempo_trace_v1_not_found"))
    with pytest.raises(NotFound):
        await TempoClient(http).trace(ONE)


@pytest.mark.parametrize(
    "name",
    [
        "tempo_search_traceql",
        "tempo_search_traceql_last3h",
        "tempo_search_traceql_recent",
        "tempo_search_traceql_recent_select",
        "tempo_search_traceql_select",
    ],
)
async def test_search_real(name: str, backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real(name)
    replay(backend, rec)
    p = params(rec)
    res = await TempoClient(http).search(
        p["q"], int(p["start"]), int(p["end"]), limit=int(p["limit"]), spss=int(p["spss"])
    )
    assert len(res.traces) == len(rec["body"]["traces"])
    for t in res.traces:
        assert len(t.trace_id) == 32 and t.spans and t.spans[0].duration_ns > 0
    assert dict(backend.requests[-1].params) == p


async def test_select_attributes_are_typed(backend: Backend, http: httpx.AsyncClient) -> None:
    rec = real("tempo_search_traceql_recent_select")
    replay(backend, rec)
    p = params(rec)
    res = await TempoClient(http).search(p["q"], int(p["start"]), int(p["end"]))
    attrs = res.traces[0].spans[0].attributes
    assert attrs["llm.model"] == "gpt-4o-mini" and isinstance(attrs["llm.cost_usd"], float)


@pytest.mark.parametrize(
    ("name", "pattern"), [("tempo_search_error_ns_start", "start"), ("tempo_search_error_syntax", "parse error")]
)
async def test_search_errors_real(name: str, pattern: str, backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real(name))
    with pytest.raises(BadQuery, match=pattern):
        await TempoClient(http).search("{}", 1, 2)


async def test_tag_values_and_buildinfo_real(backend: Backend, http: httpx.AsyncClient) -> None:
    replay(backend, real("tempo_search_tag_values_v2_tenant"))
    replay(backend, real("tempo_buildinfo"))
    c = TempoClient(http)
    assert "initech" in await c.tag_values("span.tenant.id", 1795690185, 1795700985)
    assert (await c.buildinfo()).version == "v3.0.3"


def test_documented_shapes() -> None:
    assert parse_search(doc("tempo_search")).traces
    assert parse_search(doc("tempo_search_tags_based")).traces
    for name in ("tempo_trace_v1", "tempo_trace_v2"):
        trace = parse_trace(doc(name), TID)
        assert trace.spans and all(len(s.span_id) == 16 for s in trace.spans)


def test_ids_and_garbage() -> None:
    assert parse_trace_id("ABC") == "0" * 29 + "abc" and parse_trace_id("0" * 33) is None
    assert id_to_hex("nSC+G19Ubzs=", 8) == "9d20be1b5f546f3b"
    assert id_to_hex("9d20be1b5f546f3b", 8) == "9d20be1b5f546f3b"
    bad: object
    for bad in ([], {"traces": "x"}, {"traces": [{"no": 1}]}):
        with pytest.raises(BadResponse):
            parse_search(bad)
    with pytest.raises(BadResponse):
        parse_trace({"trace": {"resourceSpans": "x"}}, TID)
    with pytest.raises(NotFound):
        parse_trace({"trace": {}, "metrics": {}}, TID)


async def test_partial_trace_is_flagged(backend: Backend, http: httpx.AsyncClient) -> None:
    body = dict(real("tempo_trace_v2")["body"], status="PARTIAL", message="trace exceeds max size")
    backend.route("GET", f"/api/v2/traces/{TID}", Answer(200, body))
    trace = await TempoClient(http).trace(TID)
    assert trace.partial and "max size" in trace.message


async def test_buildinfo_bare_or_enveloped(backend: Backend, http: httpx.AsyncClient) -> None:
    body = {"status": "success", "data": {"version": "v9"}}
    backend.route("GET", "/api/status/buildinfo", Answer(200, body))
    assert (await TempoClient(http).buildinfo()).version == "v9"


HOSTILE_IDS = [
    "../../../../api/admin/users?perpage=1000#",
    "\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\u202e4bf92f35\x9b31mPWNED",
    "4bf92f35\x0077b34da6",
    "4bf92f35 77b34da6",
    "%2e%2e%2f",
    "0" * 32,
    "",
]


async def test_trace_takes_only_a_trace_id(backend: Backend, http: httpx.AsyncClient) -> None:
    """A string that was never checked cannot reach the URL: the client refuses it before any request."""
    for bad in [*HOSTILE_IDS, str(TID)]:
        with pytest.raises(TypeError):
            await TempoClient(http).trace(bad)  # type: ignore[arg-type]
    assert backend.requests == []


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_search_hits_with_a_malformed_trace_id_are_dropped_and_counted(bad: str) -> None:
    body = {
        "traces": [
            {"traceID": bad, "rootServiceName": "x", "durationMs": 9},
            {"traceID": "ABC", "spanSet": {"spans": [{"spanID": "\x1b[2J", "name": "n", "durationNanos": "5"}]}},
        ]
    }
    res = parse_search(body)
    assert [t.trace_id for t in res.traces] == ["0" * 29 + "abc"] and res.invalid_ids == 1
    assert all(isinstance(t.trace_id, TraceId) for t in res.traces)
    assert res.traces[0].spans[0].span_id == ""


def test_malformed_span_ids_in_a_trace_never_pass_as_ids() -> None:
    spans = [
        {"traceId": "\x1b[2J", "spanId": "AAAAAAAAAAE=", "name": "root"},
        {"spanId": "../../x", "parentSpanId": "AAAAAAAAAAE=", "name": "bad id"},
        {"spanId": "AAAAAAAAAAI=", "parentSpanId": "\u202e", "name": "bad parent"},
    ]
    trace = parse_trace({"batches": [{"scopeSpans": [{"spans": spans}]}]}, TID)
    assert [s.span_id for s in trace.spans] == ["0000000000000001", "?1", "0000000000000002"]
    assert [s.parent_id for s in trace.spans] == [None, "0000000000000001", None]
    assert all(s.trace_id == TID for s in trace.spans)
