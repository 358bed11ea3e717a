"""Provides Tempo search results and traces, normalised from Tempo's jsonpb (base64 ids, string
int64s, enum names) into hex ids, integer nanoseconds and plain attribute values. Built by the client
from the decoded JSON (Tempo's shapes need normalising, not validating), as `msgspec` structs: cheap
to define at start-up and to make by the ten thousand."""

from __future__ import annotations

import msgspec

AttrValue = str | int | float | bool | list["AttrValue"] | dict[str, "AttrValue"] | None


class Span(msgspec.Struct, frozen=True, gc=False):
    """One span of a trace. Names and attribute values are untrusted text."""

    trace_id: str
    span_id: str
    parent_id: str | None
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

    trace_id: str
    spans: list[Span]
    partial: bool = False
    message: str = ""


class SearchSpan(msgspec.Struct, frozen=True, gc=False):
    span_id: str
    name: str
    start_ns: int
    duration_ns: int
    attributes: dict[str, AttrValue] = msgspec.field(default_factory=dict)


class TraceSummary(msgspec.Struct, frozen=True):
    """One trace found by a search, with the spans that matched."""

    trace_id: str
    root_service: str
    root_name: str
    start_ns: int
    duration_ms: int
    spans: list[SearchSpan] = msgspec.field(default_factory=list)


class SearchResult(msgspec.Struct, frozen=True):
    traces: list[TraceSummary]
    inspected_traces: int = 0
    partial: bool = False
