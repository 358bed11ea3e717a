"""Provides `FlameView`: the window's CPU profile — the top table (self, total, Δ against the
baseline), a navigable icicle of the merged stacks (hotter frames marked ▲), and zoom."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable

from plugintop.analysis.model import FlameNode, ProfileSummary
from plugintop.ui.format import pct, safe
from plugintop.ui.widgets.table import Table


class Icicle(Widget, can_focus=True):
    """The stacks from the (zoomed) root down; arrows move, enter zooms in, backspace zooms out."""

    BINDINGS = [
        Binding("up,k", "parent", "parent", show=False),
        Binding("down,j", "child", "child", show=False),
        Binding("left,h", "sibling(-1)", show=False),
        Binding("right,l", "sibling(1)", show=False),
        Binding("enter", "zoom", "zoom"),
        Binding("backspace", "unzoom", "zoom out"),
    ]

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.nodes: list[FlameNode] = []
        self.kids: dict[int, list[int]] = {}
        self.root = 0
        self.sel = 0
        self.hot: set[str] = set()

    def set_nodes(self, nodes: list[FlameNode], hot: set[str]) -> None:
        self.nodes, self.hot = nodes, hot
        self.kids = {}
        for i, n in enumerate(nodes):
            if n.parent >= 0:
                self.kids.setdefault(n.parent, []).append(i)
        self.root = self.sel = 0
        self.refresh()

    def action_parent(self) -> None:
        if self.nodes and self.nodes[self.sel].parent >= 0:
            self.sel = self.nodes[self.sel].parent
            self.refresh()

    def action_child(self) -> None:
        kids = self.kids.get(self.sel, [])
        if kids:
            self.sel = max(kids, key=lambda i: self.nodes[i].total)
            self.refresh()

    def action_sibling(self, d: int) -> None:
        if not self.nodes or self.nodes[self.sel].parent < 0:
            return
        sibs = self.kids[self.nodes[self.sel].parent]
        self.sel = sibs[(sibs.index(self.sel) + d) % len(sibs)]
        self.refresh()

    def action_zoom(self) -> None:
        self.root = self.sel
        self.refresh()

    def action_unzoom(self) -> None:
        if self.nodes and self.nodes[self.root].parent >= 0:
            self.root = self.nodes[self.root].parent
            self.refresh()

    def render(self) -> Text:
        if not self.nodes:
            return Text("no profile for the window", style="dim")
        width = max(10, self.size.width)
        rows: list[Text] = []
        level = [(self.root, 0, width)]
        total = max(1, self.nodes[self.root].total)
        while level and len(rows) < max(1, self.size.height):
            row = Text(no_wrap=True)
            cursor = 0
            nxt: list[tuple[int, int, int]] = []
            for i, x, w in level:
                if x > cursor:
                    row.append(" " * (x - cursor))
                n = self.nodes[i]
                mark = "▲" if n.name in self.hot else ""
                label = safe(mark + n.name, max(0, w - 1)) if w > 1 else Text("")
                label.pad_right(max(0, w - label.cell_len))
                label.stylize(Style(reverse=True) if i == self.sel else Style(underline=True))
                row.append_text(label)
                cursor = x + w
                cx = x
                for c in sorted(self.kids.get(i, []), key=lambda k: self.nodes[k].x):
                    cw = int(self.nodes[c].total / total * width)
                    if cw >= 1:
                        nxt.append((c, cx, cw))
                    cx += cw
            rows.append(row)
            level = nxt
        return Text("\n").join(rows)


class FlameView(Horizontal):
    """Top functions beside the icicle."""

    title = "Flame"

    def compose(self) -> ComposeResult:
        yield Table(id="top")
        yield Icicle(id="icicle")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#top", DataTable)
        for label in ("function", "self", "total", "Δ"):
            table.add_column(label, key=label)
        self.title = "Flame (window vs baseline, whole plugin)"

    def show(self, profile: ProfileSummary | None, nodes: list[FlameNode]) -> None:
        table: DataTable[Text] = self.query_one("#top", DataTable)
        table.clear()
        if profile is None:
            self.query_one(Icicle).set_nodes([], set())
            return
        totals = {f.function: f.share for f in profile.top_total}
        deltas = {f.function: f.share for f in profile.hotter}
        for f in profile.top_self:
            d = deltas.get(f.function)
            table.add_row(
                safe(("▲" if d else " ") + f.function, 30),
                Text(pct(f.share, 0)),
                Text(pct(totals.get(f.function), 0)),
                Text(f"+{d * 100:.0f}" if d else ""),
                key=f.function,
            )
        self.query_one(Icicle).set_nodes(nodes, set(deltas))
        note = " (truncated: small frames in 'other')" if profile.truncated else ""
        self.title = f"Flame: CPU {profile.total_s:.0f}s in the window, whole plugin{note}"
