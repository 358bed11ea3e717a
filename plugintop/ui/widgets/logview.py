"""Provides `LogView`: the live tail, virtualised (only visible lines are formatted and rendered),
newest at the bottom, following unless scrolled up, filter as you type, pause with a count of new
lines, a bounded buffer with the number dropped, gap markers, and `enter` on a line with a trace id.

Ingest is kept to what every line needs: the entry object decoded by the Loki client is appended to
a bounded deque, and with a filter on, its raw line is tested. JSON parsing into the template and
sanitising happen when a line is first shown (and are cached, `loglines`), so a burst of 100,000
lines costs no more to show than the 50 on screen."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from time import monotonic
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from plugintop.models.loki import Gap, LogEntry
from plugintop.textsafe import inert
from plugintop.ui.format import border
from plugintop.ui.keys import LOGS, bindings
from plugintop.ui.widgets.lines import CHOOSE, LineList
from plugintop.ui.widgets.loglines import (
    DEFAULT_TEMPLATE,
    LEVEL_CLASS,
    PARSE_LIMIT,
    REPAINT_S,
    GapMark,
    Item,
    Line,
    LineFilter,
    format_line,
    repaint_due,
)

CACHE = 4096
"""Formatted lines and rendered strips kept (a few screens' worth)."""
_LINE = attrgetter("line")


class LogView(LineList):
    """The tail's lines."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *LineList.COMPONENT_CLASSES,
        "logview--error",
        "logview--warn",
        "logview--debug",
        "logview--gap",
    }
    DEFAULT_CSS = """
    LogView > .logview--error { color: $error; text-style: bold; }
    LogView > .logview--warn { color: $warning; }
    LogView > .logview--debug { text-style: dim; }
    LogView > .logview--gap { color: $warning; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = CHOOSE + bindings(LOGS)

    @dataclass
    class TraceRequested(Message):
        """`enter` on a line that names a trace: open it (the id is the line's text, checked by the app)."""

        trace_id: str

    @dataclass
    class DetailRequested(Message):
        """`v` or `space` on a line: show it whole."""

        item: Item

    @dataclass
    class PivotRequested(Message):
        """A field of this line's JSON should become a filter."""

        item: Item

    class UnpivotRequested(Message):
        """The last field filter should go."""

    class LiveRequested(Message):
        """`G`: follow the present again, whatever range the pane was reading."""

    def __init__(
        self,
        limit: int = 100_000,
        template: Sequence[str] = DEFAULT_TEMPLATE,
        label: str = "Logs",
        trace_field: str = "trace_id",
        level_field: str = "level",
        utc: bool = True,
        **kw: object,
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
        self.utc = utc
        """The lines' clock: UTC, else local time (the header's, `set_utc`)."""
        self.label = label
        self.mode = "following"
        """What the rows are: "following" (live) or the past range they hold."""
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

    @property
    def count(self) -> int:
        """Rows shown (matching the filter, if any)."""
        return len(self.shown) - self._first if self.shown is not None else len(self.rows)

    @property
    def row_count(self) -> int:
        return self.count

    # ----- ingest -------------------------------------------------------------------------------
    def add(self, entries: list[LogEntry], gaps: Iterable[Gap] = ()) -> None:
        """Appends gap markers and entries (in that order); only the new rows meet the filter. While
        paused, they wait (bounded like the buffer) and are counted."""
        marks = [GapMark(g, self.utc) for g in gaps]
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

    def reset(self, mode: str, label: str | None = None) -> None:
        """Empties the view for a new stream of rows: live ("following") or a past range (`mode` says
        which); the filter stays."""
        self.rows.clear()
        self.pending.clear()
        self.total = self.pending_total = self._first = 0
        self.shown = None if self.filter is None else []
        self._cache.clear()
        self._strips.clear()
        self.mode = mode
        self.label = label or self.label
        self.following = True
        self.cursor = -1
        self._repaint()

    def set_label(self, label: str) -> None:
        """What the pane shows (plugin, tenant, field filters)."""
        if label != self.label:
            self.label = label
            self._title()

    def set_utc(self, utc: bool) -> None:
        """The lines' clock: UTC or local time, as the header's."""
        if utc != self.utc:
            self.utc = utc
            self._cache.clear()
            self._strips.clear()
            self.refresh()

    def set_mode(self, mode: str) -> None:
        """What the rows are now (a range read whole, say)."""
        self.mode = mode
        self._title()

    def set_filter(self, text: str, invert: bool = False) -> None:
        """Filter as you type (see `LineFilter`; empty: none)."""
        self.filter = LineFilter(text, invert) if text else None
        self.shown = (
            None if self.filter is None else self.filter.matching(self.dropped, map(_LINE, self.rows), len(self.rows))
        )
        self._first = 0
        self._repaint()

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
        state = self.mode if self.following else f"{self.mode}, scrolled (end follows)"
        if self.paused:
            state = f"paused · {self.pending_total:,} new"
        parts = [self.label, state]
        if self.filter is not None:
            parts.append(f"filter {'!' if self.filter.invert else ''}{self.filter.text}")
        if self.shown is not None:
            parts.append(f"{self.count:,}/{len(self.rows):,} match")
        if self.dropped:
            parts.append(f"{self.dropped:,} dropped")
        border(self, title=Content(inert(" · ".join(parts), 300)))  # plain text: never markup

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
            if len(self._cache) >= CACHE:
                self._cache.clear()
            line = self._cache[n] = self.format(self.rows[n - self.dropped])
        return line

    def format(self, item: Item, whole: bool = False) -> Line:
        """How this view shows `item`; `whole` parses a JSON line of any length (for its detail)."""
        limit = len(item.line) if whole else PARSE_LIMIT
        return format_line(item, self.template, self.trace_field, self.level_field, limit, self.utc)

    def cursor_moved(self) -> None:
        self.following = self.cursor >= self.count - 1
        self._title()

    def action_follow(self) -> None:
        self.following = True
        self._repaint()

    def action_last(self) -> None:
        """G: the newest line, following; reading a past range, back to following the present."""
        self.action_follow()
        if not self.mode.startswith("following"):
            self.post_message(self.LiveRequested())

    def action_choose(self) -> None:
        """enter: the line's trace, or the whole line when it has none."""
        row = self._row(self.cursor)
        if row is not None and row.trace_id:
            self.post_message(self.TraceRequested(row.trace_id))
        else:
            self.action_detail()

    def action_pivot(self) -> None:
        item = self.item(self.cursor)
        if item is not None:
            self.post_message(self.PivotRequested(item))

    def action_unpivot(self) -> None:
        self.post_message(self.UnpivotRequested())

    def action_detail(self) -> None:
        item = self.item(self.cursor)
        if item is not None:
            self.post_message(self.DetailRequested(item))

    def selected(self) -> Line | None:
        return self._row(self.cursor)

    def render_row(self, i: int, width: int) -> Strip:
        n = self._absolute(i)
        assert n is not None
        strip = self._strips.get((n, width))
        if strip is None:  # rendered once per line and width, like `Log`; the frame only looks it up
            row = self._row(i)
            assert row is not None
            kind = "logview--gap" if row.gap else LEVEL_CLASS.get(row.level)
            style = self.get_component_rich_style(kind, partial=True) if kind else ""
            text = Text(row.text, style=style, no_wrap=True, overflow="ellipsis")
            strip = Strip(list(text.render(self.app.console))).adjust_cell_length(width)
            if len(self._strips) >= CACHE:
                self._strips.clear()
            self._strips[(n, width)] = strip
        return strip
