"""Provides `LogView`: the live tail, virtualised (only visible lines are formatted and rendered),
newest at the bottom, following unless scrolled up, filter as you type, pause with a count of new
lines, a bounded buffer with the number dropped, gap markers, and `enter` on a line with a trace id.

Ingest is kept to what every line needs: the entry object decoded by the Loki client is appended to
a bounded deque, and with a filter on, its raw line is tested. JSON parsing into the template and
sanitising happen when a line is first shown (and are cached), so a burst of 100,000 lines costs no
more to show than the 50 on screen."""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import attrgetter, contains, not_
from time import monotonic
from typing import Any, NamedTuple

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from plugintop.follow import Gap
from plugintop.models.loki import LogEntry
from plugintop.textsafe import inert
from plugintop.timerange import to_rfc3339
from plugintop.ui.format import hhmmss

LEVEL_STYLE = {
    "error": "bold red",
    "fatal": "bold red",
    "critical": "bold red",
    "warn": "yellow",
    "warning": "yellow",
    "debug": "dim",
}
DEFAULT_TEMPLATE = ("time", "level", "event", "tool", "msg")
VIEW_LIMIT = 400
"""Characters of a line shown in the view (the whole line is in the detail)."""
PARSE_LIMIT = 1_000_000
"""Longer lines are not parsed as JSON for the view (the detail still shows them whole)."""
_CACHE = 4096
"""Formatted lines and rendered strips kept (a few screens' worth)."""
_CURSOR = Style(reverse=True)
_LINE = attrgetter("line")
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

    def __init__(self, gap: Gap) -> None:
        what = "recovered" if gap.recovered else "lines may be missing"
        self.ts_ns = int(gap.start * 1e9)
        self.line = f"── gap {hhmmss(gap.start)}–{hhmmss(gap.end)}: {inert(gap.reason, 120)} ({what}) ──"


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
) -> Line:
    """How a tail item is shown: a JSON line (up to `parse_limit` characters) as its template's fields
    (`time` is the entry's time; `msg` and `message` stand for each other), any other line as it is;
    always sanitised and cut to `VIEW_LIMIT` characters."""
    if isinstance(item, GapMark):
        return Line(item.line, "warn", None, "", True)
    fields = json_object(item.line, parse_limit)
    meta, parsed = item.extra_fields()
    f = fields or {}
    level = str(f.get(level_field) or meta.get("detected_level") or parsed.get(level_field) or "").lower()
    trace = f.get(trace_field) or meta.get(trace_field) or parsed.get(trace_field)
    parts = []
    for name in template:
        if name == "time":
            parts.append(_clock_text(item.ts_ns / 1e9))
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
    for title, values in (("labels", item.labels), ("metadata", meta), ("parsed", parsed)):
        if values:
            out.append(f"{title:<9} " + "  ".join(f"{k}={v}" for k, v in sorted(values.items())))
    out.append("")
    obj = json_object(item.line, limit=len(item.line))
    body = json.dumps(obj, indent=2, ensure_ascii=False) if obj is not None else item.line
    out.extend(body.split("\n") if obj is not None else [body])
    return [inert(x) for x in out]


_SECOND: dict[int, str] = {}


def _clock_text(ts: float) -> str:
    sec = int(ts)
    text = _SECOND.get(sec)
    if text is None:
        if len(_SECOND) > 4096:
            _SECOND.clear()
        text = _SECOND[sec] = hhmmss(sec)
    return text


def row_of(entry: LogEntry) -> Line:
    """The row of an entry with the default template."""
    return format_line(entry)


class LogView(ScrollView, can_focus=True):
    """The tail's lines."""

    DEFAULT_CSS = """
    LogView {
        overflow-x: hidden;  /* long lines are cut (whole in the detail): nothing to scroll to */
    }
    """

    BINDINGS = [
        Binding("up,k", "move(-1)", show=False),
        Binding("down,j", "move(1)", show=False),
        Binding("pageup", "move(-20)", show=False),
        Binding("pagedown", "move(20)", show=False),
        Binding("home,g", "move(-1000000000)", show=False),
        Binding("end,G", "follow", "follow", show=False),
        Binding("enter", "open", "open trace", show=False),
        Binding("space,v", "detail", "whole line", show=False),
    ]

    class TraceRequested(Message):
        def __init__(self, trace_id: str) -> None:
            super().__init__()
            self.trace_id = trace_id

    class DetailRequested(Message):
        def __init__(self, item: Item) -> None:
            super().__init__()
            self.item = item

    def __init__(
        self,
        limit: int = 100_000,
        template: Sequence[str] = DEFAULT_TEMPLATE,
        label: str = "Logs",
        trace_field: str = "trace_id",
        level_field: str = "level",
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.trace_field, self.level_field = trace_field, level_field
        self.rows: deque[Item] = deque(maxlen=limit)
        self.total = 0
        """Items ever appended (the buffer holds the last `limit`)."""
        self.shown: list[int] | None = None
        """With a filter: the absolute numbers (dropped + index) of the matching rows, from `_first`
        on (the ones before it were dropped from the buffer)."""
        self._first = 0
        self.filter: LineFilter | None = None
        self.following = True
        self.cursor = -1
        self.template = tuple(template)
        self.label = label
        self.paused = False
        self.pending: deque[Item] = deque(maxlen=limit)
        self.pending_total = 0
        self._cache: dict[int, Line] = {}
        self._strips: dict[tuple[int, int], Strip] = {}
        self._painted_at = self._added_at = 0.0
        self._repaint_due = False

    @property
    def dropped(self) -> int:
        """Rows dropped from the front of the bounded buffer."""
        return self.total - len(self.rows)

    # ----- ingest -------------------------------------------------------------------------------
    def add(self, entries: list[LogEntry], gaps: Iterable[Gap] = ()) -> None:
        """Appends gap markers and entries (in that order); only the new rows meet the filter. While
        paused, they wait (bounded like the buffer) and are counted."""
        marks = [GapMark(g) for g in gaps]
        if self.paused:
            self.pending.extend(marks)
            self.pending.extend(entries)
            self.pending_total += len(marks) + len(entries)
            self._title()
            return
        self._append(marks)
        self._append(entries)
        self._changed()

    def _append(self, items: Sequence[Item]) -> None:
        if not items:
            return
        base = self.total
        self.rows.extend(items)
        self.total += len(items)
        if self.filter is not None and self.shown is not None:
            self.shown.extend(self.filter.matching(base, map(_LINE, items), len(items)))
            self._first = bisect_left(self.shown, self.dropped, self._first)
            if self._first > 65_536 and self._first * 2 > len(self.shown):
                del self.shown[: self._first]
                self._first = 0

    def pause(self, paused: bool) -> None:
        """Pauses (new lines wait, counted) or resumes (they are shown)."""
        self.paused = paused
        if not paused and self.pending_total:
            lost = self.pending_total - len(self.pending)
            self.total += lost  # what did not fit in the pending buffer counts as dropped
            self._append(list(self.pending))
            self.pending.clear()
            self.pending_total = 0
        self._repaint()

    # ----- filter -------------------------------------------------------------------------------
    def set_filter(self, text: str, invert: bool = False) -> None:
        """Filter as you type (see `LineFilter`; empty: none)."""
        self.filter = LineFilter(text, invert) if text else None
        self.shown = (
            None if self.filter is None else self.filter.matching(self.dropped, map(_LINE, self.rows), len(self.rows))
        )
        self._first = 0
        self._repaint()

    def set_template(self, template: Sequence[str]) -> None:
        """Changes the fields shown for JSON lines."""
        self.template = tuple(template)
        self._cache.clear()
        self._strips.clear()
        self.refresh()

    # ----- display ------------------------------------------------------------------------------
    def _changed(self) -> None:
        """Repaints now, or under a flood of lines every `REPAINT_S` and once the flood stops (a
        debounce with a longest wait): the screen shows the newest state without a frame per batch,
        and the last lines of a burst without waiting out the interval."""
        now = self._added_at = monotonic()
        if self._repaint_due:  # a repaint is already on its way (it shows these lines too)
            return
        if now - self._painted_at >= REPAINT_S:
            self._repaint()
        else:
            self._repaint_due = True
            self._wait(now)

    def _wait(self, now: float) -> None:
        due = repaint_due(self._painted_at, self._added_at)
        if now >= due:
            self._repaint()
        else:
            self.set_timer(due - now, lambda: self._wait(monotonic()))

    def _repaint(self) -> None:
        self._repaint_due = False
        self._painted_at = monotonic()
        self._show()

    def _show(self) -> None:
        """The rows' size, the follow scroll and the title brought up to date, and a refresh."""
        n = self.count
        self.virtual_size = Size(self.size.width, n)
        if self.following:
            self.cursor = n - 1
            if self.size.height:  # else `on_resize` does it once laid out
                self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
                if n > self.size.height and not self.show_vertical_scrollbar:  # laid out next, thumb at 0
                    self.call_after_refresh(self._place_thumb)
        self._title()
        self.refresh()

    def _place_thumb(self) -> None:
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def on_resize(self) -> None:
        """Laid out (the first time) or resized: while following, the newest lines stay in view."""
        self._show()

    def _title(self) -> None:
        state = "following" if self.following else "scrolled (end follows)"
        if self.paused:
            state = f"paused · {self.pending_total:,} new"
        parts = [self.label, state]
        if self.shown is not None:
            parts.append(f"{self.count:,}/{len(self.rows):,} match")
        if self.dropped:
            parts.append(f"{self.dropped:,} dropped")
        self.border_title = " · ".join(parts)

    def _absolute(self, i: int) -> int | None:
        if self.shown is not None:
            return self.shown[self._first + i] if 0 <= i < self.count else None
        return self.dropped + i if 0 <= i < len(self.rows) else None

    def item(self, i: int) -> Item | None:
        """The item at display row `i`."""
        n = self._absolute(i)
        return None if n is None else self.rows[n - self.dropped]

    def _row(self, i: int) -> Line | None:
        n = self._absolute(i)
        if n is None:
            return None
        line = self._cache.get(n)
        if line is None:
            if len(self._cache) >= _CACHE:
                self._cache.clear()
            line = self._cache[n] = self.format(self.rows[n - self.dropped])
        return line

    def format(self, item: Item, whole: bool = False) -> Line:
        """How this view shows `item`; `whole` parses a JSON line of any length (for its detail)."""
        limit = len(item.line) if whole else PARSE_LIMIT
        return format_line(item, self.template, self.trace_field, self.level_field, limit)

    @property
    def count(self) -> int:
        return len(self.shown) - self._first if self.shown is not None else len(self.rows)

    def action_move(self, d: int) -> None:
        self.cursor = max(0, min(self.count - 1, self.cursor + d))
        self.following = self.cursor >= self.count - 1
        if self.cursor < self.scroll_offset.y:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= self.scroll_offset.y + self.size.height:
            self.scroll_to(y=self.cursor - self.size.height + 1, animate=False)
        self._title()
        self.refresh()

    def action_follow(self) -> None:
        self.following = True
        self._repaint()

    def action_open(self) -> None:
        row = self._row(self.cursor)
        if row is not None and row.trace_id:
            self.post_message(self.TraceRequested(row.trace_id))
        else:
            self.action_detail()

    def action_detail(self) -> None:
        item = self.item(self.cursor)
        if item is not None:
            self.post_message(self.DetailRequested(item))

    def selected(self) -> Line | None:
        return self._row(self.cursor)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        i = y + self.scroll_offset.y
        n = self._absolute(i)
        if n is None:
            return Strip.blank(width)
        strip = self._strips.get((n, width))
        if strip is None:  # rendered once per line and width, like `Log`; the frame only looks it up
            row = self._row(i)
            assert row is not None
            text = Text(row.text, style=LEVEL_STYLE.get(row.level, ""), no_wrap=True, overflow="ellipsis")
            if row.gap:
                text.stylize("bold")
            strip = Strip(list(text.render(self.app.console))).adjust_cell_length(width)
            if len(self._strips) >= _CACHE:
                self._strips.clear()
            self._strips[(n, width)] = strip
        if i == self.cursor and self.has_focus:
            strip = strip.apply_style(_CURSOR)
        return strip
