"""Provides `LogPane`: the log pane as a widget that owns its reading. Told what to read (`read`), it
follows a range that ends now (re-reading the settle window, `live.follow`) or reads a past one whole, says
in its own titles what it holds, when Loki fails and when Loki stops answering, and posts `Stopped` when
its reading stops on anything unexpected. What it reads is decided by the app's view; the pane only reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import work
from textual.content import Content
from textual.message import Message
from textual.worker import Worker, WorkerState

from plugintop.config.context import Tail
from plugintop.connect.backends import Backends
from plugintop.errors import BackendError
from plugintop.live.follow import FROZEN_S, LogFollower, TenantLogs, follow, tenant_follower, tenant_range
from plugintop.textsafe import inert
from plugintop.ui.format import failure, hhmm, hhmmss
from plugintop.ui.widgets.logview import LogView


@dataclass(frozen=True, slots=True)
class LogSource:
    """Where the pane reads from (the backends' Loki), and how it follows."""

    backends: Backends
    every: float
    """Seconds between polls while following."""
    tail: Tail
    """The context's tail settings (the settle window)."""
    clock: Callable[[], float]


@dataclass(frozen=True, slots=True)
class LogRead:
    """What to read: `logs` from `start_ns`, up to `end_ns` (None: follow the present)."""

    logs: TenantLogs
    start_ns: int
    end_ns: int | None
    label: str


class LogPane(LogView):
    """The screen's log pane: a `LogView` that reads its own lines."""

    @dataclass
    class Stopped(Message):
        """The pane's reading stopped on an unexpected failure (`why`); Loki's own failures are said in the
        pane and retried, not posted."""

        why: str

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.source: LogSource | None = None
        self.follower: LogFollower | None = None
        """While following: the follower (its `late` count, how long its answer has been awaited)."""

    def on_mount(self) -> None:
        self.set_interval(1.0, self._watch_loki)

    @work(exclusive=True, group="tail", exit_on_error=False)
    async def read(self, what: LogRead) -> None:
        """Reads `what` (the previous reading is cancelled)."""
        source = self.source
        loki = source.backends.loki if source is not None else None
        if source is None or loki is None:
            missing = source.backends.setup_errors.get("loki") if source is not None else None
            self.border_subtitle = Content(inert(f"loki: {missing.message if missing else 'not configured'}", 100))
            return
        if what.end_ns is None:
            await self._follow(source, what)
            return
        span = f"range {hhmm(what.start_ns / 1e9, self.utc)}–{hhmm(what.end_ns / 1e9, self.utc)}"
        self.reset(f"{span} (reading)", what.label)
        self.follower = None
        try:
            async for batch in tenant_range(loki, what.logs, what.start_ns, what.end_ns):
                self.add(batch.entries, batch.gaps)
        except BackendError as e:
            self.border_subtitle = Content(inert(f"loki: {e.message}", 100))
            self.set_mode(f"{span} (incomplete)")
            return
        self.border_subtitle = ""
        self.set_mode(span)

    async def _follow(self, source: LogSource, what: LogRead) -> None:
        assert source.backends.loki is not None
        self.reset("following", what.label)
        self.follower = follower = tenant_follower(
            source.backends.loki, what.logs, what.start_ns, clock=source.clock, settle=source.tail.settle_s
        )
        late = 0
        async for batch in follow(follower, source.every):
            note = Content(
                inert(f"loki: {batch.error.message} · retrying every {source.every:.0f}s", 100)
                if batch.error is not None
                else ""
            )
            # a border set again repaints the whole pane, changed or not: nothing is drawn when nothing changed
            if (self.border_subtitle or "") != note.markup:
                self.border_subtitle = note
            if batch.entries or batch.gaps:
                self.add(batch.entries, batch.gaps)
            if follower.late != late:
                late = follower.late
                self.set_mode(f"following · {late:,} late (reached Loki past the {source.tail.settle} settle window)")

    def _watch_loki(self) -> None:
        """Says when Loki stops answering the tail (after a few seconds, not when the timeout gives up)."""
        waited = self.follower.waited() if self.follower is not None else 0.0
        if waited >= FROZEN_S and self.source is not None:
            since = hhmmss(self.source.clock() - waited, self.utc)
            self.border_subtitle = Content(f"loki not answering since {since}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "tail":
            self.follower = None
            self.post_message(self.Stopped(failure(event.worker.error)))
