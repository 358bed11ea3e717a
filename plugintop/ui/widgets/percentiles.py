"""Provides `Percentiles`: the per-tool table (p50/p90/p99/rate/success/fleet) and the p99 chart,
tenant against fleet, with the target and the slow window marked."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from plugintop.analysis.model import Points, ToolStats, TriageResult
from plugintop.present.chart import cells_over, level, nice_top, sparkline, time_axis, window_ruler
from plugintop.ui.format import hhmm, pct, safe, secs
from plugintop.ui.widgets.table import Table, fitted

COLUMNS = ("tool", "p50", "p90", "p99", "rate", "ok%", "fleet")
PRIORITY = ["tool", "p99", "p50", "ok%", "rate", "fleet", "p90"]
"""Which columns stay when the pane is narrow: the first kept longest."""
TOOL_MIN = 14


class Percentiles(Vertical):
    """The percentiles pane."""

    @dataclass
    class ToolChosen(Message):
        """`enter` on a tool: every pane to that tool."""

        tool: str

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = Table(id="tools", zebra_stripes=False)
        yield table
        yield Static(id="chart")

    columns: tuple[str, ...] = ()
    """The columns shown (as many as fit: `PRIORITY`)."""
    last: tuple[TriageResult, str | None, bool] | None = None

    def on_mount(self) -> None:
        self.border_title = "Percentiles"

    def on_resize(self) -> None:
        if self.last is not None:
            self.show(*self.last)

    def show(self, r: TriageResult, selected: str | None, utc: bool = False) -> None:
        self.last = (r, selected, utc)
        table = self.query_one("#tools", Table)
        rows = [
            (
                t.tool,
                {
                    "tool": safe(("▶" if t.tool == selected else " ") + t.tool, 28),
                    "p50": Text(secs(t.p50_s)),
                    "p90": Text(secs(t.p90_s)),
                    "p99": Text(secs(t.p99_s), style="bold" if r.slow_window and r.slow_window.tool == t.tool else ""),
                    "rate": Text(f"{t.rate_per_s:.2f}/s" if math.isfinite(t.rate_per_s) else "-"),
                    "ok%": Text(pct(t.success_ratio, 1)),
                    "fleet": Text(secs(t.fleet_p99_s)),
                },
            )
            for t in r.tools
        ]
        widths = {c: max([len(c), *(cells[c].cell_len for _, cells in rows)]) for c in COLUMNS}
        room = (self.size.width or 80) - 4  # borders and the scrollbar
        widths["tool"] = min(
            widths["tool"], max(TOOL_MIN, room - sum(w + 2 for c, w in widths.items() if c != "tool") - 2)
        )
        columns = tuple(fitted(widths, room, PRIORITY))
        changed = columns != self.columns
        cursor = table.cursor_row
        if changed:
            table.clear(columns=True)
            self.columns = columns
            for label in columns:
                table.add_column(label, key=label)
        for _, cells in rows:
            name = cells["tool"]
            if name.cell_len > widths["tool"]:
                name = name.copy()
                name.truncate(widths["tool"], overflow="ellipsis")
                cells["tool"] = name
        table.fill([(tool, [cells[c] for c in columns]) for tool, cells in rows], columns_changed=changed)
        if changed and rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        self._chart(r, selected, utc)

    def _chart(self, r: TriageResult, selected: str | None, utc: bool) -> None:
        chart: Static = self.query_one("#chart", Static)
        w = r.slow_window
        tool = selected or (w.tool if w else None) or (r.tools[0].tool if r.tools else None)
        ts = next((t for t in r.tools if t.tool == tool), None)
        if ts is None:
            down = next((e for e in r.errors if e.backend == "prometheus"), None)
            empty = (
                f"prometheus: {down.message}: no percentiles"
                if down
                else "no data for this plugin and tenant in the range"
            )
            chart.update(safe(empty if not r.tools else "", 200))
            return
        chart.update(chart_text(r, ts, max(10, (self.size.width or 60) - 8), utc))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.ToolChosen(str(event.row_key.value)))


def _marked(t: Text, points: Points, r: TriageResult, width: int, top: float, line: float | None, style: str) -> None:
    """A sparkline with the cells above `line` in bold red (bold alone without colour)."""
    spark = sparkline(points, r.start, r.end, width, top)
    over = cells_over(points, r.start, r.end, width, line) if line is not None else [False] * len(spark)
    for ch, hot in zip(spark, over, strict=False):
        t.append(ch, style="bold red" if hot else style)


def chart_text(r: TriageResult, ts: ToolStats, width: int, utc: bool) -> Text:
    """The chart under the table: p99 and the fleet's on one scale, the error ratio against the SLO, the
    slow window marked, a time axis (local or UTC) and a legend saying what each level means."""
    w = r.slow_window
    target = w.target_s if w else None
    finite = [v for _, v in ts.p99_series + ts.fleet_p99_series if math.isfinite(v)]
    top = nice_top(max([*finite, target or 0.0, 1e-9]))
    budget = 1 - r.slo.target if r.slo is not None else None
    errors = [v for _, v in ts.error_series if math.isfinite(v)]
    err_top = 2 * budget if budget else nice_top(max([*errors, 1e-9]))
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append("p99   ")
    _marked(t, ts.p99_series, r, width, top, target, "bold")
    t.append("\nfleet ")
    t.append(sparkline(ts.fleet_p99_series, r.start, r.end, width, top), style="dim")
    t.append("\nerr   ")
    if ts.error_series:
        _marked(t, ts.error_series, r, width, err_top, budget, "")
    else:
        t.append("no error series", style="dim")
    if w is not None:
        t.append("\n      ")
        t.append(window_ruler(r.start, r.end, w.start, w.end, width, "═"), style="bold")
    t.append("\nUTC   " if utc else "\nlocal ", style="dim")
    t.append(time_axis(r.start, r.end, width, utc), style="dim")
    t.append("\n")
    t.append_text(safe(ts.tool, 30, "italic"))
    if w is not None:
        t.append(f"  slow {hhmm(w.start, utc)}–{hhmm(w.end, utc)} max {secs(w.p99_s)}")
    t.append("\n")
    legend = [f"scale 0–{secs(top)}"]
    if target:
        legend.append(f"target {secs(target)} = {level(target, top)}")
    if budget:
        legend.append(f"err {level(budget, err_top)} = SLO {pct(budget, 2)}")
    t.append(" · ".join(legend), style="dim")
    return t
