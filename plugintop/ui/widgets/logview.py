"""Provides `LogView`: the live tail, virtualised (only visible lines are rendered), newest at the
bottom, following unless scrolled up, filter as you type, pause with a count of new lines, a
bounded buffer with the number dropped, gap markers, and `enter` on a line with a trace id."""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Row:
    """One rendered line: its text (sanitised once), level, trace id, and the raw entry."""

    ts: float
    text: str
    level: str
    trace_id: str | None
    raw: str
    gap: bool = False


def row_of(entry: LogEntry, trace_field: str = "trace_id") -> Row:
    """Parses a JSON line (when it is one) into the template `time level event tool message`."""
    raw = entry.line
    fields: dict[str, object] = {}
    if raw[:1] == "{" and len(raw) < 1_000_000:
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, dict):
                fields = parsed
        except ValueError:
            pass
    level = str(fields.get("level") or entry.field("detected_level") or "").lower()
    trace = fields.get(trace_field) or entry.field(trace_field)
    if fields:
        body = "  ".join(str(fields.get(k, "")) for k in TEMPLATE if fields.get(k) not in (None, ""))
        if trace:
            body += f"  trace {str(trace)[:8]}…"
    else:
        body = raw
    text = f"{hhmmss(entry.ts_ns / 1e9)} {inert(body, VIEW_LIMIT)}"
    return Row(entry.ts_ns / 1e9, text, level, str(trace) if trace else None, raw)


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
        self.shown: list[int] | None = None
        self.pattern: re.Pattern[str] | None = None
        self.invert = False
        self.following = True
        self.cursor = -1

    def add(self, entries: list[LogEntry], gaps: list[Gap] | None = None) -> None:
        for g in gaps or []:
            what = "recovered" if g.recovered else "lines may be missing"
            self._push(
                Row(
                    g.start,
                    f"── gap {hhmmss(g.start)}–{hhmmss(g.end)}: {inert(g.reason, 120)} ({what}) ──",
                    "warn",
                    None,
                    "",
                    gap=True,
                )
            )
        for e in entries:
            self._push(row_of(e))
        self._reindex()

    def _push(self, row: Row) -> None:
        if len(self.rows) == self.rows.maxlen:
            self.dropped += 1
        self.rows.append(row)

    def set_filter(self, text: str, invert: bool = False) -> None:
        try:
            self.pattern = re.compile(text, re.IGNORECASE) if text else None
        except re.error:
            self.pattern = re.compile(re.escape(text), re.IGNORECASE)
        self.invert = invert
        self._reindex()

    def _reindex(self) -> None:
        if self.pattern is None:
            self.shown = None
            n = len(self.rows)
        else:
            p, inv = self.pattern, self.invert
            self.shown = [i for i, r in enumerate(self.rows) if (p.search(r.text) is None) == inv]
            n = len(self.shown)
        self.virtual_size = Size(self.size.width, n)
        if self.following:
            self.cursor = n - 1
            self.call_after_refresh(self._to_end)
        self.refresh()

    def _to_end(self) -> None:
        self.scroll_to(y=max(0, self.count - self.size.height), animate=False)

    def _row(self, i: int) -> Row | None:
        if self.shown is not None:
            return self.rows[self.shown[i]] if 0 <= i < len(self.shown) else None
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
        self._reindex()

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
