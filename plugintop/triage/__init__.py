"""The triage: the one orchestrator between the clients and the analysis (DESIGN §3)."""

from plugintop.triage.calls import analyse_trace
from plugintop.triage.request import Focus, TriageRequest, rate_window
from plugintop.triage.run import Triage

__all__ = ["Focus", "Triage", "TriageRequest", "analyse_trace", "rate_window"]
