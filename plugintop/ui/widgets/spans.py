"""Provides `Spans`: the tail-biased samples of the window, slowest first; `enter` opens one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable

from plugintop.analysis.model import SpanSample, TriageResult
from plugintop.ui.format import border, hhmmss, plain, safe, secs
from plugintop.ui.widgets.table import Table, fitted

COLUMNS = ("duration", "trace", "at", "tool", "from")
PRIORITY = ["duration", "trace", "at", "from", "tool"]
"""Which columns stay as the pane narrows (a column is dropped whole, never cut mid-value)."""


class Spans(Vertical):
    """The slow-spans pane."""

    @dataclass
    class SpanChosen(Message):
        """`enter` on a slow span: open its trace."""

        sample: SpanSample

    def compose(self) -> ComposeResult:
        yield Table(id="spantable")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for label in COLUMNS:
            table.add_column(label, key=label)
        self.columns: tuple[str, ...] = COLUMNS
        self.border_title = "Slow spans"
        self._samples: dict[str, SpanSample] = {}
        self.last: tuple[TriageResult, bool, str, Sequence[SpanSample]] | None = None

    def on_resize(self) -> None:
        if self.last is not None:
            self.show(*self.last)

    def show(self, r: TriageResult, utc: bool = False, where: str = "", new: Sequence[SpanSample] = ()) -> None:
        """The slow spans of `r`, after `new` (reproduce mode's finds); `where`: the attribute they are held
        to, in the title."""
        table = self.query_one(Table)
        w = r.slow_window
        border(
            self, title=plain(f"Slow spans {w.tool}" if w else "Slow spans") + (plain(f" · {where}") if where else "")
        )
        self.last = (r, utc, where, new)
        self._samples = {}
        cells: list[tuple[str, dict[str, Text]]] = []
        for s in (*new, *r.spans):
            key = f"{s.trace_id}:{s.span_id}"
            if key in self._samples:
                continue
            self._samples[key] = s
            cells.append(
                (
                    key,
                    {
                        "duration": Text(secs(s.duration_s), style="bold"),
                        "trace": safe(s.trace_id[:12] + "…"),
                        "at": Text(hhmmss(s.start, utc) if s.start else "-"),
                        "tool": safe(s.tool, 24),
                        "from": safe(s.source),  # `exemplar` or `search`, whole
                    },
                )
            )
        widths = {c: max([len(c), *(row[c].cell_len for _, row in cells)]) for c in COLUMNS}
        columns = tuple(fitted(widths, (self.size.width or 80) - 4, PRIORITY))  # borders and the scrollbar
        changed = columns != self.columns
        if changed:
            table.clear(columns=True)
            self.columns = columns
            for label in columns:
                table.add_column(label, key=label)
        table.fill([(key, [row[c] for c in columns]) for key, row in cells], columns_changed=changed)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        sample = self._samples.get(str(event.row_key.value))
        if sample is not None:
            self.post_message(self.SpanChosen(sample))
