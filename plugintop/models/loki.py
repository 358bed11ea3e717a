"""Provides Loki log entries and stream results.

`LogEntry` is a `msgspec` struct decoded straight from Loki's `[ts, line, {metadata}]` arrays: the tail
ingests tens of thousands of entries a second, so an entry costs one C-level object, and its structured
metadata stays raw JSON until something asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

_NO_EXTRA = msgspec.Raw()

EntryKey = tuple[int, str, tuple[tuple[str, str], ...]]
"""An entry's identity for de-duplication: timestamp, line and stream labels."""


def str_map(value: Any) -> dict[str, str]:
    """A JSON object as a `str → str` map (anything else: empty)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}


class LogEntry(msgspec.Struct, array_like=True, gc=False):
    """One log line with its stream labels, structured metadata and parsed fields.

    `line` is the raw text as Loki sent it: untrusted, never shown without sanitising. `extra` is
    the value's third element as raw JSON (categorized `{structuredMetadata, parsed}` or the old flat
    map), decoded each time `metadata` / `parsed` are asked for (not kept: the tail asks only for the
    lines on screen, which it caches formatted). An `extra` is a view into its page's
    bytes: a page stays in memory while any of its entries does (the tail's bounded buffer frees
    pages as it drops their entries; the 10-minute soak in `bench/tail.py` stays flat).
    """

    ts_ns: int
    line: str
    extra: msgspec.Raw = _NO_EXTRA
    stream: dict[str, str] | None = None
    """The stream's labels, shared by its entries (set by the client; None: none)."""

    @classmethod
    def of(
        cls,
        ts_ns: int,
        line: str,
        labels: dict[str, str] | None = None,
        metadata: dict[str, str] | None = None,
        parsed: dict[str, str] | None = None,
    ) -> LogEntry:
        """An entry from decoded parts."""
        extra = _NO_EXTRA
        if metadata or parsed:
            extra = msgspec.Raw(msgspec.json.encode({"structuredMetadata": metadata or {}, "parsed": parsed or {}}))
        return cls(ts_ns, line, extra, labels or {})

    @property
    def labels(self) -> dict[str, str]:
        """Stream labels."""
        return self.stream if self.stream is not None else {}

    def extra_fields(self) -> tuple[dict[str, str], dict[str, str]]:
        """Structured metadata and parsed fields, decoded from `extra`."""
        if not self.extra:
            return {}, {}
        try:
            value = msgspec.json.decode(self.extra)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return {}, {}
        if isinstance(value, dict) and ("structuredMetadata" in value or "parsed" in value):
            return str_map(value.get("structuredMetadata")), str_map(value.get("parsed"))
        return str_map(value), {}  # the old flat form

    @property
    def metadata(self) -> dict[str, str]:
        """Structured metadata."""
        return self.extra_fields()[0]

    @property
    def parsed(self) -> dict[str, str]:
        """Fields Loki's parsers extracted (categorized responses only)."""
        return self.extra_fields()[1]

    @property
    def key(self) -> EntryKey:
        """Identity for de-duplication: timestamp, line and stream."""
        return (self.ts_ns, self.line, tuple(sorted(self.labels.items())))

    def field(self, name: str) -> str | None:
        """A value from structured metadata, parsed fields or stream labels."""
        meta, parsed = self.extra_fields()
        return meta.get(name) or parsed.get(name) or self.labels.get(name)


class LogPage(msgspec.Struct, frozen=True):
    """Entries of one `query_range` call (ordered as asked) and whether the limit cut it."""

    entries: list[LogEntry]
    limit_reached: bool
    warnings: list[str] = msgspec.field(default_factory=list)


class LogPattern(msgspec.Struct, frozen=True):
    """One pattern of Loki's pattern ingester: the message with variable tokens as `<_>`, and its
    counts per step. `level` is given by newer Lokis only ("" when absent)."""

    pattern: str
    samples: list[tuple[float, int]] = msgspec.field(default_factory=list)
    level: str = ""

    def count(self, start: float, end: float) -> int:
        """Lines of this pattern with start <= t < end."""
        return sum(n for t, n in self.samples if start <= t < end)


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch where entries may be missing or late: the backend failed from `start` to `end`."""

    start: float
    end: float
    reason: str
    recovered: bool = False
    """True once the follower caught up across it (nothing lost, only late)."""
