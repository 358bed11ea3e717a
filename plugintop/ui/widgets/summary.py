"""Provides `Summary`: the header lines — who and when, the SLO strip, the verdict and breadcrumbs."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from plugintop.analysis.model import TriageResult
from plugintop.ui.format import hhmm, pct, safe, secs


class Summary(Static):
    """Title, SLO strip and verdict; each marker carries meaning without colour."""

    def show(
        self, r: TriageResult | None, context: str, crumbs: list[str], status: str = "", insecure: bool = False
    ) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        if r is not None:
            t.append("plugintop ", style="bold")
            t.append_text(safe(r.plugin, 30, "bold"))
            t.append(" › ")
            t.append_text(safe(r.tenant, 30, "bold"))
            t.append(f"  {hhmm(r.start)}–{hhmm(r.end)} UTC ({(r.end - r.start) / 3600:.3g}h)  ctx {context}")
            if insecure:
                t.append("  TLS NOT VERIFIED", style="bold red")
            t.append(f"  {status}" if status else "", style="dim")
            t.append("\n")
            s = r.slo
            if s is not None:
                if s.alerts_firing:
                    t.append("● " + ", ".join(s.alerts_firing) + " firing  ", style="bold red")
                t.append(f"SLO ok {pct(s.success_ratio_30d, 2)} ({pct(s.target, 1)})  burn ")
                t.append(" · ".join(f"{k} {v:.1f}×" for k, v in s.burn_rate.items()) or "-")
                if s.llm_spend_1d_usd is not None and s.daily_budget_usd:
                    t.append(f"  LLM ${s.llm_spend_1d_usd:.2f} of ${s.daily_budget_usd:.0f} today")
            else:
                t.append("SLO: waiting for Prometheus…", style="dim")
            t.append("\n")
            v = r.verdict
            if v is not None:
                marker = "▶ " if v.cause != "none" else "✓ "
                t.append(marker, style="bold")
                t.append(f"{v.cause.upper()} · {v.scope} · ", style="bold" if v.cause != "none" else "")
                t.append_text(safe(v.summary, 200))
                w = r.slow_window
                if w is not None:
                    t.append(f" · {hhmm(w.start)}–{hhmm(w.end)} p99 {secs(w.p99_s)}")
                if v.evidence:
                    t.append(" · ")
                    t.append_text(safe(v.evidence[-1], 120, "dim"))
            else:
                t.append("… triage running", style="dim")
            t.append("\n")
        t.append_text(safe(" › ".join(crumbs), 200, "italic"))
        self.update(t)
