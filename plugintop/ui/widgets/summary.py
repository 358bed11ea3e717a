"""Provides `Summary`: the header lines — who and when, the SLO strip, the verdict and breadcrumbs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from plugintop.analysis.health import PillarHealth, strip
from plugintop.analysis.model import TriageResult
from plugintop.analysis.slo import slo_state
from plugintop.analysis.wording import verdict_line
from plugintop.ui.format import hhmm, pct, safe
from plugintop.ui.keys import PANES

if TYPE_CHECKING:
    from plugintop.ui.state import View

STATE_MARKS = {"incident": "▶ ", "healthy": "✓ ", "unknown": "? ", "no_data": "∅ "}


class Summary(Static):
    """Title, SLO strip and verdict; each marker carries meaning without colour."""

    def show(
        self,
        r: TriageResult | None,
        context: str,
        crumbs: list[str],
        status: str = "",
        insecure: bool = False,
        health: list[PillarHealth] | None = None,
        utc: bool = True,
        failure: str = "",
        progress: str = "",
        replay: float | None = None,
    ) -> None:
        """The header; `failure`: why the triage stopped before its verdict (shown instead of "running");
        `progress`: how long the triage has run and what it waits for; `replay`: when the bundle shown
        was saved."""
        t = Text(no_wrap=True, overflow="ellipsis")
        if replay is not None:
            day = datetime.fromtimestamp(replay, tz=UTC if utc else None).strftime("%Y-%m-%d %H:%M")
            t.append(f"REPLAY saved {day} {'UTC' if utc else 'local'} ", style="reverse bold")
            t.append(" ")
        if r is not None:
            t.append("plugintop ", style="bold")
            t.append_text(safe(r.plugin, 30, "bold"))
            t.append(" › ")
            t.append_text(safe(r.tenant, 30, "bold"))
            zone = "UTC" if utc else "local"
            t.append(
                f"  {hhmm(r.start, utc)}–{hhmm(r.end, utc)} {zone} ({(r.end - r.start) / 3600:.3g}h)  ctx {context}"
            )
            if health:
                t.append("  ")
                self._health(t, health)
            if insecure:
                t.append("  TLS NOT VERIFIED", style="bold red")
            t.append(f"  {status}" if status else "", style="dim")
            t.append("\n")
            s = r.slo
            if s is not None:
                if s.alerts_firing:
                    t.append_text(safe("● " + ", ".join(s.alerts_firing) + " firing  ", 120, "bold red"))
                state = slo_state(s)
                t.append(f"SLO {state} ", style="bold" if state != "ok" else "")
                t.append(f"{pct(s.success_ratio_30d, 2)} ({pct(s.target, 1)})  burn ")
                for i, (k, b) in enumerate(s.burn_rate.items()):
                    t.append(" · " if i else "")
                    t.append(f"{k} {b:.1f}×" + ("!" if b >= 1 else ""), style="bold red" if b >= 1 else "")
                if not s.burn_rate:
                    t.append("-")
                if s.llm_spend_1d_usd is not None and s.daily_budget_usd:
                    t.append(f"  LLM ${s.llm_spend_1d_usd:.2f} of ${s.daily_budget_usd:.0f} today")
            elif r.verdict is not None:
                t.append("SLO unknown: Prometheus did not answer", style="bold")
            else:
                t.append("SLO unknown: waiting for Prometheus…", style="dim")
            t.append("\n")
            v = r.verdict
            if v is not None:
                t.append(STATE_MARKS.get(v.state, "? "), style="bold")
                head = [v.state.upper().replace("_", " ")]
                if v.state == "incident":
                    head += [v.cause, v.scope + (f" {v.version}" if v.version else "")]  # the summary names the tool
                t.append(" · ".join(head[:1]) + " · ", style="bold" if v.state != "healthy" else "")
                if len(head) > 1:
                    t.append_text(safe(" · ".join(head[1:]), 80))
                    t.append(" · ")
                t.append_text(safe(verdict_line(v, r.findings[0] if r.findings else None, utc), 200))
                if v.unchecked:
                    t.append(" · unchecked: ")
                    t.append_text(safe("; ".join(v.unchecked), 160, "dim"))
                if v.state == "no_data" and (r.known_tenants or r.known_plugins):
                    t.append(" · known: ")
                    t.append_text(safe(", ".join((r.known_tenants or r.known_plugins)[:12]), 160))
            elif failure:
                t.append_text(safe(f"✗ triage stopped: {failure}", 200, "bold"))
            else:
                t.append("… triage running", style="dim")
                if progress:
                    t.append_text(safe(f" {progress}", 120, "dim"))
            t.append("\n")
        t.append_text(safe(" › ".join(crumbs), 200, "italic"))
        self.update(t)

    @staticmethod
    def _health(t: Text, health: list[PillarHealth]) -> None:
        """The telemetry strip: one word while every pillar is fresh, each unwell pillar named otherwise."""
        unwell = [h for h in health if h.state != "ok"]
        if not unwell:
            t.append("telemetry ✓")
            return
        t.append("telemetry ", style="bold")
        t.append(strip(unwell), style="bold")


def crumbs(v: View, r: TriageResult | None) -> list[str]:
    """The breadcrumbs under the verdict: tool › window › attribute › trace › span › reproduce mode."""
    w = r.slow_window if r else None
    out = [v.tool or (w.tool if w else "all tools")]
    if v.window:
        out.append(f"window {hhmm(v.window[0], v.utc)}–{hhmm(v.window[1], v.utc)}")
    elif w:
        out.append(f"window {hhmm(w.start, v.utc)}–{hhmm(w.end, v.utc)}")
    if v.attribute:
        out.append(v.attribute_text)
    if v.trace_id:
        out.append(f"trace {v.trace_id[:12]}…")
    if v.span:
        out.append(v.span)
    if v.reproducing:
        out.append(v.repro_note)
    return out


def tabs(active: str) -> Text:
    """The narrow layout's pane strip: `[1 Percentiles] 2 Spans 3 Trace 4 Flame 5 Cost` (the shown one
    bracketed and bold, so it reads without colour)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    for i, name in enumerate(PANES[:5]):  # 6 (business) is in the cost pane
        label = f"{i + 1} {name.capitalize()}"
        if name == active:
            t.append(f"[{label}]", style="bold reverse")
        else:
            t.append(f" {label} ", style="dim")
        t.append(" ")
    return t
