"""Provides telemetry health per pillar: from the newest datum of each pillar, whether its collector is
OK, stale or missing, and which component of the pod to suspect when it is not (DESIGN §1: every plugin
pod gets a ServiceMonitor, an OTEL sidecar, a log shipper and an eBPF profiler)."""

from __future__ import annotations

from dataclasses import dataclass

from plugintop.analysis import wording

PILLARS = ("metrics", "traces", "logs", "profiles")
BACKEND = {"metrics": "prometheus", "traces": "tempo", "logs": "loki", "profiles": "pyroscope"}
STALE_AFTER_S = {"metrics": 180.0, "traces": 600.0, "logs": 600.0, "profiles": 600.0}
"""Newest datum older than this: stale (scrapes every 15-60 s; spans, lines and profiles come with calls)."""
SUSPECT = {
    "metrics": "is the ServiceMonitor scraping /metrics on port 9090?",
    "traces": "is the OTEL sidecar receiving OTLP on port 4318?",
    "logs": "is the log shipper sending the container's stdout to Loki?",
    "profiles": "is the eBPF profiler running on the pod's node?",
}


@dataclass(frozen=True, slots=True)
class PillarHealth:
    """One pillar: `state` is ok, stale (had data, none lately), missing (none in the lookback) or
    unknown (its backend could not be asked)."""

    pillar: str
    state: str
    age_s: float | None = None
    detail: str = ""
    suspect: str | None = None

    def line(self) -> str:
        """One line for `check` and the screen's strip."""
        age = f"newest {wording.age(self.age_s)} ago" if self.age_s is not None else ""
        parts = [p for p in (age, self.detail) if p]
        text = f"{self.pillar:<9} {self.state.upper():<8} " + ", ".join(parts)
        return text + (f" — {self.suspect}" if self.suspect else "")


def classify(
    pillar: str, newest: float | None, now: float, lookback_s: float, error: str | None = None, detail: str = ""
) -> PillarHealth:
    """The health of `pillar` whose newest datum is at `newest` (None: none in `lookback_s`)."""
    if error is not None:
        return PillarHealth(pillar, "unknown", None, f"{BACKEND[pillar]} not asked: {error}")
    if newest is None:
        quiet = f"nothing in the last {wording.age(lookback_s)}"
        return PillarHealth(pillar, "missing", None, ", ".join(p for p in (quiet, detail) if p), SUSPECT[pillar])
    age = max(0.0, now - newest)
    if age > STALE_AFTER_S[pillar]:
        return PillarHealth(pillar, "stale", age, detail, SUSPECT[pillar])
    return PillarHealth(pillar, "ok", age, detail)


def strip(health: list[PillarHealth]) -> str:
    """The screen's compact strip: `metrics ok 20s · traces STALE 14m · logs ok 3s · profiles MISSING`."""
    out = []
    for h in health:
        state = h.state if h.state == "ok" else h.state.upper()
        age = f" {wording.age(h.age_s)}" if h.age_s is not None else ""
        out.append(f"{h.pillar} {state}{age}")
    return " · ".join(out)
