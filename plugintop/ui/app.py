"""Provides `PlugintopApp`: the one screen. What it looks at is one `View` (the `view` reactive):
actions replace it, and its watcher re-targets the panes that depend on what changed (the previous
workers are cancelled) and redraws the header, titles and footer from it. Workers post typed
messages (`ui.state`) and touch no widget; a worker that stops on any exception is shown where it
happened (`on_worker_state_changed`). It builds no queries and parses no HTTP."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import msgspec
from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Grid
from textual.filter import Monochrome, NoColor
from textual.widgets import ContentSwitcher, Input, Static
from textual.worker import Worker, WorkerState

from plugintop.analysis.health import PillarHealth
from plugintop.analysis.model import TraceAnalysis, TriageResult
from plugintop.analysis.wording import progress
from plugintop.config.context import BACKENDS
from plugintop.connect.backends import Backends, open_backends
from plugintop.errors import BackendError
from plugintop.ids import TraceId
from plugintop.live.health import pillar_health
from plugintop.textsafe import inert
from plugintop.triage import Triage, TriageRequest, analyse_trace
from plugintop.ui.format import border, failure, plain
from plugintop.ui.keys import SCREEN, bindings
from plugintop.ui.linedetail import LineDetail
from plugintop.ui.navigation import DETAIL
from plugintop.ui.prompt import TraceIdPrompt
from plugintop.ui.reproduce import Reproduce
from plugintop.ui.session import Session
from plugintop.ui.state import HealthLanded, TraceLoaded, TriageLanded, View
from plugintop.ui.widgets.cost import Cost
from plugintop.ui.widgets.findings import FindingsView
from plugintop.ui.widgets.flame import FlameView
from plugintop.ui.widgets.keybar import KeyBar
from plugintop.ui.widgets.logpane import LogPane, LogSource
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.percentiles import Percentiles
from plugintop.ui.widgets.spans import Spans
from plugintop.ui.widgets.summary import Summary, crumbs, tabs
from plugintop.ui.widgets.waterfall import TraceView, Waterfall

__all__ = ["PlugintopApp", "Session"]

PANE_BACKEND = {
    "percentiles": "prometheus",
    "spans": "tempo",
    "trace": "tempo",
    "flame": "pyroscope",
    "cost": "prometheus",
}
"""The panes whose title says their backend's failure in the triage (the log pane says its own, `LogPane`)."""
NARROW = 120
SHORT = 20
"""Below this many rows the log pane gives the active pane two of its rows."""
HEALTH_EVERY_S = 60.0
WORKERS = {
    "triage": ("the triage", "#percentiles"),
    "trace": ("the trace", "#detail"),
    "reproduce": ("reproduce mode", "#spans"),
    "tail": ("the log pane", "#logs"),
    "health": ("the telemetry check", None),
}
"""Each worker group: what it is called when it fails, and the pane whose title says so."""


class PlugintopApp(Reproduce):
    """plugintop's screen."""

    CSS_PATH = "app.tcss"
    TITLE = "plugintop"
    BINDINGS: ClassVar[list[BindingType]] = bindings(SCREEN)

    def __init__(self, session: Session) -> None:
        super().__init__()
        if self.no_color:  # NO_COLOR: no colour at all, not Textual's greyscale (bold and reverse carry meaning)
            self._filters = [f for f in self._filters if not isinstance(f, Monochrome)] + [NoColor()]
        self.session = session
        self.set_reactive(PlugintopApp.view, View(range=session.range, utc=session.utc))
        self.backends: Backends | None = None
        self.result: TriageResult | None = None
        self.triage_done, self.verdict_shown = asyncio.Event(), asyncio.Event()
        """The triage finished (its "why" too); the verdict and every pane of the first page are shown."""
        self._seq = 0
        """The triage run whose phases are shown (a cancelled run's late messages are dropped)."""
        self.found: TriageResult | None = None
        """The last unfocused triage of the range: its verdict and findings stay whatever the panes look at."""
        self.health: list[PillarHealth] = []
        """The telemetry of each pillar (the strip under the title), asked at start and every minute."""
        self.insecure = any(session.ctx.backend(b).tls.insecure for b in BACKENDS)
        """A backend's TLS is not verified (said on the header)."""

    # ----- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Summary(id="summary")
        yield Static(id="tabs")  # below 120 columns: which pane is shown, and the keys to the others
        with Grid(id="panes"):
            yield Percentiles(id="percentiles", classes="pane -active")
            yield Spans(id="spans", classes="pane")
            with ContentSwitcher(id="detail", initial="trace", classes="pane"):
                yield TraceView(id="trace")
                yield FlameView(id="flame")
                yield FindingsView(id="findings")
            yield Cost(id="cost", classes="pane")
        tail, schema = self.session.ctx.tail, self.session.ctx.telemetry
        yield LogPane(
            limit=tail.buffer_lines,
            template=tail.template.split(),
            label=self._logs_label(),
            trace_field=schema.log_trace_field,
            level_field=schema.log_level_field,
            utc=self.session.utc,
            id="logs",
        )
        yield Input(id="filter", placeholder="filter logs (regex; start with ! to invert), enter keeps, esc clears")
        yield KeyBar()

    def on_resize(self, event: events.Resize | None = None) -> None:
        """The layout for the size: the event's (the app's own size can still be the previous one)."""
        self.screen.set_class(self.no_color, "-no-color")
        size = event.size if event is not None else self.size
        narrow = size.width < NARROW
        self.screen.set_class(narrow, "-narrow")
        self.screen.set_class(size.height < SHORT, "-short")

    # ----- the view -----------------------------------------------------------------------------
    def watch_view(self, old: View, new: View) -> None:
        if self.backends is not None:
            if old.target != new.target:
                self.run_triage()
            if old.logs_target != new.logs_target:
                self.follow_logs()
            if new.reproducing and not old.reproducing:
                self.watch_slow_spans(new.range.end)
            elif old.reproducing and not new.reproducing:
                self.workers.cancel_group(self, "reproduce")
        if old.utc != new.utc:
            self.query_one("#logs", LogView).set_utc(new.utc)
            if self.result is not None:
                self.show(self.result)
        self._chrome()

    def _chrome(self) -> None:
        """The active pane, every title and the header, from the view (the footer follows the focus)."""
        v = self.view
        for pane in ("percentiles", "spans", "cost"):
            self.query_one(f"#{pane}").set_class(pane == v.pane, "-active")
        detail = self.query_one("#detail", ContentSwitcher)
        detail.set_class(v.pane in DETAIL, "-active")
        detail.current = v.detail
        title = {"flame": self.query_one(FlameView).title, "findings": self.query_one(FindingsView).title}.get(v.detail)
        if title is None:
            trace = self.query_one(TraceView).title
            title = f"Trace {v.trace_id[:12]}… {v.trace_note}" if v.trace_id and v.trace_note else trace
        border(detail, title=plain(title))
        self.query_one("#tabs", Static).update(tabs(v.pane if v.pane not in DETAIL else v.detail))
        self.query_one("#logs", LogView).set_label(self._logs_label())
        r = self.result
        self.query_one(Summary).show(
            r or TriageResult(self.session.plugin, self.session.tenant, v.range.start, v.range.end),
            self.session.context_name,
            crumbs(v, r),
            "loading…" if v.loading else "",
            self.insecure,
            self.health,
            v.utc,
            v.triage_error,
            v.progress if v.loading else "",
            self.session.saved_at if self.session.replay is not None else None,
        )

    # ----- start-up -----------------------------------------------------------------------------
    async def on_mount(self) -> None:
        self.on_resize()
        self.query_one("#logs", LogView).action_follow()
        self._chrome()
        try:
            self.backends = await open_backends(self.session.ctx, replay=self.session.replay)
        except Exception as e:  # nothing can be asked: the header and a notification say why
            self.look(triage_error=failure(e))
            self.notify(inert(failure(e), 300), severity="error", markup=False)
            self.triage_done.set()
            self.verdict_shown.set()
            return
        if self.session.replay is None:  # a replay names where the answers came from
            self.session.urls = dict(self.backends.urls)
        s = self.session
        self.query_one("#logs", LogPane).source = LogSource(self.backends, s.tail_every, s.ctx.tail, s.clock)
        self.run_triage()
        self.follow_logs()
        self.check_health()
        self.set_interval(HEALTH_EVERY_S, self.check_health)
        self.query_one("#tools").focus()

    async def on_unmount(self) -> None:
        if self.backends is not None:
            await self.backends.aclose()

    # ----- triage -------------------------------------------------------------------------------
    def _request(self) -> TriageRequest:
        s, v = self.session, self.view
        return TriageRequest(
            plugin=s.plugin,
            tenant=s.tenant,
            range=v.range,
            p99_target_s=s.p99_target_s,
            focus=v.focus,
        )

    def run_triage(self) -> None:
        """Starts a triage of what the view looks at (the previous run is cancelled)."""
        self._seq += 1
        self.triage_done.clear()
        self.verdict_shown.clear()
        if not self.view.loading or self.view.triage_error or self.view.progress:
            self.look(loading=True, triage_error="", progress="")
        self._triage(self._seq, self._request())

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def _triage(self, seq: int, request: TriageRequest) -> None:
        assert self.backends is not None
        triage = Triage(self.backends, self.session.ctx, request, clock=self.session.clock)
        ticker = self.set_interval(1.0, lambda: self._progress(seq, triage))
        try:
            async for result in triage.stream():
                self.post_message(TriageLanded(seq, result))
        finally:
            ticker.stop()
            self.post_message(TriageLanded(seq, triage.result, final=True))

    def _progress(self, seq: int, triage: Triage) -> None:
        """The header's "running 12 s · waiting for prometheus 9 s of 30 s", once a second while it runs."""
        if seq == self._seq and self.view.loading:
            self.look(progress=progress(triage.elapsed(), triage.waiting(), triage.call_limit_s))

    def on_triage_landed(self, message: TriageLanded) -> None:
        if message.seq != self._seq or not self.is_running:  # closing: the panes are gone
            return
        r = message.result  # the latest run's: its request is what the view looks at now
        if self.view.tool is None and self.view.window is None:
            self.found = r
        elif self.found is not None and (self.found.start, self.found.end) == (r.start, r.end):
            r = msgspec.structs.replace(r, verdict=self.found.verdict or r.verdict, findings=self.found.findings)
        if message.final:
            self.look(loading=False)
            self.triage_done.set()
        self.show(r)
        if message.result.verdict is not None:
            self.verdict_shown.set()

    def show(self, r: TriageResult) -> None:
        """Every pane from one phase of the triage."""
        self.result = r
        v = self.view
        self.query_one(Percentiles).show(r, v.tool or (r.slow_window.tool if r.slow_window else None), v.utc)
        self.query_one(Spans).show(r, v.utc, v.attribute_text, v.new_spans)
        self.query_one(Cost).show(r)
        self.query_one(FlameView).show(r.profile, r.flame_nodes)
        self.query_one(FindingsView).show(r, v.utc)
        if v.trace_id is None or v.trace_id == (r.trace.trace_id if r.trace else None):
            self._show_trace(r.trace)
        failed = {e.backend: e.message for e in r.errors}
        for pane, backend in PANE_BACKEND.items():
            widget = self.query_one("#detail" if pane in ("trace", "flame") else f"#{pane}")
            msg = failed.get(backend)
            border(widget, subtitle=plain(f"{backend}: {msg}", 100) if msg else "")
        self._chrome()

    def _show_trace(self, trace: TraceAnalysis | None) -> None:
        self.query_one(TraceView).show(trace)
        trace_id = TraceId.parse(trace.trace_id) if trace else None
        if trace_id != self.view.trace_id or self.view.trace_note:
            self.look(trace_id=trace_id, trace_note="", span=None)

    # ----- drill-down ---------------------------------------------------------------------------
    def on_percentiles_tool_chosen(self, event: Percentiles.ToolChosen) -> None:
        self.push(tool=event.tool, window=None)
        self.look(span=None, trace_id=None)

    def on_spans_span_chosen(self, event: Spans.SpanChosen) -> None:
        self.open_checked(event.sample.trace_id, "this span")

    def on_log_view_detail_requested(self, event: LogView.DetailRequested) -> None:
        self.push_screen(LineDetail(event.item, self.query_one("#logs", LogView)))

    def on_log_view_trace_requested(self, event: LogView.TraceRequested) -> None:
        self.open_checked(event.trace_id, "this line")

    def open_checked(self, raw: str, whose: str) -> None:
        """Opens `raw` if it is a trace id (a log field or a sample is the plugin's text); says so if not."""
        trace_id = TraceId.parse(raw)
        if trace_id is None:
            self.notify(inert(f"{whose} names no valid trace id: {raw!r}", 120), severity="warning", markup=False)
            return
        self.open_trace(trace_id)

    def open_trace(self, trace_id: TraceId) -> None:
        """Shows `trace_id` in the detail pane (loading, then the waterfall or why not)."""
        self.push(pane="trace", detail="trace", trace_id=trace_id, span=None)
        self.look(trace_note="loading")
        self._load_trace(trace_id)

    def reopen_trace(self, trace_id: TraceId | None) -> None:
        """The detail pane back on `trace_id` (None: the triage's): the triage's trace as it landed, any
        other loaded again."""
        r = self.result
        if trace_id is None or (r is not None and r.trace is not None and r.trace.trace_id == trace_id):
            self._show_trace(r.trace if r else None)
            return
        self.look(trace_note="loading")
        self._load_trace(trace_id)

    @work(exclusive=True, group="trace", exit_on_error=False)
    async def _load_trace(self, trace_id: TraceId) -> None:
        assert self.backends is not None
        r, v = self.result, self.view
        near = (r.slow_window.start, r.slow_window.end) if r and r.slow_window else None
        try:
            trace = await analyse_trace(self.backends, self.session.ctx, self.session.plugin, v.tool, trace_id, near)
        except BackendError as e:
            self.post_message(TraceLoaded(trace_id, None, f"{e.backend}: {e.message}"))
            return
        self.post_message(TraceLoaded(trace_id, trace))

    def on_trace_loaded(self, message: TraceLoaded) -> None:
        if message.trace_id != self.view.trace_id or not self.is_running:
            return  # the user moved on, or the app is closing
        if message.trace is None:
            self.query_one(TraceView).show(None, message.error)
            border(self.query_one("#detail"), subtitle=plain(message.error, 100))
            self.look(trace_note="not opened")
            self.notify(inert(f"trace not opened: {message.error}", 300), severity="error", markup=False)
            return
        self._show_trace(message.trace)
        self.query_one("#waterfall").focus()

    def on_waterfall_span_selected(self, event: Waterfall.SpanSelected) -> None:
        self.look(span=event.span.name[:30])

    @work(exclusive=True, group="health", exit_on_error=False)
    async def check_health(self) -> None:
        """The telemetry strip: each pillar's newest datum (a short query per backend)."""
        assert self.backends is not None
        s = self.session
        self.post_message(HealthLanded(await pillar_health(self.backends, s.ctx, s.plugin, s.clock())))

    def on_health_landed(self, message: HealthLanded) -> None:
        self.health = message.health
        if self.is_running:  # a check that lands while the app closes finds no panes
            self._chrome()

    def action_trace_by_id(self) -> None:
        def chosen(trace_id: TraceId | None) -> None:
            if trace_id:
                self.open_trace(trace_id)

        self.push_screen(TraceIdPrompt(), chosen)

    def action_window_trace(self) -> None:
        """t: the waterfall of the window (the triage's trace), not the last one opened."""
        self.push(pane="trace", detail="trace")
        r = self.result
        self._show_trace(r.trace if r else None)
        self.query_one("#waterfall").focus()

    # ----- failures ---------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker stopped by any exception (they run with `exit_on_error=False`) says so where it
        happened: its pane's title and a notification; the header leaves "loading", no pane "loading"."""
        if event.state != WorkerState.ERROR or event.worker.group not in WORKERS:
            return
        self.worker_failed(event.worker.group, failure(event.worker.error))

    def on_log_pane_stopped(self, message: LogPane.Stopped) -> None:
        self.worker_failed("tail", message.why)

    def worker_failed(self, group: str, why: str) -> None:
        what, pane = WORKERS[group]
        if group == "triage":
            self.look(loading=False, triage_error=why)
            self.triage_done.set()
            self.verdict_shown.set()
        elif group == "trace" and self.view.trace_id is not None:
            self.post_message(TraceLoaded(self.view.trace_id, None, why))
            return  # said by on_trace_loaded, as a backend's failure is
        elif group == "reproduce":
            self.look(reproducing=False, repro_note="")
        # the screen under any modal, and nothing when the app is closing
        for widget in self.screen_stack[0].query(pane) if pane is not None and self.screen_stack else ():
            border(widget, subtitle=plain(f"{what} stopped: {why}", 100))
        self.notify(inert(f"{what} stopped: {why}", 300), severity="error", markup=False)

    def action_quit(self) -> None:  # type: ignore[override]
        self.exit(0)
