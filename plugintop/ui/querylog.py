"""Provides `QueryLogScreen` (`Q`): every request of the session, newest first — backend, method, path and
query, status, time taken, bytes — and `y` to copy the highlighted one as the command (`promtool`, `logcli`,
`tempo-cli` or `curl`) that asks the same. Every text is a backend's or a query's: shown as plain,
sanitised text."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen

from plugintop.present.commands import as_command
from plugintop.querylog import Exchange, QueryLog
from plugintop.textsafe import inert
from plugintop.ui.format import hhmmss
from plugintop.ui.keys import QUERIES, bindings
from plugintop.ui.widgets.table import Table


def _status(row: Exchange) -> Text:
    if row.error and not row.status:
        return Text(inert(row.error, 12), style="bold")
    return Text(str(row.status), style="bold" if row.status >= 400 else "")


def _size(n: int) -> str:
    return f"{n}" if n < 10_000 else f"{n / 1000:.0f}k" if n < 10_000_000 else f"{n / 1e6:.0f}M"


class QueryLogScreen(ModalScreen[None]):
    """The query log; `y` copies the highlighted request as a command, `r` reads the log again, esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(QUERIES)
    DEFAULT_CSS = """
    QueryLogScreen { align: center middle; }
    QueryLogScreen > Table { width: 96%; height: 90%; border: round $accent; }
    """

    def __init__(self, log: QueryLog, urls: dict[str, str], utc: bool = False) -> None:
        super().__init__()
        self.queries, self.urls, self.utc = log, urls, utc
        self.rows: list[Exchange] = []

    def compose(self) -> ComposeResult:
        yield Table(id="requests")

    def on_mount(self) -> None:
        table = self.query_one(Table)
        table.add_columns("time", "backend", "status", "ms", "bytes", "request")
        self.action_reload()
        table.focus()

    def action_reload(self) -> None:
        table = self.query_one(Table)
        table.clear()
        self.rows = self.queries.newest_first()
        for row in self.rows:
            table.add_row(
                Text(hhmmss(row.started, self.utc)),
                Text(inert(row.backend, 10)),
                _status(row),
                Text(f"{row.elapsed_s * 1000:.0f}", justify="right"),
                Text(_size(row.size), justify="right"),
                Text(inert(f"{row.method} {row.target}", 400), no_wrap=True, overflow="ellipsis"),
            )
        dropped = f", {self.queries.dropped} older dropped" if self.queries.dropped else ""
        zone = "UTC" if self.utc else "local"
        table.border_title = f"Queries of this session: {len(self.rows)}{dropped} · newest first · {zone}"
        table.border_subtitle = "y copy as command · r refresh · esc close"

    def action_copy(self) -> None:
        table = self.query_one(Table)
        if not self.rows:
            self.app.notify("no request yet", markup=False)
            return
        row = self.rows[min(table.cursor_row, len(self.rows) - 1)]
        command = as_command(row, self.urls.get(row.backend, ""))
        self.app.copy_to_clipboard(command)
        self.app.notify(inert(f"copied (OSC 52): {command}", 200), markup=False)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
