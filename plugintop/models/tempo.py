"""Provides Tempo search results and traces, normalised from Tempo's jsonpb (base64 ids, string
int64s, enum names) into hex ids, integer nanoseconds and plain attribute values."""

from __future__ import annotations

from dataclasses import dataclass, field

AttrValue = str | int | float | bool | list["AttrValue"] | dict[str, "AttrValue"] | None


@dataclass(frozen=True, slots=True)
class Span:
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
    attributes: dict[str, AttrValue] = field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)


@dataclass(frozen=True, slots=True)
class Trace:
    """A whole trace; `partial` when Tempo cut it (too large) or filtered it."""

    trace_id: str
    spans: list[Span]
    partial: bool = False
    message: str = ""


@dataclass(frozen=True, slots=True)
class SearchSpan:
    span_id: str
    name: str
    start_ns: int
    duration_ns: int
    attributes: dict[str, AttrValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One trace found by a search, with the spans that matched."""

    trace_id: str
    root_service: str
    root_name: str
    start_ns: int
    duration_ms: int
    spans: list[SearchSpan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    traces: list[TraceSummary]
    inspected_traces: int = 0
    partial: bool = False
