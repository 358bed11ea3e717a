"""Provides `Navigation`: the keys that move around the one screen (panes, the detail pane, the range,
`esc` back along the breadcrumbs, `/`, `y`, `?`), apart from what the screen shows. Each replaces the
`view`; `PlugintopApp` re-targets the panes from it."""

from __future__ import annotations

from dataclasses import replace

from textual import events
from textual.widgets import Input

from plugintop.analysis.model import TriageResult
from plugintop.ids import TraceId
from plugintop.timerange import TimeRange
from plugintop.ui.help import HelpScreen
from plugintop.ui.logs_pane import LogsPane
from plugintop.ui.querylog import QueryLogScreen
from plugintop.ui.widgets.findings import FindingsView
from plugintop.ui.widgets.flame import FlameView, Icicle
from plugintop.ui.widgets.logview import LogView

DETAIL = ("trace", "flame", "findings")
"""The views that share the detail pane."""


class Navigation(LogsPane):
    """The screen's moves; `PlugintopApp` is the rest."""

    result: TriageResult | None

    def run_triage(self) -> None:
        """Starts a triage of what the view looks at (`PlugintopApp`'s)."""
        raise NotImplementedError

    def on_findings_view_finding_chosen(self, event: FindingsView.FindingChosen) -> None:
        """Every pane to the finding's tool and window; the log pane reads that window."""
        f = event.finding
        self.push(tool=f.tool, window=(f.start, f.end), attribute=None, live_for=None)
        self.look(span=None, trace_id=None)

    def on_findings_view_attribute_chosen(self, event: FindingsView.AttributeChosen) -> None:
        """The finding's tool and window, its slow spans only those with the attribute, and the log pane the
        lines whose field has that value (a numeric band filters the spans alone)."""
        f, a = event.finding, event.lift
        pivots = tuple(p for p in self.view.pivots if p[0] != a.attribute)
        self.push(
            tool=f.tool,
            window=(f.start, f.end),
            attribute=(a.attribute, a.value, a.numeric),
            pivots=pivots if a.numeric else (*pivots, (a.attribute, a.value)),
            live_for=None,
        )
        self.look(span=None, trace_id=None)

    def action_query_log(self) -> None:
        if self.backends is not None:
            self.push_screen(QueryLogScreen(self.backends.log, self.session.urls, self.view.utc))

    def action_help(self) -> None:
        g = self.session.ctx.grafana
        self.push_screen(
            HelpScreen(self.result, self.session.urls, g.url if g else None, g.dashboard_uid if g else None)
        )

    def action_detail(self, name: str) -> None:
        self.push(pane=name, detail=name)
        self._focus_pane(name)

    def action_pane(self, name: str) -> None:
        pane = "cost" if name == "business" else name  # the business table is in the cost pane
        self.push(pane=pane, detail=pane if pane in DETAIL else self.view.detail)
        self._focus_pane(name)

    def _focus_pane(self, name: str) -> None:
        """The focus into pane `name`'s table (the business table's for `business`)."""
        target = {
            "findings": "#findingtable",
            "percentiles": "#tools",
            "spans": "#spantable",
            "trace": "#waterfall",
            "flame": "#icicle",
            "cost": "#models",
            "business": "#business",
        }[name]
        self.set_focus(self.query_one(target))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """tab (or a click) into a pane makes it the active one."""
        for pane in ("percentiles", "spans", "cost", "detail"):
            if event.widget is self.query_one(f"#{pane}") or self.query_one(f"#{pane}") in event.widget.ancestors:
                name = self.view.detail if pane == "detail" else pane
                if name != self.view.pane:
                    self.look(pane=name)

    def action_go_back(self) -> None:
        """esc: closes the flame search or the log filter, zooms the flame graph out, then undoes the newest
        step of the view's back stack (what the last key that moved the focus changed), and with none left
        puts the focus home (the percentiles table)."""
        box = self.query_one("#filter", Input)
        flame = self.query_one(FlameView)
        if (flame.query_text and self.view.detail == "flame") or flame.query_one("#flamesearch").has_class("-shown"):
            flame.clear_search()
        elif box.has_class("-shown"):
            box.value = ""  # esc clears the filter; enter keeps it
            box.remove_class("-shown")
            self.query_one("#logs").focus()
        elif self.view.detail == "flame" and (ice := flame.query_one(Icicle)).root != 0:
            ice.action_unzoom()  # esc zooms out first (SCREEN.md), then leaves the flame graph
        elif self.view.back:
            self._step_back()
        else:
            self.look(pane="percentiles")
            self._focus_pane("percentiles")

    def _step_back(self) -> None:
        old = self.view
        step = dict(old.back[-1])
        new = old.popped()
        if "trace_id" not in step and new.target != old.target:
            new = replace(new, trace_id=None, span=None)  # the re-run triage's own trace, as on the way in
        self.view = new
        if new.pane != old.pane or self.focused is None:
            self._focus_pane(new.pane)
        if "trace_id" in step:
            self.reopen_trace(new.trace_id)

    def reopen_trace(self, trace_id: TraceId | None) -> None:
        """Shows `trace_id` again (`PlugintopApp`'s)."""
        raise NotImplementedError

    def action_shift(self, direction: int) -> None:
        r = self.view.range
        self._move_range(r.shifted(direction * r.duration / 2))

    def action_zoom(self, factor: float) -> None:
        self._move_range(self.view.range.zoomed(factor))

    def _move_range(self, rng: TimeRange) -> None:
        """Another range (a step `esc` undoes); reproduce mode watches the present, so it ends."""
        self.push(range=rng, window=None, new_spans=())
        if self.view.reproducing:
            self.look(reproducing=False, repro_note="")
            self.notify("reproduce mode ended: the range moved (R starts it again)", markup=False)

    def action_refresh_all(self) -> None:
        self.run_triage()

    def action_utc(self) -> None:
        self.look(utc=not self.view.utc)

    def action_filter(self) -> None:
        """/: searches the flame graph when it has the focus, filters the log lines otherwise."""
        flame = self.query_one(FlameView)
        if self.focused is not None and (self.focused is flame or flame in self.focused.ancestors):
            flame.action_search()
        else:
            super().action_filter()

    def action_copy(self) -> None:
        view = self.query_one("#logs", LogView)
        if view.has_focus and view.selected() is not None:
            row = view.selected()
            text = row.raw if row else ""
            what = f"the log line ({len(text):,} characters)"
        elif self.view.trace_id is not None:  # the trace on screen, not the triage's
            text = self.view.trace_id
            what = f"trace id {text}"
        else:
            queries = [q for qs in (self.result.queries.values() if self.result else []) for q in qs]
            text = "\n".join(queries)
            what = f"the triage's {len(queries)} queries" if queries else "nothing (no query yet)"
        self.copy_to_clipboard(text)
        self.notify(f"copied {what} (OSC 52: your terminal must allow it)", markup=False)
