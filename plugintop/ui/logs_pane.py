"""Provides `LogsPane`: the app's `view` (what the screen looks at) and the keys of its log pane: what the
pane reads (the view's range and pivots, told to the `LogPane` widget, which reads it), pivots on a field
of a line, pauses and filters."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.app import App
from textual.reactive import reactive
from textual.widgets import Input

from plugintop.live.follow import TenantLogs, pane_read, saved_read
from plugintop.timerange import TimeRange
from plugintop.ui.pivot import PivotScreen
from plugintop.ui.session import Session
from plugintop.ui.state import View
from plugintop.ui.widgets.loglines import fields_of
from plugintop.ui.widgets.logpane import LogPane, LogRead
from plugintop.ui.widgets.logview import LogView

if TYPE_CHECKING:
    from plugintop.connect.backends import Backends


class LogsPane(App[int]):
    """The screen's `view` (what it looks at), and the log pane's keys, of `PlugintopApp`."""

    view: reactive[View] = reactive(View(range=TimeRange(0.0, 1.0)), init=False)
    """What the screen looks at: the one place the header, titles, footer and `y` read."""
    session: Session
    backends: Backends | None

    def look(self, **changes: object) -> None:
        """Changes what the screen looks at (`PlugintopApp.watch_view` does the rest)."""
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]

    def push(self, **changes: object) -> None:
        """Moves the focus: `changes` go on the view's back stack, for `esc` to undo."""
        self.view = self.view.pushed(**changes)

    def follow_logs(self) -> None:
        """Tells the log pane what to read: the view's range (a range that ends now is followed), with its
        pivots; a replay reads what following showed, as a range ending when the bundle was saved."""
        s, v = self.session, self.view
        rng = (v.range.start, v.range.end)
        start_ns, end_ns = (
            saved_read(rng, v.window, s.clock())
            if s.replay is not None
            else pane_read(rng, v.window, s.clock(), v.logs_live, s.tail_since)
        )
        logs = TenantLogs(s.ctx.telemetry, s.plugin, s.tenant, pivots=v.pivots)
        self.query_one("#logs", LogPane).read(LogRead(logs, start_ns, end_ns, self._logs_label()))

    def _logs_label(self) -> str:
        s = self.session
        pivots = "".join(f" · {k}={v}" for k, v in self.view.pivots)
        return f"Logs {{plugin={s.plugin!r}, tenant={s.tenant!r}}}{pivots}"

    def on_log_view_pivot_requested(self, event: LogView.PivotRequested) -> None:
        fields = fields_of(event.item)
        if not fields:
            self.notify("this line has no JSON fields to filter by", markup=False)
            return

        def chosen(pick: tuple[str, str] | None) -> None:
            if pick is not None:
                self.push(pivots=(*self.view.pivots, pick))

        self.push_screen(PivotScreen(fields), chosen)

    def on_log_view_unpivot_requested(self, event: LogView.UnpivotRequested) -> None:
        if self.view.pivots:
            self.look(pivots=self.view.pivots[:-1])

    def action_pause(self) -> None:
        view = self.query_one("#logs", LogView)
        view.pause(not view.paused)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        box.focus()

    def on_log_view_live_requested(self, event: LogView.LiveRequested) -> None:
        self.look(live_for=(self.view.range, self.view.window))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return  # only the log pane's own input filters it (not the trace-id prompt, not a search)
        text = event.value
        self.query_one("#logs", LogView).set_filter(text.removeprefix("!"), invert=text.startswith("!"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        self.query_one("#filter", Input).remove_class("-shown")
        self.query_one("#logs").focus()
