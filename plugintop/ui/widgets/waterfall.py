"""Provides `Waterfall`: a trace as a virtualised tree of bars (only visible rows are rendered, so a
10,000-span trace scrolls freely), the critical path starred, model calls marked, and `TraceView`
with the selected span's attributes beneath."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static

from plugintop.analysis.model import SpanNode, TraceAnalysis
from plugintop.ui.format import safe, secs
from plugintop.ui.widgets.lines import CHOOSE, LineList

NAME_W = 34


class Waterfall(LineList):
    """Rows of spans: indentation, markers (★ critical path, ◆ model call, ✗ error), bar, duration."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *LineList.COMPONENT_CLASSES,
        "waterfall--marks",
        "waterfall--critical",
        "waterfall--bar",
        "waterfall--llm",
    }
    DEFAULT_CSS = """
    Waterfall > .lines--cursor-blurred { text-style: underline; }
    Waterfall > .waterfall--marks { text-style: bold; }
    Waterfall > .waterfall--critical { text-style: bold; }
    Waterfall > .waterfall--bar { text-style: dim; }
    Waterfall > .waterfall--llm { text-style: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = CHOOSE

    @dataclass
    class SpanSelected(Message):
        """The waterfall's cursor moved onto a span."""

        span: SpanNode

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.trace: TraceAnalysis | None = None
        self._t0 = 0
        self._total = 1
        """The trace's start and length (ns), computed once per trace, not once per row."""

    def set_trace(self, trace: TraceAnalysis | None) -> None:
        self.trace = trace
        spans = trace.spans if trace else []
        self._t0 = spans[0].start_ns if spans else 0
        self._total = max(1, max((sp.end_ns for sp in spans), default=0) - self._t0)
        self.cursor = 0
        self.sized()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self.trace.spans) if self.trace else 0

    def cursor_moved(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        if self.trace and self.trace.spans:
            self.post_message(self.SpanSelected(self.trace.spans[self.cursor]))

    def render_row(self, i: int, width: int) -> Strip:
        assert self.trace is not None
        span = self.trace.spans[i]
        style = self.get_component_rich_style
        name_w = min(NAME_W, max(12, width // 3))
        bar_w = max(4, width - name_w - 10)
        marks = ("★" if span.on_critical_path else " ") + (
            "◆" if span.is_llm else ("✗" if span.status == "error" else " ")
        )
        label = Text(marks, style=style("waterfall--marks", partial=True))
        label.append_text(safe("  " * min(span.depth, 8) + span.name, name_w - 2))
        label.pad_right(name_w - label.cell_len)
        a = int((span.start_ns - self._t0) / self._total * bar_w)
        n = max(1, int(span.duration_ns / self._total * bar_w))
        bar = " " * a + "█" * min(n, bar_w - a)
        kind = "critical" if span.on_critical_path else "llm" if span.is_llm else "bar"
        label.append(bar.ljust(bar_w), style=style(f"waterfall--{kind}", partial=True))
        label.append(f" {secs(span.duration_ns / 1e9):>8}")
        return Strip(list(label.render(self.app.console))).adjust_cell_length(width)


class TraceView(Vertical):
    """The waterfall and the attributes of the selected span."""

    def compose(self) -> ComposeResult:
        yield Waterfall(id="waterfall")
        yield Static(id="attrs")

    title = "Trace"

    def show(self, trace: TraceAnalysis | None, message: str = "") -> None:
        wf = self.query_one(Waterfall)
        if trace is not None and trace is wf.trace:
            return  # a later phase of the same triage: the waterfall keeps its selection
        wf.set_trace(trace)
        attrs = self.query_one("#attrs", Static)
        if trace is None:
            self.title = "Trace"
            attrs.update(safe(message or "enter on a slow span opens its trace", 300, "dim"))
            return
        self.title = (
            f"Trace {trace.trace_id[:12]}… {secs(trace.tool_duration_s)} · {len(trace.spans)} spans"
            f" · LLM {trace.llm_share * 100:.0f}%"
        )
        note = "★ critical path  ◆ model call  ✗ error"
        if trace.partial:
            note += "  (trace PARTIAL: Tempo cut it)"
        attrs.update(Text(note, style="dim"))

    def on_waterfall_span_selected(self, event: Waterfall.SpanSelected) -> None:
        s = event.span
        t = Text(no_wrap=False)
        t.append_text(safe(s.name, 80, "bold"))
        t.append(f"  {s.kind}  {secs(s.duration_ns / 1e9)} (self {secs(s.self_ns / 1e9)})  {s.status}\n")
        for k, v in list(s.attributes.items())[:12]:
            t.append_text(safe(k, 40, "italic"))
            t.append("=")
            t.append_text(safe(v, 80))
            t.append("  ")
        self.query_one("#attrs", Static).update(t)
