"""Provides `Cost`: tokens and USD per minute by model, window against baseline, cost per call."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from plugintop.analysis.model import TriageResult
from plugintop.ui.format import pct, safe


def _x(now: float | None, before: float | None) -> str:
    return f"×{now / before:.1f}" if now is not None and before else ""


class Cost(Vertical):
    """The cost pane."""

    def compose(self) -> ComposeResult:
        yield DataTable(id="models", cursor_type="row")
        yield Static(id="costnote")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for label in ("model", "$/min", "vs", "tok/min", "vs"):
            table.add_column(label)
        self.border_title = "Cost: window vs baseline"

    def show(self, r: TriageResult) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.clear()
        note = self.query_one("#costnote", Static)
        c = r.cost
        if c is None:
            note.update(Text("no cost data yet", style="dim"))
            return
        for m in c.by_model:
            table.add_row(
                safe(m.model, 24),
                Text(f"{m.usd_per_min:.4f}"),
                Text(_x(m.usd_per_min, m.baseline_usd_per_min)),
                Text(f"{m.tokens_per_min / 1000:.1f}k"),
                Text(_x(m.tokens_per_min, m.baseline_tokens_per_min)),
            )
        t = Text()
        if c.usd_per_call is not None:
            t.append(f"per call ${c.usd_per_call:.5f} {_x(c.usd_per_call, c.baseline_usd_per_call)}\n")
        if r.trace is not None:
            t.append(f"LLM share of the slow trace {pct(r.trace.llm_share, 0)}")
        note.update(t)
