"""Provides `FlameView`: the window's CPU profile across the whole pane — the selected frame's line
(full name, self, total, Δ against the baseline), a navigable icicle of the merged stacks (▲ hotter,
▼ colder by at least `analysis.flame.NOISE`), search (`/`, `n`), zoom, and the top table of the zoomed
frame."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from plugintop.analysis.flame import NOISE, function_totals, matches, subtree
from plugintop.analysis.model import FlameNode, ProfileSummary
from plugintop.ui.format import pct, plain, safe
from plugintop.ui.keys import FLAME, LISTS, bindings
from plugintop.ui.widgets.table import Table

SELECTED = Style(reverse=True)
MATCH = Style(bold=True, underline=True, italic=True)
FRAME = Style(underline=True)


class Icicle(Widget, can_focus=True):
    """The stacks from the (zoomed) root down; arrows move, enter zooms in, backspace zooms out."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(LISTS, skip=("choose", "page")) + bindings(FLAME)

    class Moved(Message):
        """The selection or the zoom changed."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.nodes: list[FlameNode] = []
        self.kids: dict[int, list[int]] = {}
        self.root = 0
        self.sel = 0
        self.hot: set[str] = set()
        self.cold: set[str] = set()
        self.found: list[int] = []
        """The frames matching the search, in level order."""

    def set_nodes(self, nodes: list[FlameNode], hot: set[str], cold: set[str] | None = None) -> None:
        self.nodes, self.hot, self.cold = nodes, hot, cold or set()
        self.kids = {}
        for i, n in enumerate(nodes):
            if n.parent >= 0:
                self.kids.setdefault(n.parent, []).append(i)
        self.root = self.sel = 0
        self.found = []
        self._moved()

    def _moved(self) -> None:
        self.refresh()
        self.post_message(self.Moved())

    def _select(self, i: int) -> None:
        self.sel = i
        if not self._under(i, self.root):  # a frame outside the zoom: zoom out to show it
            self.root = 0
        self._moved()

    def _under(self, i: int, root: int) -> bool:
        while i >= 0 and i != root:
            i = self.nodes[i].parent
        return i == root

    def action_move(self, d: int) -> None:
        """Up: the parent; down: the hottest child."""
        if not self.nodes:
            return
        if d < 0 and self.nodes[self.sel].parent >= 0:
            self._select(self.nodes[self.sel].parent)
        elif d > 0 and (kids := self.kids.get(self.sel, [])):
            self._select(max(kids, key=lambda i: self.nodes[i].total))

    def action_first(self) -> None:
        if self.nodes:
            self._select(self.root)

    def action_last(self) -> None:
        """The hottest path down to its leaf."""
        i = self.sel
        while self.nodes and (kids := self.kids.get(i)):
            i = max(kids, key=lambda k: self.nodes[k].total)
        self._select(i)

    def action_sibling(self, d: int) -> None:
        if not self.nodes or self.nodes[self.sel].parent < 0:
            return
        sibs = self.kids[self.nodes[self.sel].parent]
        self._select(sibs[(sibs.index(self.sel) + d) % len(sibs)])

    def action_zoom(self) -> None:
        self.root = self.sel
        self._moved()

    def action_unzoom(self) -> None:
        if self.nodes and self.nodes[self.root].parent >= 0:
            self.root = self.nodes[self.root].parent
            self._moved()

    def search(self, text: str) -> float:
        """Marks the frames matching `text` and selects the first; returns their share of the profile."""
        self.found, share = matches(self.nodes, text)
        if self.found:
            self._select(self.found[0])
        else:
            self._moved()
        return share

    def action_next_match(self) -> None:
        if self.found:
            later = [i for i in self.found if i > self.sel]
            self._select(later[0] if later else self.found[0])

    def render(self) -> Text:
        if not self.nodes:
            return Text("no profile for the window", style="dim")
        width = max(10, self.size.width)
        found = set(self.found)
        rows: list[Text] = []
        level = [(self.root, 0, width)]
        total = max(1, self.nodes[self.root].total)
        height = max(1, self.size.height)
        depth = self.nodes[self.sel].level - self.nodes[self.root].level
        while level and len(rows) < max(height, depth + 2):  # deep enough to show the selection
            row = Text(no_wrap=True)
            cursor = 0
            nxt: list[tuple[int, int, int]] = []
            for i, x, w in level:
                if x > cursor:
                    row.append(" " * (x - cursor))
                n = self.nodes[i]
                mark = "▲" if n.name in self.hot else "▼" if n.name in self.cold else ""
                label = safe(mark + n.name, max(0, w - 1)) if w > 1 else Text("")
                label.pad_right(max(0, w - label.cell_len))
                label.stylize(SELECTED if i == self.sel else MATCH if i in found else FRAME)
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
        skip = max(0, min(depth + 2, len(rows)) - height)  # a short pane scrolls down to the selection
        return Text("\n").join(rows[skip : skip + height])


class FlameView(Vertical):
    """The selected frame's line and the search above the icicle, the zoomed frame's top table below."""

    DEFAULT_CSS = """
    FlameView #flameinfo { height: 2; padding: 0 1; }
    FlameView #flamesearch { display: none; height: 1; border: none; }
    FlameView #flamesearch.-shown { display: block; }
    FlameView #icicle { height: 1fr; min-height: 3; }
    FlameView #top { height: auto; max-height: 6; }
    Screen.-narrow FlameView #top { max-height: 4; }
    """
    title = "Flame"

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.profile: ProfileSummary | None = None
        self.deltas: dict[str, float] = {}
        """Each function's move against the baseline, where past `NOISE`: hotter (`ProfileSummary.hotter`), or
        − colder in self share."""
        self._top_of: tuple[int, int] | None = None
        """The (nodes, zoom root) the top table shows."""
        self.query_text = ""
        self.share = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="flameinfo")
        yield Input(id="flamesearch", placeholder="search frames (any case), enter to keep, esc to clear")
        yield Icicle(id="icicle")
        yield Table(id="top")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#top", DataTable)
        for label in ("function", "self", "total", "Δ"):
            table.add_column(label, key=label)
        self.title = "Flame (window vs baseline, whole plugin)"

    def show(self, profile: ProfileSummary | None, nodes: list[FlameNode]) -> None:
        ice = self.query_one(Icicle)
        if profile is self.profile and (nodes if profile else []) is ice.nodes:
            return  # a later phase of the same triage: keep the selection, zoom and search
        self.profile = profile
        self.deltas = (
            {f.function: f.share for f in profile.hotter} | {f.function: -f.share for f in profile.colder}
            if profile
            else {}
        )
        self._top_of = None
        ice.set_nodes(
            nodes if profile else [],
            {f for f, d in self.deltas.items() if d > 0},
            {f for f, d in self.deltas.items() if d < 0},
        )
        if self.query_text:  # a new profile: the search carries over
            self.share = ice.search(self.query_text)
        if profile is not None:
            note = " (truncated: small frames in 'other')" if profile.truncated else ""
            base = f" against {profile.baseline_cpu_per_s:.2f}" if profile.baseline_cpu_per_s > 0 else ""
            cores = f"{profile.cpu_per_s:.2f} cores{base}"
            self.title = f"Flame: CPU {profile.total_s:.0f}s in the window ({cores}), whole plugin{note}"

    def _delta_text(self, name: str) -> str:
        p = self.profile
        if p is None or p.baseline_total_s <= 0:
            return "no baseline"
        own = {f.function: f.share for f in p.hotter_self} | {f.function: -f.share for f in p.colder}
        total = {f.function: f.share for f in p.hotter_total}
        parts = [f"{what} {d[name] * 100:+.1f}" for what, d in (("self", own), ("total", total)) if name in d]
        hot = f" · hotter {self.deltas[name] * 100:+.1f}" if self.deltas.get(name, 0) > 0 else ""
        return f"Δ {' · '.join(parts)}{hot} pts" if parts or hot else f"Δ within ±{NOISE * 100:.0f} pt"

    def on_icicle_moved(self, event: Icicle.Moved) -> None:
        event.stop()
        ice = self.query_one(Icicle)
        info = self.query_one("#flameinfo", Static)
        if not ice.nodes:
            info.update(Text("no profile for the window", style="dim"))
            self.query_one("#top", DataTable).clear()
            self._top_of = None
            return
        whole = max(1, ice.nodes[0].total)
        n = ice.nodes[ice.sel]
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("▶ ")
        t.append_text(safe(n.name, 300, "bold"))
        t.append(f"  self {pct(n.self / whole, 1)} · total {pct(n.total / whole, 1)} · {self._delta_text(n.name)}")
        t.append("\n")
        if self.query_text:
            t.append("/ ")
            t.append_text(safe(self.query_text, 60, "bold"))
            t.append(f": {len(ice.found)} frames, {pct(self.share, 1)} of CPU · n next", style="")
        else:
            t.append(f"/ search · enter zoom · ⌫ out · ▲▼ Δ ≥ {NOISE * 100:.0f} pt", style="dim")
        info.update(t)
        self._top(ice, whole)

    def _top(self, ice: Icicle, whole: int) -> None:
        """The zoomed frame's top functions by self, as shares of the whole profile (redone only when the
        zoom or the profile changes, not at every move of the selection)."""
        if self._top_of == (id(ice.nodes), ice.root):
            return
        self._top_of = (id(ice.nodes), ice.root)
        table: DataTable[Text] = self.query_one("#top", DataTable)
        table.clear()
        sub = subtree(ice.nodes, ice.root)
        self_by, total_by = function_totals(sub)
        for name, own in sorted(self_by.items(), key=lambda kv: -kv[1])[:12]:
            if own <= 0:
                break
            d = self.deltas.get(name)
            table.add_row(
                safe(("▲" if d and d > 0 else "▼" if d else " ") + name, 40),
                Text(pct(own / whole, 1)),
                Text(pct(total_by[name] / whole, 1)),
                Text(f"{d * 100:+.1f}" if d is not None else ""),
            )
        root = ice.nodes[ice.root].name
        table.border_title = plain(f"top in {root}") if ice.root else None

    def action_search(self) -> None:
        box = self.query_one("#flamesearch", Input)
        box.add_class("-shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "flamesearch":
            event.stop()
            self.query_text = event.value
            self.share = self.query_one(Icicle).search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "flamesearch":
            event.stop()
            event.input.remove_class("-shown")
            self.query_one(Icicle).focus()

    def clear_search(self) -> None:
        box = self.query_one("#flamesearch", Input)
        box.value = ""
        box.remove_class("-shown")
        self.query_text = ""
        self.share = self.query_one(Icicle).search("")
        self.query_one(Icicle).focus()
