"""Provides Tempo search results and traces, normalised from Tempo's jsonpb (base64 ids, string
int64s, enum names) into hex ids, integer nanoseconds and plain attribute values. Built by the client
from the decoded JSON (Tempo's shapes need normalising, not validating), as `msgspec` structs: cheap
to define at start-up and to make by the ten thousand."""

from __future__ import annotations

import re

import msgspec

from plugintop.ids import SpanId, TraceId

_TRIMMED = re.compile(r"[0-9a-fA-F]{1,32}")


def parse_trace_id(value: object) -> TraceId | None:
    """A trace id as Tempo writes it in search results and Grafana shows it (leading zeros trimmed: up to
    32 hex digits, left-padded), or as a ticket quotes it; None when `value` is not one."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    return TraceId.parse(v.rjust(32, "0") if _TRIMMED.fullmatch(v) else v)


AttrValue = str | int | float | bool | list["AttrValue"] | dict[str, "AttrValue"] | None


class Span(msgspec.Struct, frozen=True, gc=False):
    """One span of a trace. Names and attribute values are untrusted text; the ids are checked."""

    trace_id: TraceId
    span_id: str
    """The span's `SpanId`, or `?N` (its place in the answer) when Tempo's was not one: such a span is
    nobody's parent, and the placeholder goes nowhere but the tree."""
    parent_id: SpanId | None
    name: str
    service: str
    start_ns: int
    end_ns: int
    kind: str = "unspecified"
    status: str = "unset"
    """`ok`, `error` or `unset`."""
    status_message: str = ""
    attributes: dict[str, AttrValue] = msgspec.field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)


class Trace(msgspec.Struct, frozen=True):
    """A whole trace; `partial` when Tempo cut it (too large) or filtered it."""

    trace_id: TraceId
    spans: list[Span]
    partial: bool = False
    message: str = ""


class SearchSpan(msgspec.Struct, frozen=True, gc=False):
    span_id: str
    """A `SpanId`, or "" when Tempo's was not one."""
    name: str
    start_ns: int
    duration_ns: int
    attributes: dict[str, AttrValue] = msgspec.field(default_factory=dict)


class TraceSummary(msgspec.Struct, frozen=True):
    """One trace found by a search, with the spans that matched."""

    trace_id: TraceId
    root_service: str
    root_name: str
    start_ns: int
    duration_ms: int
    spans: list[SearchSpan] = msgspec.field(default_factory=list)


class SearchResult(msgspec.Struct, frozen=True):
    traces: list[TraceSummary]
    inspected_traces: int = 0
    partial: bool = False
    invalid_ids: int = 0
    """Hits dropped because their trace id was not one (never sent anywhere)."""
