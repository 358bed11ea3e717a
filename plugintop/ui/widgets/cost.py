"""Provides `Cost`: tokens and USD per minute by model, window against baseline, cost per call; and beneath,
the plugin's business metrics: the tenant's window against the stretch before it, and the rest of the fleet."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from plugintop.analysis import wording
from plugintop.analysis.model import TriageResult
from plugintop.ui.format import pct, safe
from plugintop.ui.widgets.table import Table


def _x(now: float | None, before: float | None) -> str:
    return f"×{now / before:.1f}" if now is not None and before else ""


class Cost(Vertical):
    """The cost pane."""

    def compose(self) -> ComposeResult:
        yield Table(id="models")
        yield Static(id="costnote")
        yield Static(Text("Business: the plugin's own metrics", style="bold"), id="businesshead")
        yield Table(id="business")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#models", DataTable)
        for label in ("model", "$/min", "vs", "tok/min", "vs"):
            table.add_column(label)
        business: DataTable[Text] = self.query_one("#business", DataTable)
        for label in ("metric", "window", "before", "change", "fleet"):
            business.add_column(label)
        self.border_title = "Cost · Business: window vs baseline"

    def show(self, r: TriageResult) -> None:
        self._business(r)
        table = self.query_one("#models", Table)
        note = self.query_one("#costnote", Static)
        c = r.cost
        if c is None:
            table.fill([])
            note.update(Text("no cost data yet", style="dim"))
            return
        table.fill(
            [
                (
                    None,
                    [
                        safe(m.model, 24),
                        Text(f"{m.usd_per_min:.4f}"),
                        Text(_x(m.usd_per_min, m.baseline_usd_per_min)),
                        Text(f"{m.tokens_per_min / 1000:.1f}k"),
                        Text(_x(m.tokens_per_min, m.baseline_tokens_per_min)),
                    ],
                )
                for m in c.by_model
            ]
        )
        t = Text()
        if c.usd_per_call is not None:
            t.append(f"per call ${c.usd_per_call:.5f} {_x(c.usd_per_call, c.baseline_usd_per_call)}\n")
        if r.trace is not None:
            t.append(f"LLM share of the slow trace {pct(r.trace.llm_share, 0)}")
        note.update(t)

    def _business(self, r: TriageResult) -> None:
        table = self.query_one("#business", Table)
        head = self.query_one("#businesshead", Static)
        if not r.business:
            table.fill([])
            head.update(Text("Business: no metric of the plugin's own for this tenant", style="dim"))
            return
        head.update(Text("Business: the plugin's own metrics (tenant; rest of the fleet)", style="bold"))
        moved = any(f.kind == "business" for f in r.findings)
        rows: list[tuple[str | None, list[Text]]] = []
        for m in r.business:
            change = wording.signed_change(m.window, m.baseline)
            rows.append(
                (
                    None,
                    [
                        safe(m.name, 40),
                        Text(wording.number(m.window) + m.unit),
                        Text(wording.number(m.baseline) + m.unit),
                        Text(change, style="bold" if moved and change != "-" else ""),
                        Text(wording.signed_change(m.fleet_window, m.fleet_baseline)),
                    ],
                )
            )
        table.fill(rows)
