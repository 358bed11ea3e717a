"""Provides `LineDetail`: one tail line whole (time, labels, metadata, the JSON object pretty printed),
in a pager that wraps lazily and renders only what is on screen, so a line of megabytes opens at once.
`enter` opens the line's trace, `y` copies the raw line, `esc` closes."""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import ClassVar

from rich.segment import Segment
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.strip import Strip

from plugintop.ui.widgets.lines import LineList
from plugintop.ui.widgets.loglines import Item, detail_lines
from plugintop.ui.widgets.logview import LogView


class Pager(LineList):
    """Sanitised lines, wrapped at the width (by characters), rendered on demand; the keys scroll."""

    show_cursor = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "page(1)", show=False)]

    def __init__(self, lines: list[str], **kw: object) -> None:
        super().__init__(**kw)
        self.lines = lines
        self._width = 0
        self._starts: list[int] = [0]

    def _layout(self, width: int) -> None:
        width = max(1, width)
        if width == self._width:
            return
        self._width = width
        rows = [max(1, -(-len(line) // width)) for line in self.lines]
        self._starts = [0, *accumulate(rows)]

    @property
    def row_count(self) -> int:
        self._layout(self.size.width)
        return self._starts[-1]

    def on_resize(self) -> None:
        self.sized()
        self.refresh()

    def render_row(self, i: int, width: int) -> Strip:
        k = bisect_right(self._starts, i) - 1
        offset = (i - self._starts[k]) * self._width
        piece = self.lines[k][offset : offset + self._width]
        return Strip([Segment(piece)]).adjust_cell_length(width)


class LineDetail(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,space,v", "dismiss", "close"),
        Binding("enter", "trace", "open trace"),
        Binding("y", "copy", "copy line"),
    ]

    def __init__(self, item: Item, view: LogView) -> None:
        super().__init__()
        self.item, self.view = item, view

    def compose(self) -> ComposeResult:
        pager = Pager(detail_lines(self.item))
        pager.border_title = "line · enter trace · y copy · esc close"
        yield pager

    def action_trace(self) -> None:
        trace = self.view.format(self.item, whole=True).trace_id
        self.dismiss()
        if trace:
            self.view.post_message(LogView.TraceRequested(trace))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(getattr(self.item, "line", ""))
        self.app.notify("line copied (OSC 52)", markup=False)
