"""Provides `TraceIdPrompt`: asks for a trace id (pasted from a ticket) to open its waterfall."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input

from plugintop.ids import TraceId
from plugintop.models.tempo import parse_trace_id


class TraceIdPrompt(ModalScreen[TraceId | None]):
    """Enter opens the trace; esc closes. Anything but a trace id (up to 32 hex digits, not all zeros) is
    refused in place: only a `TraceId` leaves the prompt."""

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
        trace_id = parse_trace_id(event.value)
        if trace_id is not None:
            self.dismiss(trace_id)
        else:
            event.input.border_subtitle = "up to 32 hex digits"

    def action_close(self) -> None:
        self.dismiss(None)
