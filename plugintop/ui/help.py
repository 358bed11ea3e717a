"""Provides `HelpScreen`: every key (from the one key table), and the exact queries each pane ran (PromQL, LogQL, TraceQL,
Pyroscope) with the equivalent `promtool` / `logcli` / `tempo-cli` / `profilecli` commands and
Grafana Explore links; `y` copies them."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from plugintop.analysis.model import TriageResult
from plugintop.present.commands import commands, dashboard_link, explore_link
from plugintop.ui.format import safe
from plugintop.ui.keys import LISTS, bindings, help_lines

MARKS = (
    "marks  ▶ selected  ★ critical path  ◆ model call  ✗ error  ▲ ▼ hotter, colder than the baseline  ● alert firing"
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "close"),
        Binding("y", "copy", "copy queries"),
        *bindings(LISTS, skip=("choose",)),
    ]

    def __init__(
        self, result: TriageResult | None, urls: dict[str, str], grafana: str | None, dashboard_uid: str | None = None
    ) -> None:
        super().__init__()
        self.result, self.urls, self.grafana, self.dashboard_uid = result, urls, grafana, dashboard_uid

    def text(self) -> str:
        r = self.result
        if r is None:
            return ""
        lines = []
        if self.grafana and self.dashboard_uid:
            link = dashboard_link(self.grafana, self.dashboard_uid, r.plugin, r.tenant, r.start, r.end)
            lines += [f"Plugin Overview dashboard, same range: {link}", ""]
        for backend, qs in r.queries.items():
            for q in dict.fromkeys(qs):
                lines.append(f"{backend}: {q}")
                if self.grafana:
                    lines.append(f"  explore: {explore_link(self.grafana, q, r.start, r.end)}")
        lines.append("")
        lines += commands(r, self.urls)
        return "\n".join(lines)

    def compose(self) -> ComposeResult:
        t = Text("\n".join(help_lines()) + "\n" + MARKS + "\n")
        t.append("\nqueries this screen ran (y copies them):\n", style="bold")
        if self.result is None:
            t.append("none yet", style="dim")
        for line in self.text().splitlines():
            t.append_text(safe(line))
            t.append("\n")
        with VerticalScroll():
            yield Static(t)

    def action_move(self, delta: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=delta, animate=False)

    def action_page(self, pages: int) -> None:
        box = self.query_one(VerticalScroll)
        box.scroll_relative(y=pages * max(1, box.size.height - 1), animate=False)

    def action_first(self) -> None:
        self.query_one(VerticalScroll).scroll_home(animate=False)

    def action_last(self) -> None:
        self.query_one(VerticalScroll).scroll_end(animate=False)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text())
        self.app.notify("queries copied (OSC 52)", markup=False)
