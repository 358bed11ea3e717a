"""Provides `TraceIdPrompt`: asks for a trace id (pasted from a ticket) to open its waterfall."""

from __future__ import annotations

import re
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input

HEX = re.compile(r"[0-9a-fA-F]{1,32}")


class TraceIdPrompt(ModalScreen[str | None]):
    """Enter opens the trace; esc closes. Anything but up to 32 hex digits is refused in place."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "close")]
    DEFAULT_CSS = """
    TraceIdPrompt { align: center middle; }
    TraceIdPrompt > Input { width: 60; border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        box = Input(placeholder="trace id (hex), enter to open", max_length=40, id="traceid")
        box.border_title = "open a trace by id"
        yield box

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if HEX.fullmatch(text):
            self.dismiss(text.lower())
        else:
            event.input.border_subtitle = "up to 32 hex digits"

    def action_close(self) -> None:
        self.dismiss(None)
