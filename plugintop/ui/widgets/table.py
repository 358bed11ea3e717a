"""Provides `Table`: the panes' `DataTable` answering the same list keys as every list of the screen
(`j`/`k`, `g`/`G`, page keys, enter), from the one key table; row cursor."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.widgets import DataTable

from plugintop.ui.keys import LISTS, bindings


class Table(DataTable[Text]):
    BINDINGS: ClassVar[list[BindingType]] = bindings(LISTS)

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("cursor_type", "row")
        super().__init__(**kw)
        self._filled: tuple[object, ...] | None = None

    def fill(self, rows: list[tuple[str | None, list[Text]]], columns_changed: bool = False) -> bool:
        """Shows `rows` (key, cells) in place of the rows shown, unless they are the same: a table cleared and
        filled again is rendered again whole (~2 ms a line), and a triage lands in up to ten phases.
        Returns whether anything changed. The cursor keeps its row."""
        shown = tuple((key, tuple((c.plain, str(c.style), tuple(c.spans)) for c in cells)) for key, cells in rows)
        if shown == self._filled and not columns_changed:
            return False
        cursor = self.cursor_row
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._filled = shown
        if rows:
            self.move_cursor(row=min(max(cursor, 0), len(rows) - 1))
        return True

    def clear(self, columns: bool = False) -> Table:
        self._filled = None
        super().clear(columns)
        return self

    def action_move(self, delta: int) -> None:
        self.move_cursor(row=max(0, min(self.row_count - 1, self.cursor_row + delta)))

    def action_page(self, pages: int) -> None:
        self.action_move(pages * max(1, self.size.height - 2))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=max(0, self.row_count - 1))

    def action_choose(self) -> None:
        self.action_select_cursor()


def fitted(widths: dict[str, int], width: int, priority: list[str], padding: int = 2) -> list[str]:
    """The columns (in `widths`' order) that fit in `width` cells, kept by `priority` (first: most
    needed): a column is dropped whole, never cut mid-value."""
    kept: set[str] = set()
    used = 0
    for name in priority:
        need = widths[name] + padding
        if used + need <= width or not kept:
            kept.add(name)
            used += need
    return [name for name in widths if name in kept]
