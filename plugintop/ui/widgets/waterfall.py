"""Provides `Waterfall`: a trace as a virtualised tree of bars (only visible rows are rendered, so a
10,000-span trace scrolls freely), the critical path starred, model calls marked, and `TraceView`
with the selected span's attributes beneath."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from plugintop.analysis.model import SpanNode, TraceAnalysis
from plugintop.ui.format import safe, secs

NAME_W = 34


class Waterfall(ScrollView, can_focus=True):
    """Rows of spans: indentation, markers (★ critical path, ◆ model call, ✗ error), bar, duration."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "up", show=False),
        Binding("down,j", "move(1)", "down", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("home", "move(-1000000)", show=False),
        Binding("end", "move(1000000)", show=False),
        Binding("enter", "choose", "attributes"),
    ]

    class SpanSelected(Message):
        def __init__(self, span: SpanNode) -> None:
            super().__init__()
            self.span = span

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.trace: TraceAnalysis | None = None
        self.cursor = 0

    def set_trace(self, trace: TraceAnalysis | None) -> None:
        self.trace = trace
        self.cursor = 0
        self.virtual_size = Size(self.size.width, len(trace.spans) if trace else 0)
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def action_move(self, delta: int) -> None:
        if not self.trace or not self.trace.spans:
            return
        self.cursor = max(0, min(len(self.trace.spans) - 1, self.cursor + delta))
        if self.cursor < self.scroll_offset.y:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= self.scroll_offset.y + self.size.height:
            self.scroll_to(y=self.cursor - self.size.height + 1, animate=False)
        self.refresh()
        self.post_message(self.SpanSelected(self.trace.spans[self.cursor]))

    def action_choose(self) -> None:
        if self.trace and self.trace.spans:
            self.post_message(self.SpanSelected(self.trace.spans[self.cursor]))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + self.scroll_offset.y
        if self.trace is None or index >= len(self.trace.spans):
            return Strip.blank(width)
        spans = self.trace.spans
        span = spans[index]
        t0 = spans[0].start_ns
        total = max(1, max(s.end_ns for s in spans) - t0)
        name_w = min(NAME_W, max(12, width // 3))
        bar_w = max(4, width - name_w - 10)
        marks = ("★" if span.on_critical_path else " ") + (
            "◆" if span.is_llm else ("✗" if span.status == "error" else " ")
        )
        label = Text(marks, style="bold")
        label.append_text(safe("  " * min(span.depth, 8) + span.name, name_w - 2))
        label.pad_right(name_w - label.cell_len)
        a = int((span.start_ns - t0) / total * bar_w)
        n = max(1, int(span.duration_ns / total * bar_w))
        bar = " " * a + "█" * min(n, bar_w - a)
        label.append(bar.ljust(bar_w), style="bold" if span.on_critical_path else "dim" if not span.is_llm else "")
        label.append(f" {secs(span.duration_ns / 1e9):>8}")
        segments = list(label.render(self.app.console))
        strip = Strip(segments).adjust_cell_length(width)
        if index == self.cursor and self.has_focus:
            strip = strip.apply_style(Style(reverse=True))
        elif index == self.cursor:
            strip = strip.apply_style(Style(underline=True))
        return strip

    def on_resize(self) -> None:
        if self.trace:
            self.virtual_size = Size(self.size.width, len(self.trace.spans))


class TraceView(Vertical):
    """The waterfall and the attributes of the selected span."""

    def compose(self) -> ComposeResult:
        yield Waterfall(id="waterfall")
        yield Static(id="attrs")

    title = "Trace"

    def show(self, trace: TraceAnalysis | None, message: str = "") -> None:
        wf = self.query_one(Waterfall)
        wf.set_trace(trace)
        attrs = self.query_one("#attrs", Static)
        if trace is None:
            self.title = "Trace"
            attrs.update(Text(message or "enter on a slow span opens its trace", style="dim"))
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
