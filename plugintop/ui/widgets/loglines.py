"""Provides how a tail line is shown, apart from any widget: the filter as you type, gap markers, a JSON
line as its template's fields (parsed and sanitised only when first shown), a line found after the settle
window marked `(late by 12.4 s)` after its time, the whole line for its detail, and when a flood of lines
is repainted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import contains, not_
from typing import Any, NamedTuple

from plugintop.analysis import wording
from plugintop.live.follow import LateEntry, late_by
from plugintop.models.loki import Gap, LogEntry
from plugintop.textsafe import inert
from plugintop.timerange import to_rfc3339
from plugintop.ui.format import hhmmss

LEVEL_CLASS = {
    "error": "logview--error",
    "fatal": "logview--error",
    "critical": "logview--error",
    "warn": "logview--warn",
    "warning": "logview--warn",
    "debug": "logview--debug",
}
"""The component class (styled in CSS) of a line's level."""
DEFAULT_TEMPLATE = ("time", "level", "event", "tool", "msg")
VIEW_LIMIT = 400
"""Characters of a line shown in the view (the whole line is in the detail)."""
PARSE_LIMIT = 1_000_000
"""Longer lines are not parsed as JSON for the view (the detail still shows them whole)."""
REPAINT_S = 1 / 20
"""Under a flood of new lines, a repaint every `REPAINT_S` (keys repaint at once)."""
QUIET_S = 1 / 100
"""No new lines for this long ends a flood: its last lines are shown then, not at the next
`REPAINT_S` (but never sooner than `MIN_GAP_S` after the last repaint)."""
MIN_GAP_S = 1 / 30


def repaint_due(painted_at: float, added_at: float) -> float:
    """When lines added at `added_at` are shown, after a repaint at `painted_at` (in a flood, every
    `REPAINT_S`; once it stops, `QUIET_S` after its last lines): at most one repaint every
    `MIN_GAP_S` however the lines come."""
    return min(painted_at + REPAINT_S, max(added_at + QUIET_S, painted_at + MIN_GAP_S))


_REGEX = re.compile(r"[.^$*+?{}\[\]\\|()]")


class LineFilter:
    """Filter as you type: `text` is a case-insensitive regex, or a literal when it has no regex
    syntax or is not a valid regex (`(unclosed` finds itself); `invert` keeps the other lines. The raw
    line is searched, like grep."""

    def __init__(self, text: str, invert: bool = False) -> None:
        self.text = text
        self.invert = invert
        self.needle: str | None = None
        """A literal, lower-cased: searched as a substring, no regex engine."""
        pattern = None
        if _REGEX.search(text):
            try:
                pattern = re.compile(text, re.IGNORECASE)
            except re.error:
                pass
        if pattern is None:
            self.needle = text.lower()
            pattern = re.compile(re.escape(text), re.IGNORECASE)
        self.pattern: re.Pattern[str] = pattern

    def matching(self, base: int, lines: Iterable[str], n: int) -> list[int]:
        """The numbers (`base` + index) of the `n` lines kept; one pass of C-level iterators, no
        Python code a line."""
        if self.needle is not None:
            if self.needle.upper() != self.needle:  # a needle without cased letters needs no lower-casing
                lines = map(str.lower, lines)
            hits: Iterable[object] = map(contains, lines, repeat(self.needle))
        else:
            hits = map(self.pattern.search, lines)
        if self.invert:
            hits = map(not_, hits)
        return list(compress(range(base, base + n), hits))


class GapMark:
    """A gap marker in the tail: lines may be missing (or were late) between two times."""

    __slots__ = ("ts_ns", "line")

    def __init__(self, gap: Gap, utc: bool = True) -> None:
        self.ts_ns = int(gap.start * 1e9)
        self.line = f"── {inert(wording.gap(gap, lambda t: hhmmss(t, utc)), 200)} ──"


Item = LogEntry | GapMark


class Line(NamedTuple):
    """A row as shown: sanitised text, level, trace id, and the raw (untrusted) line."""

    text: str
    level: str
    trace_id: str | None
    raw: str
    gap: bool = False


def json_object(raw: str, limit: int = PARSE_LIMIT) -> dict[str, Any] | None:
    """The line as a JSON object, or None."""
    if raw[:1] != "{" or len(raw) > limit:
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _value(fields: dict[str, Any], name: str) -> Any:
    if name in fields or "." not in name:
        return fields.get(name)
    value: Any = fields
    for part in name.split("."):  # `error.type` reaches into nested objects
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


_MESSAGE = ("msg", "message")


def format_line(
    item: Item,
    template: Sequence[str] = DEFAULT_TEMPLATE,
    trace_field: str = "trace_id",
    level_field: str = "level",
    parse_limit: int = PARSE_LIMIT,
    utc: bool = True,
) -> Line:
    """How a tail item is shown: a JSON line (up to `parse_limit` characters) as its template's fields
    (`time` is the entry's time; `msg` and `message` stand for each other), any other line as it is; a
    late one marked after its time (first, without `time`); always sanitised and cut to `VIEW_LIMIT`
    characters. `utc`: the clock in UTC, else local time (the header's)."""
    if isinstance(item, GapMark):
        return Line(item.line, "warn", None, "", True)
    fields = json_object(item.line, parse_limit)
    meta, parsed = item.extra_fields()
    f = fields or {}
    level = str(f.get(level_field) or meta.get("detected_level") or parsed.get(level_field) or "").lower()
    trace = f.get(trace_field) or meta.get(trace_field) or parsed.get(trace_field)
    parts = []
    late = f"({late_by(item.late_ns)})" if isinstance(item, LateEntry) else None
    if late is not None and "time" not in template:
        parts.append(late)
    for name in template:
        if name == "time":
            clock = _clock_text(item.ts_ns / 1e9, utc)
            parts.append(clock if late is None else f"{clock} {late}")
        elif fields is not None:
            value = _value(fields, name)
            if value is None and name in _MESSAGE:
                value = fields.get(_MESSAGE[name == "msg"])
            if value not in (None, ""):
                parts.append(_show(value))
    if fields is None:
        parts.append(item.line[: VIEW_LIMIT * 4])
    elif trace:
        parts.append(f"trace {str(trace)[:8]}…")
    if template and template[0] == "time":  # the clock is narrow: one space after it
        text = parts[0] + " " + "  ".join(parts[1:])
    else:
        text = "  ".join(parts)
    return Line(inert(text, VIEW_LIMIT), level, str(trace) if trace else None, item.line)


def detail_lines(item: Item) -> list[str]:
    """The whole item for the detail view: time, labels, metadata, then the line (a JSON object pretty
    printed), every line sanitised and none cut."""
    if isinstance(item, GapMark):
        return [item.line]
    meta, parsed = item.extra_fields()
    out = [f"time      {to_rfc3339(item.ts_ns / 1e9)}  ({item.ts_ns} ns)"]
    if isinstance(item, LateEntry):
        out.append(f"late      {late_by(item.late_ns)}: it reached Loki after the tail's settle window (tail.settle)")
    for title, values in (("labels", item.labels), ("metadata", meta), ("parsed", parsed)):
        if values:
            out.append(f"{title:<9} " + "  ".join(f"{k}={v}" for k, v in sorted(values.items())))
    out.append("")
    obj = json_object(item.line, limit=len(item.line))
    body = json.dumps(obj, indent=2, ensure_ascii=False) if obj is not None else item.line
    out.extend(body.split("\n") if obj is not None else [body])
    return [inert(x) for x in out]


_SECOND: dict[tuple[int, bool], str] = {}


def _clock_text(ts: float, utc: bool) -> str:
    key = (int(ts), utc)
    text = _SECOND.get(key)
    if text is None:
        if len(_SECOND) > 4096:
            _SECOND.clear()
        text = _SECOND[key] = hhmmss(key[0], utc)
    return text


def fields_of(item: Item, limit: int = 60) -> list[tuple[str, str]]:
    """The JSON fields of a line a filter can be made of: (name, value) pairs, nested objects as
    `a.b`, scalar values only (as Loki's `| json` sees them), at most `limit`."""
    if isinstance(item, GapMark):
        return []
    obj = json_object(item.line)
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: object) -> None:
        if len(out) >= limit:
            return
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif not isinstance(value, list) and value is not None:
            out.append((prefix, _show(value) if not isinstance(value, bool) else str(value).lower()))

    walk("", obj or {})
    return out
