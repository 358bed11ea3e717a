"""Provides `PlugintopApp`: the one screen. It starts the triage and the tail as workers, renders
each phase as it lands, and re-targets every pane when the tool, window or range changes (the
previous workers are cancelled). It builds no queries and parses no HTTP."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.widgets import ContentSwitcher, Footer, Input

from plugintop.analysis.health import PillarHealth
from plugintop.analysis.model import TriageResult
from plugintop.errors import BackendError, PlugintopError
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest, analyse_trace, new_slow_spans
from plugintop.triage.connections import Backends, open_backends
from plugintop.triage.follow import LogFollower
from plugintop.triage.health import pillar_health
from plugintop.ui.format import hhmm, plain
from plugintop.ui.help import HelpScreen
from plugintop.ui.linedetail import LineDetail
from plugintop.ui.logs_pane import LogsPane
from plugintop.ui.prompt import TraceIdPrompt
from plugintop.ui.session import Session
from plugintop.ui.widgets.cost import Cost
from plugintop.ui.widgets.findings import FindingsView
from plugintop.ui.widgets.flame import FlameView
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.percentiles import Percentiles
from plugintop.ui.widgets.spans import Spans
from plugintop.ui.widgets.summary import Summary
from plugintop.ui.widgets.waterfall import TraceView, Waterfall

__all__ = ["PlugintopApp", "Session"]

DETAIL = ("trace", "flame", "findings")
"""The views that share the detail pane."""
PANES = ("percentiles", "spans", "trace", "flame", "cost")
PANE_BACKEND = {
    "percentiles": "prometheus",
    "spans": "tempo",
    "trace": "tempo",
    "flame": "pyroscope",
    "cost": "prometheus",
    "logs": "loki",
}
NARROW = 120
HEALTH_EVERY_S = 60.0


class PlugintopApp(LogsPane):
    """plugintop's screen."""

    CSS_PATH = "app.tcss"
    TITLE = "plugintop"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
        Binding("question_mark", "help", "help"),
        Binding("f", "detail('flame')", "flame"),
        Binding("t", "detail('trace')", "trace", show=False),
        Binding("escape", "go_back", "back", show=False),
        Binding("left_square_bracket", "shift(-1)", "earlier", show=False),
        Binding("right_square_bracket", "shift(1)", "later", show=False),
        Binding("plus,equals_sign", "zoom(0.5)", "zoom in", show=False),
        Binding("minus", "zoom(2)", "zoom out", show=False),
        Binding("r", "refresh_all", "refresh"),
        Binding("y", "copy", "copy", show=False),
        Binding("p", "pause", "pause tail"),
        Binding("slash", "filter", "filter"),
        Binding("R", "reproduce", "reproduce"),
        Binding("T", "trace_by_id", "trace by id", show=False),
        Binding("F", "detail('findings')", "findings"),
        Binding("6", "pane('business')", "business", show=False),
        *[Binding(str(i + 1), f"pane('{name}')", name, show=False) for i, name in enumerate(PANES)],
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.backends: Backends | None = None
        self.result: TriageResult | None = None
        self.tool: str | None = None
        self.window: tuple[float, float] | None = None
        self.trace_label: str | None = None
        self.span_label: str | None = None
        self.active = "percentiles"
        self.triage_done = asyncio.Event()
        self.reproducing = False
        self.repro_note = ""
        self.status = ""
        self.pivots: list[tuple[str, str]] = []
        """Fields of the log lines that must have a value (`=` on a line adds one, backspace drops one)."""
        self.follower: LogFollower | None = None
        self.health: list[PillarHealth] = []
        """The telemetry of each pillar (the strip under the title), asked at start and every minute."""

    # ----- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Summary(id="summary")
        with Grid(id="panes"):
            yield Percentiles(id="percentiles", classes="pane -active")
            yield Spans(id="spans", classes="pane")
            with ContentSwitcher(id="detail", initial="trace", classes="pane"):
                yield TraceView(id="trace")
                yield FlameView(id="flame")
                yield FindingsView(id="findings")
            yield Cost(id="cost", classes="pane")
        tail, schema = self.session.ctx.tail, self.session.ctx.telemetry
        yield LogView(
            limit=tail.buffer_lines,
            template=tail.template.split(),
            label=f"Logs {{plugin={self.session.plugin!r}, tenant={self.session.tenant!r}}}",
            trace_field=schema.log_trace_field,
            level_field=schema.log_level_field,
            id="logs",
        )
        yield Input(id="filter", placeholder="filter logs (regex; start with ! to invert), enter to keep")
        yield Footer()

    def on_resize(self, event: events.Resize | None = None) -> None:
        """The layout for the size: the event's (the app's own size can still be the previous one)."""
        width = event.size.width if event is not None else self.size.width
        narrow = width < NARROW
        self.screen.set_class(narrow, "-narrow")
        # at 80 columns the palette's hint covers the last key (`R reproduce`); ctrl+p still opens it
        self.query_one(Footer).show_command_palette = not narrow

    def _set_active(self, name: str) -> None:
        name = "cost" if name == "business" else name  # the business table is in the cost pane
        self.active = name
        for pane in ("percentiles", "spans", "cost"):
            self.query_one(f"#{pane}").set_class(pane == name, "-active")
        detail = self.query_one("#detail", ContentSwitcher)
        detail.set_class(name in DETAIL, "-active")
        if name in DETAIL:
            detail.current = name

    # ----- start-up -----------------------------------------------------------------------------
    async def on_mount(self) -> None:
        self.on_resize()
        self.query_one("#logs", LogView).action_follow()
        self._crumbs()
        try:
            self.backends = await open_backends(self.session.ctx)
        except PlugintopError as e:
            self.notify(str(e), severity="error", markup=False)
            return
        self.session.urls = dict(self.backends.urls)
        self.run_triage()
        self.follow_logs()
        self.check_health()
        self.set_interval(1.0, self._watch_loki)
        self.set_interval(HEALTH_EVERY_S, self.check_health)
        self.query_one("#tools").focus()

    async def on_unmount(self) -> None:
        if self.backends is not None:
            await self.backends.aclose()

    # ----- triage -------------------------------------------------------------------------------
    def _request(self) -> TriageRequest:
        s = self.session
        return TriageRequest(
            plugin=s.plugin,
            tenant=s.tenant,
            range=s.range,
            p99_target_s=s.p99_target_s,
            tool=self.tool,
            window=self.window,
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def run_triage(self) -> None:
        assert self.backends is not None
        self.triage_done.clear()
        self.status = "loading…"
        self._crumbs()
        triage = Triage(self.backends, self.session.ctx, self._request())
        try:
            async for result in triage.stream():
                self.show(result)
        finally:
            self.status = ""
            self.show(self.result or triage.result)
            self.triage_done.set()

    def show(self, r: TriageResult) -> None:
        self.result = r
        if self.window is None and r.slow_window is not None:
            self.trace_label = None
        self.query_one(Percentiles).show(r, self.tool or (r.slow_window.tool if r.slow_window else None))
        self.query_one(Spans).show(r)
        self.query_one(Cost).show(r)
        self.query_one(FlameView).show(r.profile, r.flame_nodes)
        self.query_one(FindingsView).show(r)
        if r.trace is not None:
            self.query_one(TraceView).show(r.trace)
            self.trace_label = r.trace.trace_id[:12]
        else:
            self.query_one(TraceView).show(None)
        failed = {e.backend: e.message for e in r.errors}
        for pane, backend in PANE_BACKEND.items():
            widget = self.query_one("#detail" if pane in ("trace", "flame") else f"#{pane}")
            msg = failed.get(backend)
            widget.border_subtitle = plain(f"{backend}: {msg}", 100) if msg else ""
        self._crumbs()

    def _titles(self) -> None:
        detail = self.query_one("#detail", ContentSwitcher)
        titles = {
            "flame": self.query_one(FlameView).title,
            "findings": self.query_one(FindingsView).title,
        }
        detail.border_title = plain(titles.get(str(detail.current)) or self.query_one(TraceView).title)

    def _crumbs(self) -> None:
        self._titles()
        r = self.result
        w = r.slow_window if r else None
        crumbs = [self.tool or (w.tool if w else "all tools")]
        if w:
            crumbs.append(f"window {hhmm(w.start)}–{hhmm(w.end)}")
        if self.trace_label:
            crumbs.append(f"trace {self.trace_label}…")
        if self.span_label:
            crumbs.append(self.span_label)
        insecure = any(self.session.ctx.backend(b).tls.insecure for b in PANE_BACKEND.values())
        self.query_one(Summary).show(
            r
            or TriageResult(self.session.plugin, self.session.tenant, self.session.range.start, self.session.range.end),
            self.session.context_name,
            crumbs,
            self.status,
            insecure,
            self.health,
        )

    # ----- drill-down ---------------------------------------------------------------------------
    def on_percentiles_tool_chosen(self, event: Percentiles.ToolChosen) -> None:
        self.tool = event.tool
        self.window = None
        self.span_label = None
        self.run_triage()

    def on_findings_view_finding_chosen(self, event: FindingsView.FindingChosen) -> None:
        """Every pane to the finding's tool and window; the log pane reads that window."""
        f = event.finding
        self.tool, self.window, self.span_label = f.tool, (f.start, f.end), None
        self.run_triage()
        self.follow_logs()

    def on_spans_span_chosen(self, event: Spans.SpanChosen) -> None:
        self.open_trace(event.sample.trace_id)

    def on_log_view_detail_requested(self, event: LogView.DetailRequested) -> None:
        self.push_screen(LineDetail(event.item, self.query_one("#logs", LogView)))

    def on_log_view_trace_requested(self, event: LogView.TraceRequested) -> None:
        self.open_trace(event.trace_id)

    @work(exclusive=True, group="trace", exit_on_error=False)
    async def open_trace(self, trace_id: str) -> None:
        assert self.backends is not None
        view = self.query_one(TraceView)
        self._set_active("trace")
        self.query_one("#detail", ContentSwitcher).current = "trace"
        view.title = f"Trace {trace_id[:12]}… loading"
        self._titles()
        r = self.result
        near = (r.slow_window.start, r.slow_window.end) if r and r.slow_window else None
        try:
            trace = await analyse_trace(self.backends, self.session.ctx, self.session.plugin, self.tool, trace_id, near)
        except BackendError as e:
            view.show(None, f"{e.backend}: {e.message}")
            view.title = f"Trace {trace_id[:12]}… not opened"
            self._titles()
            return
        view.show(trace)
        self.trace_label = trace_id[:12]
        self.span_label = None
        self._crumbs()
        self.query_one("#waterfall").focus()

    def on_waterfall_span_selected(self, event: object) -> None:
        span = getattr(event, "span", None)
        self.span_label = span.name[:30] if span is not None else None
        self._crumbs()

    @work(exclusive=True, group="health", exit_on_error=False)
    async def check_health(self) -> None:
        """The telemetry strip: each pillar's newest datum (a short query per backend)."""
        assert self.backends is not None
        s = self.session
        self.health = await pillar_health(self.backends, s.ctx, s.plugin, s.clock())
        self._crumbs()

    def action_trace_by_id(self) -> None:
        def chosen(trace_id: str | None) -> None:
            if trace_id:
                self.open_trace(trace_id)

        self.push_screen(TraceIdPrompt(), chosen)

    # ----- reproduce mode -----------------------------------------------------------------------
    def action_reproduce(self) -> None:
        """Pins the range's end to now and watches for new slow spans; a second press stops."""
        if self.reproducing:
            self.reproducing = False
            self.workers.cancel_group(self, "reproduce")
            self.repro_note = ""
            self._crumbs()
            return
        self.reproducing = True
        s = self.session
        now = s.clock()
        self.session = replace(s, range=TimeRange(now - s.range.duration, now))
        self.window = None
        self.run_triage()
        self.follow_logs()
        self.watch_slow_spans(now)

    @work(exclusive=True, group="reproduce", exit_on_error=False)
    async def watch_slow_spans(self, since: float) -> None:
        assert self.backends is not None
        s = self.session
        opened = False
        seen: set[str] = set()
        while self.reproducing:
            r = self.result
            tool = self.tool or (r.slow_window.tool if r and r.slow_window else None)
            ts = next((t for t in r.tools if t.tool == tool), None) if r else None
            threshold = s.p99_target_s or (ts.p99_s if ts else None) or 1.0
            self.repro_note = f"● reproducing since {hhmm(since)}: watching for spans > {threshold:.2f}s"
            self._crumbs()
            try:
                found = await new_slow_spans(
                    self.backends, s.ctx, s.plugin, s.tenant, tool, threshold, since, s.clock()
                )
            except BackendError as e:
                self.query_one("#spans").border_subtitle = plain(f"tempo: {e.message}", 100)
                found = []
            fresh = [f for f in found if f.trace_id not in seen]
            if fresh and self.result is not None:
                seen.update(f.trace_id for f in fresh)
                self.result.spans = fresh + [x for x in self.result.spans if x.trace_id not in seen]
                self.query_one(Spans).show(self.result)
                if not opened:
                    opened = True
                    self.open_trace(fresh[0].trace_id)
            await asyncio.sleep(s.reproduce_every)

    # ----- navigation ---------------------------------------------------------------------------
    def action_help(self) -> None:
        g = self.session.ctx.grafana
        self.push_screen(
            HelpScreen(self.result, self.session.urls, g.url if g else None, g.dashboard_uid if g else None)
        )

    def action_detail(self, name: str) -> None:
        self._set_active(name)
        self.query_one("#detail", ContentSwitcher).current = name
        self._titles()
        self.query_one({"flame": "#icicle", "findings": "#findingtable"}.get(name, "#waterfall")).focus()

    def action_pane(self, name: str) -> None:
        self._set_active(name)
        target = {
            "percentiles": "#tools",
            "spans": "#spantable",
            "trace": "#waterfall",
            "flame": "#icicle",
            "cost": "#models",
            "business": "#business",
        }[name]
        self.set_focus(self.query_one(target))

    def action_go_back(self) -> None:
        """Walks the breadcrumbs back: filter › flame or findings › span › trace › spans › tool and window."""
        box = self.query_one("#filter", Input)
        focused = self.focused.id if self.focused else None
        if box.has_class("-shown"):
            box.remove_class("-shown")
            self.query_one("#logs").focus()
        elif self.query_one("#detail", ContentSwitcher).current in ("flame", "findings"):
            self.action_detail("trace")
        elif focused == "waterfall":
            self.span_label = None
            self._crumbs()
            self.action_pane("spans")
        elif focused in ("spantable", "models", "business", "logs"):
            self.action_pane("percentiles")
        elif self.tool is not None or self.window is not None:
            self.tool, self.window = None, None
            self.run_triage()
            self.follow_logs()

    def _retarget(self, rng: TimeRange) -> None:
        self.session = replace(self.session, range=rng)
        self.window = None
        self.run_triage()
        self.follow_logs()

    def action_shift(self, direction: int) -> None:
        r = self.session.range
        self._retarget(r.shifted(direction * r.duration / 2))

    def action_zoom(self, factor: float) -> None:
        self._retarget(self.session.range.zoomed(factor))

    def action_refresh_all(self) -> None:
        self.run_triage()

    def action_copy(self) -> None:
        view = self.query_one("#logs", LogView)
        if view.has_focus and view.selected() is not None:
            row = view.selected()
            text = row.raw if row else ""
        elif (shown := self.query_one(Waterfall).trace) is not None:  # the trace on screen, not the triage's
            text = shown.trace_id
        else:
            text = "\n".join(q for qs in (self.result.queries.values() if self.result else []) for q in qs)
        self.copy_to_clipboard(text)
        self.notify("copied (OSC 52)", markup=False)

    def action_quit(self) -> None:  # type: ignore[override]
        self.exit(0)
