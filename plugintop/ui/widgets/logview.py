"""Provides `LogView`: the live tail, virtualised (only visible lines are rendered), newest at the
bottom, following unless scrolled up, filter as you type, pause with a count of new lines, a
bounded buffer with the number dropped, gap markers, and `enter` on a line with a trace id."""

from __future__ import annotations

import json
import re
from collections import deque

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
from plugintop.ui.format import hhmmss

LEVEL_STYLE = {
    "error": "bold red",
    "fatal": "bold red",
    "critical": "bold red",
    "warn": "yellow",
    "warning": "yellow",
    "debug": "dim",
}
TEMPLATE = ("level", "event", "tool", "msg")
VIEW_LIMIT = 400
"""Characters of a line shown in the view (the whole line is in the detail)."""


class Row:
    """One line of the tail. Formatting (JSON parse into the template, sanitising) happens the first
    time the line is shown, so ingest costs only the Loki page parse and the filter."""

    __slots__ = ("entry", "ts", "_text", "_level", "_trace", "gap")

    def __init__(self, entry: LogEntry | None = None, gap_text: str | None = None, ts: float = 0.0) -> None:
        self.entry = entry
        self.ts = entry.ts_ns / 1e9 if entry is not None else ts
        self.gap = gap_text is not None
        self._text: str | None = gap_text
        self._level = "warn" if self.gap else ""
        self._trace: str | None = None

    @property
    def raw(self) -> str:
        return self.entry.line if self.entry is not None else ""

    @property
    def text(self) -> str:
        if self._text is None:
            self._format()
        return self._text or ""

    @property
    def level(self) -> str:
        if self._text is None:
            self._format()
        return self._level

    @property
    def trace_id(self) -> str | None:
        if self._text is None:
            self._format()
        return self._trace

    def _format(self, trace_field: str = "trace_id") -> None:
        e = self.entry
        assert e is not None
        raw = e.line
        fields: dict[str, object] = {}
        if raw[:1] == "{" and len(raw) < 1_000_000:
            try:
                parsed = json.loads(raw)
                if isinstance(parsed, dict):
                    fields = parsed
            except ValueError:
                pass
        self._level = str(fields.get("level") or e.field("detected_level") or "").lower()
        trace = fields.get(trace_field) or e.field(trace_field)
        self._trace = str(trace) if trace else None
        if fields:
            body = "  ".join(str(fields.get(k, "")) for k in TEMPLATE if fields.get(k) not in (None, ""))
            if trace:
                body += f"  trace {str(trace)[:8]}…"
        else:
            body = raw
        self._text = f"{_clock_text(self.ts)} {inert(body, VIEW_LIMIT)}"


_SECOND: dict[int, str] = {}


def _clock_text(ts: float) -> str:
    sec = int(ts)
    text = _SECOND.get(sec)
    if text is None:
        if len(_SECOND) > 4096:
            _SECOND.clear()
        text = _SECOND[sec] = hhmmss(sec)
    return text


def _haystack(row: Row) -> str:
    """What the filter searches: the raw line (like grep), or a gap marker's text."""
    return row.raw if row.entry is not None else row.text


def row_of(entry: LogEntry) -> Row:
    """The row of an entry (formatted on first use)."""
    return Row(entry)


class LogView(ScrollView, can_focus=True):
    """The tail's lines."""

    BINDINGS = [
        Binding("up,k", "move(-1)", show=False),
        Binding("down,j", "move(1)", show=False),
        Binding("pageup", "move(-20)", show=False),
        Binding("pagedown", "move(20)", show=False),
        Binding("end,G", "follow", "follow", show=False),
        Binding("enter", "open", "open trace", show=False),
    ]

    class TraceRequested(Message):
        def __init__(self, trace_id: str) -> None:
            super().__init__()
            self.trace_id = trace_id

    def __init__(self, limit: int = 100_000, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.rows: deque[Row] = deque(maxlen=limit)
        self.dropped = 0
        """Rows dropped from the front of the bounded buffer."""
        self.shown: deque[int] | None = None
        """With a filter: the absolute numbers (dropped + index) of the matching rows."""
        self.pattern: re.Pattern[str] | None = None
        self.invert = False
        self.following = True
        self.cursor = -1

    def add(self, entries: list[LogEntry], gaps: list[Gap] | None = None) -> None:
        """Appends entries (and gap markers); only the new rows are tested against the filter."""
        first_new = self.dropped + len(self.rows)
        for g in gaps or []:
            what = "recovered" if g.recovered else "lines may be missing"
            self._push(
                Row(None, f"── gap {hhmmss(g.start)}–{hhmmss(g.end)}: {inert(g.reason, 120)} ({what}) ──", g.start)
            )
        for e in entries:
            self._push(row_of(e))
        if self.shown is not None and self.pattern is not None:
            p, inv = self.pattern, self.invert
            start = max(first_new, self.dropped)
            for n in range(start, self.dropped + len(self.rows)):
                if (p.search(_haystack(self.rows[n - self.dropped])) is None) == inv:
                    self.shown.append(n)
            while self.shown and self.shown[0] < self.dropped:
                self.shown.popleft()
        self._changed()

    def _push(self, row: Row) -> None:
        if len(self.rows) == self.rows.maxlen:
            self.dropped += 1
        self.rows.append(row)

    def set_filter(self, text: str, invert: bool = False) -> None:
        """Filter as you type (a regex, or the literal text when it is not one); `invert` keeps the others."""
        try:
            self.pattern = re.compile(text, re.IGNORECASE) if text else None
        except re.error:
            self.pattern = re.compile(re.escape(text), re.IGNORECASE)
        self.invert = invert
        if self.pattern is None:
            self.shown = None
        else:
            p, inv, base = self.pattern, invert, self.dropped
            self.shown = deque(base + i for i, r in enumerate(self.rows) if (p.search(_haystack(r)) is None) == inv)
        self._changed()

    def _changed(self) -> None:
        n = self.count
        self.virtual_size = Size(self.size.width, n)
        if self.following:
            self.cursor = n - 1
            self.call_after_refresh(self._to_end)
        self.refresh()

    def _to_end(self) -> None:
        self.scroll_to(y=max(0, self.count - self.size.height), animate=False)

    def _row(self, i: int) -> Row | None:
        if self.shown is not None:
            return self.rows[self.shown[i] - self.dropped] if 0 <= i < len(self.shown) else None
        return self.rows[i] if 0 <= i < len(self.rows) else None

    @property
    def count(self) -> int:
        return len(self.shown) if self.shown is not None else len(self.rows)

    def action_move(self, d: int) -> None:
        self.cursor = max(0, min(self.count - 1, self.cursor + d))
        self.following = self.cursor >= self.count - 1
        if self.cursor < self.scroll_offset.y:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= self.scroll_offset.y + self.size.height:
            self.scroll_to(y=self.cursor - self.size.height + 1, animate=False)
        self.refresh()

    def action_follow(self) -> None:
        self.following = True
        self._changed()

    def action_open(self) -> None:
        row = self._row(self.cursor)
        if row is not None and row.trace_id:
            self.post_message(self.TraceRequested(row.trace_id))

    def selected(self) -> Row | None:
        return self._row(self.cursor)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        row = self._row(y + self.scroll_offset.y)
        if row is None:
            return Strip.blank(width)
        text = Text(row.text, style=LEVEL_STYLE.get(row.level, ""), no_wrap=True, overflow="ellipsis")
        if row.gap:
            text.stylize("bold")
        strip = Strip(list(text.render(self.app.console))).adjust_cell_length(width)
        if y + self.scroll_offset.y == self.cursor and self.has_focus:
            strip = strip.apply_style(Style(reverse=True))
        return strip
