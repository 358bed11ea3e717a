"""Provides `LineList`: the one virtualised list of rows under the log view, the waterfall and the line
detail. Only visible rows are rendered (`render_row`), a cursor moves over them with the usual keys,
its style comes from CSS component classes, and moving it redraws two rows, not the view."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from plugintop.ui.keys import LISTS, bindings

CHOOSE = bindings(LISTS, only=("choose",))

JUMP = 1_000_000_000
"""A move far enough to reach either end."""
NULL = Style.null()


def styled(strip: Strip) -> Strip:
    """`strip` with a style on every segment: Textual's NO_COLOR filter reads each segment's style, and
    Rich leaves it None on unstyled text and padding (the screen crashed at start under NO_COLOR)."""
    if all(s.style is not None for s in strip):
        return strip
    return Strip([s if s.style is not None else Segment(s.text, NULL, s.control) for s in strip], strip.cell_length)


class LineList(ScrollView, can_focus=True):
    """Rows `0..row_count` rendered on demand, with a cursor (`show_cursor`) or without (a pager:
    the keys scroll). Subclasses give `row_count` and `render_row`, and may react in `cursor_moved`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"lines--cursor", "lines--cursor-blurred"}
    DEFAULT_CSS = """
    LineList {
        overflow-x: hidden;  /* rows are cut at the width (whole elsewhere): nothing to scroll to */
    }
    LineList > .lines--cursor {
        text-style: reverse;
    }
    LineList > .lines--cursor-blurred {
        text-style: none;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings(LISTS, skip=("choose",))
    """The list keys; a list whose rows open something adds `CHOOSE`."""
    show_cursor: ClassVar[bool] = True

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.cursor = 0

    # ----- what a subclass gives ----------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return 0

    def render_row(self, i: int, width: int) -> Strip:
        """Row `i` (0 ≤ i < row_count) at `width` cells, without the cursor's style."""
        return Strip.blank(width)

    def cursor_moved(self) -> None:
        """Called after the cursor moved by a key or `move_to`."""

    # ----- the list -----------------------------------------------------------------------------
    def sized(self) -> None:
        """The scrollable size brought up to date with `row_count`."""
        self.virtual_size = Size(self.size.width, self.row_count)

    def on_resize(self) -> None:
        self.sized()

    def move_to(self, i: int) -> None:
        """Puts the cursor on row `i` (clamped), scrolls it into view, and redraws the two rows."""
        old = self.cursor
        self.cursor = max(0, min(self.row_count - 1, i))
        top, height = self.scroll_offset.y, self.size.height
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        else:
            self.refresh_line(old)
            self.refresh_line(self.cursor)
        self.cursor_moved()

    def action_move(self, delta: int) -> None:
        if self.show_cursor:
            self.move_to(self.cursor + delta)
        else:
            self.scroll_to(y=self.scroll_offset.y + delta, animate=False)

    def action_page(self, pages: int) -> None:
        self.action_move(pages * max(1, self.size.height - 1))

    def action_first(self) -> None:
        self.action_move(-JUMP)

    def action_last(self) -> None:
        self.action_move(JUMP)

    def action_choose(self) -> None:
        """enter (where `CHOOSE` is bound): what a row opens."""

    def on_focus(self) -> None:
        self.refresh_line(self.cursor)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        i = y + self.scroll_offset.y
        if not 0 <= i < self.row_count:
            return Strip.blank(width, NULL)
        strip = styled(self.render_row(i, width))
        if self.show_cursor and i == self.cursor:
            name = "lines--cursor" if self.has_focus else "lines--cursor-blurred"
            strip = strip.apply_style(self.get_component_rich_style(name, partial=True))
        return strip
