"""Provides `FindingsView`: every finding of the range, most severe first (the verdict is the first), with
the highlighted one's evidence and log patterns beneath; `enter` re-targets the screen to its tool and
window. Beneath it, the attributes that separate the highlighted finding's calls: `enter` on one holds the
slow spans and the log pane to it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from plugintop.analysis import wording
from plugintop.analysis.model import AttributeLift, Finding, TriageResult
from plugintop.present import why
from plugintop.ui.format import hhmm, safe
from plugintop.ui.widgets.table import Table


def _plain(text: str, limit: int) -> str:
    """The why block's untrusted parts as they are: `safe` makes the whole line inert when it is shown."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


EMPTY = {
    "running": "the triage is still running",
    "healthy": "no finding: nothing crossed a line",
    "incident": "",
    "unknown": "no finding, and the verdict is unknown",
    "no_data": "no finding: no data to judge",
}
"""What the pane says without a finding, by the verdict's state (never "nothing crossed a line" unless healthy)."""


class FindingsView(Vertical):
    """The findings list and the evidence of the highlighted finding."""

    title = "Findings"

    @dataclass
    class FindingChosen(Message):
        """`enter` on a finding: every pane to its tool and window."""

        finding: Finding

    @dataclass
    class AttributeChosen(Message):
        """`enter` on an attribute that separates a finding's calls: the slow spans and logs held to it."""

        finding: Finding
        lift: AttributeLift

    def compose(self) -> ComposeResult:
        yield Table(id="findingtable")
        yield Table(id="attrtable")
        with VerticalScroll(id="evidencebox"):
            yield Static(id="evidence")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#findingtable", DataTable)
        for label in ("#", "kind", "tool", "window", "×", "cause"):
            table.add_column(label)
        attrs: DataTable[Text] = self.query_one("#attrtable", DataTable)
        for label in ("separates the calls (enter holds the spans and logs to it)", "calls", "rest", "lift"):
            attrs.add_column(label)
        self.lifts: list[AttributeLift] = []
        self.findings: list[Finding] = []
        self.utc = False
        self.empty = EMPTY["running"]

    def show(self, r: TriageResult, utc: bool = False) -> None:
        table = self.query_one("#findingtable", Table)
        self.utc = utc
        self.findings = list(r.findings)
        state = r.verdict.state if r.verdict else "running"
        self.empty = EMPTY.get(state, "")
        if r.verdict is not None and state in ("unknown", "no_data"):
            self.empty += f": {r.verdict.summary}"
        self.title = f"Findings ({len(self.findings)}) · verdict {state.replace('_', ' ')}"
        rows: list[tuple[str | None, list[Text]]] = []
        for i, f in enumerate(self.findings):
            scope = f.scope + (f" {f.version}" if f.version else "")
            rows.append(
                (
                    None,
                    [
                        Text(str(i + 1)),
                        Text(f.kind.upper(), style="bold" if i == 0 else ""),
                        safe(f.tool, 24),
                        Text(f"{hhmm(f.start, utc)}–{hhmm(f.end, utc)}"),
                        Text(wording.times(f.severity)),
                        safe(f"{f.cause} ({scope})", 30),
                    ],
                )
            )
        table.fill(rows)  # a new phase keeps the choice (the cursor's row)
        self._evidence(table.cursor_row)

    def _attributes(self, f: Finding | None) -> None:
        table: DataTable[Text] = self.query_one("#attrtable", DataTable)
        lifts = list(f.explain.attributes) if f is not None and f.explain is not None else []
        if lifts == self.lifts:
            return
        self.lifts = lifts
        table.clear()
        for a in lifts:
            table.add_row(
                safe(f"{a.attribute} {a.value}" if a.numeric else f"{a.attribute}={a.value}", 60),
                Text(f"{a.share:.0%}"),
                Text(f"{a.baseline_share:.0%}"),
                Text(wording.times(a.lift)),
            )
        table.set_class(bool(lifts), "-shown")

    def _evidence(self, row: int) -> None:
        box = self.query_one("#evidence", Static)
        self._attributes(self.findings[row] if 0 <= row < len(self.findings) else None)
        if not 0 <= row < len(self.findings):
            box.update(Text(self.empty if not self.findings else "", style="dim"))
            return
        t = Text()
        f = self.findings[row]
        for line in wording.evidence_lines(f, self.utc):
            t.append("· ")
            t.append_text(safe(line, 300))
            t.append("\n")
        if f.explain is not None:
            t.append("why\n", style="bold")
            for line in why.lines(f.explain, _plain, self.utc):
                t.append("  ")
                t.append_text(safe(line, 300))
                t.append("\n")
        box.update(t)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table.id == "findingtable":
            self._evidence(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "attrtable":
            row = self.query_one("#findingtable", DataTable).cursor_row
            if 0 <= event.cursor_row < len(self.lifts) and 0 <= row < len(self.findings):
                self.post_message(self.AttributeChosen(self.findings[row], self.lifts[event.cursor_row]))
        elif 0 <= event.cursor_row < len(self.findings):
            self.post_message(self.FindingChosen(self.findings[event.cursor_row]))
