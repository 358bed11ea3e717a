"""Provides `PivotScreen`: the JSON fields of one log line, to pick the one that becomes a filter of the
log pane (`| json | field="value"`). Names and values are shown as plain, sanitised text."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from plugintop.textsafe import inert
from plugintop.ui.keys import LISTS, bindings


class PivotScreen(ModalScreen[tuple[str, str] | None]):
    """Enter keeps the lines whose field has this value; esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "close"),
        *bindings(LISTS, only=("move",)),
    ]
    DEFAULT_CSS = """
    PivotScreen { align: center middle; }
    PivotScreen > OptionList { width: 80%; max-height: 80%; border: round $accent; }
    """

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__()
        self.fields = fields

    def compose(self) -> ComposeResult:
        options = [Option(Text(f"{inert(k, 40)} = {inert(v, 120)}"), id=str(i)) for i, (k, v) in enumerate(self.fields)]
        box = OptionList(*options)
        box.border_title = "keep lines where… (enter)"
        yield box

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.fields[int(event.option.id or 0)])

    def action_move(self, delta: int) -> None:
        box = self.query_one(OptionList)
        box.action_cursor_down() if delta > 0 else box.action_cursor_up()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
