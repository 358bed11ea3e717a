"""Provides `View`, what the screen looks at, held in one place (the app's `view` reactive): the header,
every title, the footer and `y` read it, and a change to it re-targets the panes that depend on what
changed. Also the typed messages the workers post instead of touching widgets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.message import Message

from plugintop.analysis.health import PillarHealth
from plugintop.analysis.model import SpanSample, TraceAnalysis, TriageResult
from plugintop.ids import TraceId
from plugintop.timerange import TimeRange
from plugintop.triage.request import Focus

Step = tuple[tuple[str, object], ...]
"""What one key changed in the view, as it was before: the fields and their old values."""

BACK_DEPTH = 64
"""How many steps `esc` can walk back."""


@dataclass(frozen=True, slots=True)
class View:
    """What the screen looks at. Actions replace it; `PlugintopApp.watch_view` does the rest."""

    range: TimeRange
    tool: str | None = None
    """The tool chosen (None: the triage's slow tool, or all)."""
    window: tuple[float, float] | None = None
    """A finding's window the panes look at (None: the range's slow window)."""
    attribute: tuple[str, str, bool] | None = None
    """Only the slow spans with this span attribute (name, value, numeric band): `enter` on one of a
    finding's "why"."""
    pane: str = "percentiles"
    """The active pane (the one shown at 80 columns)."""
    detail: str = "trace"
    """What the detail pane shows: `trace`, `flame` or `findings`."""
    trace_id: TraceId | None = None
    """The trace on screen (what `y` copies), not necessarily the triage's."""
    trace_note: str = ""
    """`loading`, `not opened` or "" (loaded)."""
    span: str | None = None
    """The span selected in the waterfall."""
    pivots: tuple[tuple[str, str], ...] = ()
    """Fields of the log lines that must have a value (`=` on a line adds one, backspace drops one)."""
    reproducing: bool = False
    repro_note: str = ""
    new_spans: tuple[SpanSample, ...] = ()
    """Reproduce mode's finds: the slow spans new since it started, newest first, listed above the triage's
    (kept when it stops, dropped when the range moves)."""
    loading: bool = False
    progress: str = ""
    """While the triage runs: how long, and which backend it waits for ("12 s · waiting for prometheus 9 s
    of 30 s"): a hung backend is named, and given up at its limit."""
    triage_error: str = ""
    """Why the last triage stopped before its verdict (an unexpected failure), shown on the header."""
    utc: bool = False
    """Times in UTC (`u`), else local time."""
    live_for: tuple[TimeRange, tuple[float, float] | None] | None = None
    """The (range, window) for which the log pane follows the present whatever the other panes look at
    (`G`): another range or window ends it, with nothing to reset."""
    back: tuple[Step, ...] = ()
    """The back stack: what each key that moved the focus replaced, newest last; `esc` restores it."""

    def pushed(self, **changes: object) -> View:
        """The view with `changes`, a step that `popped` undoes (no step when nothing changes)."""
        step = tuple((name, getattr(self, name)) for name, value in changes.items() if getattr(self, name) != value)
        if not step:
            return self
        return replace(self, **changes, back=(*self.back, step)[-BACK_DEPTH:])  # type: ignore[arg-type]

    def popped(self) -> View:
        """The view as it was before the newest step (itself when there is none)."""
        if not self.back:
            return self
        *rest, step = self.back
        return replace(self, **dict(step), back=tuple(rest))  # type: ignore[arg-type]

    @property
    def focus(self) -> Focus:
        """What the triage's panes are re-targeted to (never its verdict or findings)."""
        return Focus(tool=self.tool, window=self.window, attribute=self.attribute)

    @property
    def logs_live(self) -> bool:
        return self.live_for == (self.range, self.window)

    @property
    def target(
        self,
    ) -> tuple[TimeRange, str | None, tuple[float, float] | None, tuple[str, str, bool] | None]:
        """What the triage depends on."""
        return self.range, self.tool, self.window, self.attribute

    @property
    def attribute_text(self) -> str:
        """The attribute the slow spans are held to, as `name=value` ("" for none); untrusted text."""
        a = self.attribute
        return "" if a is None else f"{a[0]} {a[1]}" if a[2] else f"{a[0]}={a[1]}"

    @property
    def logs_target(self) -> tuple[TimeRange, tuple[float, float] | None, tuple[tuple[str, str], ...], bool]:
        """What the log pane depends on."""
        return self.range, self.window, self.pivots, self.logs_live


@dataclass
class TriageLanded(Message):
    """A phase of triage run `seq` landed (`final`: the last one)."""

    seq: int
    result: TriageResult
    final: bool = False


@dataclass
class TraceLoaded(Message):
    """A trace was opened (`trace`), or could not be (`error`)."""

    trace_id: TraceId
    trace: TraceAnalysis | None
    error: str = ""


@dataclass
class HealthLanded(Message):
    """Each pillar's newest datum."""

    health: list[PillarHealth]


@dataclass
class SlowSpansFound(Message):
    """Reproduce mode: new slow spans since it started (may be none), and what it watches for."""

    spans: list[SpanSample]
    note: str
    error: str = ""
