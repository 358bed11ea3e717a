"""Provides what a triage is asked (`TriageRequest`) and the rate window it uses."""

from __future__ import annotations

from dataclasses import dataclass

from plugintop.timerange import TimeRange, format_duration

DEFAULT_SCRAPE_INTERVAL = 15.0
"""Used only when neither the context nor the server says (and said so in the notes)."""


def rate_window(step: float, scrape: float) -> str:
    """Grafana's `$__rate_interval`: max(step + scrape interval, 4 × scrape interval)."""
    return format_duration(max(step + scrape, 4 * scrape))


@dataclass(frozen=True, kw_only=True)
class Focus:
    """What the screen looks at inside the range. It re-targets the panes (percentiles, spans, trace,
    flame, logs) and never the verdict or the findings, which belong to the tenant and the range."""

    tool: str | None = None
    """Look only at this tool (the screen's selection)."""
    window: tuple[float, float] | None = None
    """Use this window instead of the top finding's (a finding chosen, or the window moved)."""
    attribute: tuple[str, str, bool] | None = None
    """Only the slow spans with this span attribute (name, value, whether the value is a numeric band): the
    screen's `enter` on an attribute of a finding's "why"."""


@dataclass(frozen=True, kw_only=True)
class TriageRequest:
    plugin: str
    tenant: str
    range: TimeRange
    p99_target_s: float | None = None
    """Overrides the context's SLO (`--p99-target`, or the demo scenario's)."""
    focus: Focus = Focus()
    """The screen's focus; the default is the triage's own (the top finding, or the whole range)."""
    deadline_s: float | None = None
    """Stop waiting for backends after this long; what did not answer is listed as unchecked."""
