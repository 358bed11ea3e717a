"""Provides `LogsPane`: the app's log pane, apart from the rest of the screen: it follows a range that ends
now and reads a past one whole (re-run on every move of the range), says when Loki stops answering,
pivots on a field of a line, pauses and filters. Following, it re-reads the settle window (`tail.settle`,
5 s) at every poll, so a line a shipper delivers seconds after its timestamp is shown once; a line later
than that is shown when found, marked `(late by 12.4 s)`, and the title counts them."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Input

from plugintop.errors import BackendError
from plugintop.live.follow import FROZEN_S, LogFollower, follow, pane_read, saved_read, tenant_follower, tenant_range
from plugintop.textsafe import inert
from plugintop.timerange import TimeRange
from plugintop.ui.format import hhmm, hhmmss
from plugintop.ui.pivot import PivotScreen
from plugintop.ui.session import Session
from plugintop.ui.state import View
from plugintop.ui.widgets.loglines import fields_of
from plugintop.ui.widgets.logview import LogView

if TYPE_CHECKING:
    from plugintop.connect.backends import Backends


class LogsPane(App[int]):
    """The log pane's part of `PlugintopApp`, and the screen's `view` (what it looks at)."""

    view: reactive[View] = reactive(View(range=TimeRange(0.0, 1.0)), init=False)
    """What the screen looks at: the one place the header, titles, footer and `y` read."""
    session: Session
    backends: Backends | None
    follower: LogFollower | None

    def look(self, **changes: object) -> None:
        """Changes what the screen looks at (`PlugintopApp.watch_view` does the rest)."""
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]

    def push(self, **changes: object) -> None:
        """Moves the focus: `changes` go on the view's back stack, for `esc` to undo."""
        self.view = self.view.pushed(**changes)

    def _logs_range(self) -> tuple[int, int | None]:
        """Where the log pane reads (`follow.pane_read`); a replay reads what following showed, as a range
        ending at the moment the bundle was saved (`follow.saved_read`)."""
        s, v = self.session, self.view
        rng = (v.range.start, v.range.end)
        if s.replay is not None:
            return saved_read(rng, v.window, s.clock())
        return pane_read(rng, v.window, s.clock(), v.logs_live, s.tail_since)

    def _logs_label(self) -> str:
        s = self.session
        pivots = "".join(f" · {k}={v}" for k, v in self.view.pivots)
        return f"Logs {{plugin={s.plugin!r}, tenant={s.tenant!r}}}{pivots}"

    @work(exclusive=True, group="tail", exit_on_error=False)
    async def follow_logs(self) -> None:
        """The log pane: follows a range that ends now, reads a past one whole (re-run on every move)."""
        assert self.backends is not None
        view = self.query_one("#logs", LogView)
        loki = self.backends.loki
        if loki is None:
            err = self.backends.setup_errors.get("loki")
            view.border_subtitle = Content(inert(f"loki: {err.message if err else 'not configured'}", 100))
            return
        s = self.session
        start_ns, end_ns = self._logs_range()
        if end_ns is not None:
            utc = self.view.utc
            span = f"range {hhmm(start_ns / 1e9, utc)}–{hhmm(end_ns / 1e9, utc)}"
            view.reset(f"{span} (reading)", self._logs_label())
            self.follower = None
            pages = tenant_range(loki, s.ctx.telemetry, s.plugin, s.tenant, start_ns, end_ns, pivots=self.view.pivots)
            try:
                async for batch in pages:
                    view.add(batch.entries, batch.gaps)
            except BackendError as e:
                view.border_subtitle = Content(inert(f"loki: {e.message}", 100))
                view.set_mode(f"{span} (incomplete)")
                return
            view.border_subtitle = ""
            view.set_mode(span)
            return
        view.reset("following", self._logs_label())
        tail = s.ctx.tail
        self.follower = f = tenant_follower(
            loki,
            s.ctx.telemetry,
            s.plugin,
            s.tenant,
            start_ns,
            pivots=self.view.pivots,
            clock=s.clock,
            settle=tail.settle_s,
        )
        late = 0
        async for batch in follow(f, s.tail_every):
            note = Content(
                inert(f"loki: {batch.error.message} · retrying every {s.tail_every:.0f}s", 100)
                if batch.error is not None
                else ""
            )
            # a border set again repaints the whole pane, changed or not: nothing is drawn when nothing changed
            if (view.border_subtitle or "") != note.markup:
                view.border_subtitle = note
            if batch.entries or batch.gaps:
                view.add(batch.entries, batch.gaps)
            if f.late != late:
                late = f.late
                view.set_mode(f"following · {late:,} late (reached Loki past the {tail.settle} settle window)")

    def _watch_loki(self) -> None:
        """Says when Loki stops answering the tail (after a few seconds, not when the timeout gives up)."""
        f = self.follower
        waited = f.waited() if f is not None else 0.0
        if waited >= FROZEN_S:
            view = self.query_one("#logs", LogView)
            since = hhmmss(self.session.clock() - waited, self.view.utc)
            view.border_subtitle = Content(f"loki not answering since {since}")

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
