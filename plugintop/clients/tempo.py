"""Provides `TempoClient`: TraceQL search, trace by id (v2, falling back to v1), tag values,
buildinfo. Ids leave it only as `TraceId` / `SpanId`: a search hit whose trace id is not one is dropped
and counted; a trace is asked for by a `TraceId` alone, and every path segment is percent-quoted."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

import httpx

from plugintop.clients._http import decode_json, send, validate
from plugintop.errors import BadResponse, NotFound
from plugintop.ids import SpanId, TraceId
from plugintop.models.common import BuildInfo, buildinfo_body
from plugintop.models.tempo import (
    AttrValue,
    SearchResult,
    SearchSpan,
    Span,
    Trace,
    TraceSummary,
    parse_trace_id,
)

__all__ = ["TempoClient", "parse_search", "parse_trace", "parse_trace_id"]

MAX_SEARCH_RANGE_S = 168 * 3600
"""Tempo's default search `max_duration`."""
MAX_SPSS = 100

_KINDS = {
    "SPAN_KIND_SERVER": "server",
    "SPAN_KIND_CLIENT": "client",
    "SPAN_KIND_INTERNAL": "internal",
    "SPAN_KIND_PRODUCER": "producer",
    "SPAN_KIND_CONSUMER": "consumer",
}
_STATUS = {"STATUS_CODE_OK": "ok", "STATUS_CODE_ERROR": "error", "STATUS_CODE_UNSET": "unset"}


def id_to_hex(value: Any, size: int) -> str:
    """A jsonpb id (base64) or an already-hex id of `size` bytes as lowercase hex; "" when it is neither."""
    if not isinstance(value, str) or not value:
        return ""
    if len(value) == size * 2 and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return ""
    return raw.hex() if len(raw) == size else ""


def any_value(value: Any) -> AttrValue:
    """An OTLP `AnyValue` as a plain Python value."""
    if not isinstance(value, dict) or not value:
        return None
    if "stringValue" in value:
        return str(value["stringValue"])
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return str(value["intValue"])
    if "doubleValue" in value:
        try:
            return float(value["doubleValue"])
        except (TypeError, ValueError):
            return str(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in _list(_obj(value["arrayValue"]).get("values"))]
    if "kvlistValue" in value:
        return attributes(_obj(value["kvlistValue"]).get("values"))
    if "bytesValue" in value:
        return str(value["bytesValue"])
    return None


def attributes(items: Any) -> dict[str, AttrValue]:
    """An OTLP `KeyValue` list as a dict."""
    if not isinstance(items, list):
        return {}
    return {str(kv["key"]): any_value(kv.get("value")) for kv in items if isinstance(kv, dict) and "key" in kv}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def parse_trace(body: Any, trace_id: TraceId, backend: str = "tempo") -> Trace:
    """A trace from the v2 (`{"trace":{"resourceSpans":...}}`) or v1 (`{"batches":...}`) answer. A span
    id that is not one becomes `?N` (nobody's parent); a malformed parent id, none (the span a root).

    Raises:
        NotFound: the answer holds no spans (v2 answers 200 `{"trace":{}}` for a missing trace).
    """
    if not isinstance(body, dict):
        raise BadResponse(backend, "trace answer is not an object")
    partial = body.get("status") == "PARTIAL"
    message = str(body.get("message") or "")
    holder = body.get("trace") if "trace" in body else body
    if not isinstance(holder, dict):
        raise BadResponse(backend, "trace is not an object")
    batches = holder.get("resourceSpans") or holder.get("batches") or []
    if not isinstance(batches, list):
        raise BadResponse(backend, "resourceSpans is not a list")
    spans: list[Span] = []
    for batch in batches:
        if not isinstance(batch, dict):
            raise BadResponse(backend, "a resourceSpans entry is not an object")
        resource = attributes(_obj(batch.get("resource")).get("attributes"))
        service = str(resource.get("service.name") or "")
        scopes = batch.get("scopeSpans") or batch.get("instrumentationLibrarySpans")
        for scope in _list(scopes):
            for s in _list(_obj(scope).get("spans")):
                if not isinstance(s, dict):
                    raise BadResponse(backend, "a span is not an object")
                status = _obj(s.get("status"))
                span_id = SpanId.parse(id_to_hex(s.get("spanId"), 8)) or f"?{len(spans)}"
                spans.append(
                    Span(
                        trace_id=TraceId.parse(id_to_hex(s.get("traceId"), 16)) or trace_id,
                        span_id=span_id,
                        parent_id=SpanId.parse(id_to_hex(s.get("parentSpanId"), 8)),
                        name=str(s.get("name") or ""),
                        service=service,
                        start_ns=_int(s.get("startTimeUnixNano")),
                        end_ns=_int(s.get("endTimeUnixNano")),
                        kind=_KINDS.get(str(s.get("kind")), "unspecified"),
                        status=_STATUS.get(str(status.get("code")), "unset") if isinstance(status, dict) else "unset",
                        status_message=str(status.get("message") or "") if isinstance(status, dict) else "",
                        attributes=attributes(s.get("attributes")),
                    )
                )
    if not spans:
        raise NotFound(backend, f"trace {trace_id} not found")
    return Trace(trace_id=trace_id, spans=spans, partial=partial, message=message)


def parse_search(body: Any, backend: str = "tempo") -> SearchResult:
    """A TraceQL search answer; a hit whose trace id is not one is dropped and counted (`invalid_ids`)."""
    if not isinstance(body, dict) or not isinstance(body.get("traces", []), list):
        raise BadResponse(backend, "search answer has no traces list")
    traces = []
    invalid = 0
    for t in body.get("traces") or []:
        if not isinstance(t, dict) or "traceID" not in t:
            raise BadResponse(backend, "a search result has no traceID")
        trace_id = parse_trace_id(t["traceID"])
        if trace_id is None:
            invalid += 1
            continue
        sets = t.get("spanSets") or ([t["spanSet"]] if t.get("spanSet") else [])
        spans = [
            SearchSpan(
                span_id=SpanId.parse(s.get("spanID")) or "",
                name=str(s.get("name", "")),
                start_ns=_int(s.get("startTimeUnixNano")),
                duration_ns=_int(s.get("durationNanos")),
                attributes=attributes(s.get("attributes")),
            )
            for ss in _list(sets)
            if isinstance(ss, dict)
            for s in _list(ss.get("spans"))
            if isinstance(s, dict)
        ]
        traces.append(
            TraceSummary(
                trace_id=trace_id,
                root_service=str(t.get("rootServiceName", "")),
                root_name=str(t.get("rootTraceName", "")),
                start_ns=_int(t.get("startTimeUnixNano")),
                duration_ms=_int(t.get("durationMs")),
                spans=spans,
            )
        )
    metrics = _obj(body.get("metrics"))
    return SearchResult(traces, _int(metrics.get("inspectedTraces")), invalid_ids=invalid)


class TempoClient:
    """Client of the Tempo HTTP API."""

    def __init__(self, http: httpx.AsyncClient, backend: str = "tempo") -> None:
        self.http = http
        self.backend = backend

    async def buildinfo(self) -> BuildInfo:
        resp = await send(self.http, self.backend, "GET", "/api/status/buildinfo")
        return validate(BuildInfo, buildinfo_body(decode_json(resp, self.backend)), self.backend, "buildinfo")

    async def search(self, query: str, start: float, end: float, *, limit: int = 20, spss: int = 3) -> SearchResult:
        """TraceQL search; `start`/`end` go as whole seconds (Tempo parses uint32)."""
        s, e = int(start), int(end) if int(end) > int(start) else int(start) + 1
        params = {"q": query, "start": s, "end": e, "limit": max(1, limit), "spss": max(1, min(spss, MAX_SPSS))}
        resp = await send(self.http, self.backend, "GET", "/api/search", params=params)
        return parse_search(decode_json(resp, self.backend), self.backend)

    async def trace(self, trace_id: TraceId, start: float | None = None, end: float | None = None) -> Trace:
        """A trace by id through the v2 API, falling back to v1 where v2 does not exist.

        Raises:
            TypeError: `trace_id` is not a `TraceId` (an unchecked string never reaches a URL).
        """
        if not isinstance(trace_id, TraceId):
            raise TypeError(f"TempoClient.trace takes a TraceId, not {type(trace_id).__name__}")
        tid = quote(trace_id, safe="")
        params = {"start": int(start), "end": int(end) + 1} if start is not None and end is not None else None
        resp = await send(self.http, self.backend, "GET", f"/api/v2/traces/{tid}", params=params, ok_statuses=(404,))
        if resp.status_code == 404:
            resp = await send(self.http, self.backend, "GET", f"/api/traces/{tid}", params=params, ok_statuses=(404,))
            if resp.status_code == 404:
                raise NotFound(self.backend, f"trace {tid} not found")
        return parse_trace(decode_json(resp, self.backend), trace_id, self.backend)

    async def tag_values(self, tag: str, start: float, end: float, query: str | None = None) -> list[str]:
        """Values of a TraceQL identifier (`span.tenant.id`) through the v2 tag API."""
        params: dict[str, Any] = {"start": int(start), "end": int(end)}
        if query:
            params["q"] = query
        resp = await send(
            self.http, self.backend, "GET", f"/api/v2/search/tag/{quote(tag, safe='')}/values", params=params
        )
        body = decode_json(resp, self.backend)
        if not isinstance(body, dict):
            raise BadResponse(self.backend, "tag values answer is not an object")
        values = body.get("tagValues") or []
        return [str(v.get("value")) if isinstance(v, dict) else str(v) for v in values]
