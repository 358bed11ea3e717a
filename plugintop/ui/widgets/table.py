"""Provides `Table`: the panes' `DataTable` with the vi keys every list of the screen answers (`j`/`k`,
`g`/`G`), row cursor."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class Table(DataTable[Text]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
        Binding("g", "scroll_top", show=False),
        Binding("G", "scroll_bottom", show=False),
    ]

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("cursor_type", "row")
        super().__init__(**kw)
