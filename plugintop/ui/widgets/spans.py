"""Provides `Spans`: the tail-biased samples of the window, slowest first; `enter` opens one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable

from plugintop.analysis.model import SpanSample, TriageResult
from plugintop.ui.format import border, hhmmss, plain, safe, secs
from plugintop.ui.widgets.table import Table


class Spans(Vertical):
    """The slow-spans pane."""

    class SpanChosen(Message):
        def __init__(self, sample: SpanSample) -> None:
            super().__init__()
            self.sample = sample

    def compose(self) -> ComposeResult:
        yield Table(id="spantable")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for label in ("duration", "trace", "at", "tool", "from"):
            table.add_column(label, key=label)
        self.border_title = "Slow spans"
        self._samples: dict[str, SpanSample] = {}

    def show(self, r: TriageResult, utc: bool = False, where: str = "") -> None:
        """The slow spans of `r`; `where`: the attribute they are held to, in the title."""
        table = self.query_one(Table)
        w = r.slow_window
        border(
            self, title=plain(f"Slow spans {w.tool}" if w else "Slow spans") + (plain(f" · {where}") if where else "")
        )
        self._samples = {}
        rows: list[tuple[str | None, list[Text]]] = []
        for s in r.spans:
            key = f"{s.trace_id}:{s.span_id}"
            if key in self._samples:
                continue
            self._samples[key] = s
            rows.append(
                (
                    key,
                    [
                        Text(secs(s.duration_s), style="bold"),
                        safe(s.trace_id[:12] + "…"),
                        Text(hhmmss(s.start, utc) if s.start else "-"),
                        safe(s.tool, 24),
                        safe(s.source),  # `exemplar` or `search`, whole
                    ],
                )
            )
        table.fill(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        sample = self._samples.get(str(event.row_key.value))
        if sample is not None:
            self.post_message(self.SpanChosen(sample))
