"""Provides Loki log entries and stream results."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line with its stream labels, structured metadata and parsed fields.

    `line` is the raw text as Loki sent it: untrusted, never shown without sanitising.
    """

    ts_ns: int
    line: str
    labels: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    parsed: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        """Identity for de-duplication: timestamp, line and stream."""
        return (self.ts_ns, self.line, tuple(sorted(self.labels.items())))

    def field(self, name: str) -> str | None:
        """A value from structured metadata, parsed fields or stream labels."""
        return self.metadata.get(name) or self.parsed.get(name) or self.labels.get(name)


@dataclass(frozen=True, slots=True)
class LogPage:
    """Entries of one `query_range` call (ordered as asked) and whether the limit cut it."""

    entries: list[LogEntry]
    limit_reached: bool
    warnings: list[str] = field(default_factory=list)
