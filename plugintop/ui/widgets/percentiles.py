"""Provides `Percentiles`: the per-tool table (p50/p90/p99/rate/success/fleet) and the p99 chart,
tenant against fleet, with the target and the slow window marked."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from plugintop.analysis.chart import sparkline, window_ruler
from plugintop.analysis.model import TriageResult
from plugintop.ui.format import hhmm, pct, safe, secs
from plugintop.ui.widgets.table import Table


class Percentiles(Vertical):
    """The percentiles pane."""

    class ToolChosen(Message):
        def __init__(self, tool: str) -> None:
            super().__init__()
            self.tool = tool

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = Table(id="tools", zebra_stripes=False)
        yield table
        yield Static(id="chart")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#tools", DataTable)
        for label in ("tool", "p50", "p90", "p99", "rate", "ok%", "fleet"):
            table.add_column(label, key=label)
        self.border_title = "Percentiles"
        self._tools: list[str] = []

    def show(self, r: TriageResult, selected: str | None) -> None:
        table: DataTable[Text] = self.query_one("#tools", DataTable)
        rows = [
            (
                t.tool,
                [
                    safe(("▶" if t.tool == selected else " ") + t.tool, 28),
                    Text(secs(t.p50_s)),
                    Text(secs(t.p90_s)),
                    Text(secs(t.p99_s), style="bold" if r.slow_window and r.slow_window.tool == t.tool else ""),
                    Text(f"{t.rate_per_s:.2f}/s" if math.isfinite(t.rate_per_s) else "-"),
                    Text(pct(t.success_ratio, 1)),
                    Text(secs(t.fleet_p99_s)),
                ],
            )
            for t in r.tools
        ]
        if [t for t, _ in rows] != self._tools or True:
            cursor = table.cursor_row
            table.clear()
            for tool, cells in rows:
                table.add_row(*cells, key=tool)
            self._tools = [t for t, _ in rows]
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
        self._chart(r, selected)

    def _chart(self, r: TriageResult, selected: str | None) -> None:
        chart: Static = self.query_one("#chart", Static)
        w = r.slow_window
        tool = selected or (w.tool if w else None) or (r.tools[0].tool if r.tools else None)
        ts = next((t for t in r.tools if t.tool == tool), None)
        if ts is None:
            chart.update(Text("no data for this plugin and tenant in the range" if not r.tools else ""))
            return
        width = max(10, (self.size.width or 60) - 8)
        finite = [v for _, v in ts.p99_series + ts.fleet_p99_series if math.isfinite(v)]
        target = w.target_s if w else None
        top = max([*finite, target or 0.0, 1e-9])
        t = Text(no_wrap=True)
        t.append("p99   ")
        t.append(sparkline(ts.p99_series, r.start, r.end, width, top), style="bold")
        t.append("\nfleet ")
        t.append(sparkline(ts.fleet_p99_series, r.start, r.end, width, top), style="dim")
        t.append("\n      ")
        if w is not None:
            ruler = window_ruler(r.start, r.end, w.start, w.end, width, "═")
            t.append(ruler, style="bold")
            t.append(f"\n      slow {hhmm(w.start)}–{hhmm(w.end)}  max {secs(w.p99_s)}")
            if target:
                t.append(f"  target {secs(target)}")
        else:
            t.append(f"{hhmm(r.start)} … {hhmm(r.end)}  no slow window", style="dim")
        t.append("\n")
        t.append_text(safe(ts.tool, 40, "italic"))
        chart.update(t)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.ToolChosen(str(event.row_key.value)))
