"""Provides `plugintop report`: the triage as JSON (DESIGN §4), text for a terminal, or markdown for an
incident channel, and its exit status."""

from __future__ import annotations

from plugintop.analysis.model import TriageResult
from plugintop.present.commands import commands, dashboard_link, explore_link
from plugintop.report.jsonout import no_nan, to_json
from plugintop.report.markdown import to_markdown
from plugintop.report.text import to_text
from plugintop.textsafe import json_text

EXIT_OK, EXIT_NO_DATA, EXIT_USAGE, EXIT_ALL_FAILED = 0, 1, 2, 3
BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")

__all__ = ["commands", "exit_code", "explore_link", "render", "render_json", "to_json", "to_markdown", "to_text"]


def exit_code(r: TriageResult) -> int:
    """0 report made, 1 no data for that plugin/tenant, 3 every backend failed."""
    failed = {e.backend for e in r.errors}
    if all(b in failed for b in BACKENDS):
        return EXIT_ALL_FAILED
    if r.verdict is not None and r.verdict.state == "no_data" or not r.has_data:
        return EXIT_NO_DATA
    return EXIT_OK


def render(
    r: TriageResult,
    fmt: str,
    urls: dict[str, str] | None = None,
    grafana_url: str | None = None,
    width: int = 80,
    dashboard_uid: str | None = None,
    requests: list[dict[str, object]] | None = None,
) -> str:
    """The report in `json`, `markdown` or `text` (at most `width` columns, 80 or more); with a Grafana URL
    and the platform's dashboard uid, a link to that dashboard for the same range. The JSON lists
    `requests` (the query log's rows) when given."""
    dashboard = (
        dashboard_link(grafana_url, dashboard_uid, r.plugin, r.tenant, r.start, r.end)
        if grafana_url and dashboard_uid
        else None
    )
    if fmt == "json":
        return json_text(render_json(r, dashboard, requests))
    if fmt == "markdown":
        return to_markdown(r, urls, grafana_url, dashboard)
    text = to_text(r, max(80, width))
    return text + (f"\nGRAFANA  {dashboard}\n" if dashboard else "")


def render_json(
    r: TriageResult, dashboard: str | None = None, requests: list[dict[str, object]] | None = None
) -> dict[str, object]:
    """The report's JSON object (NaN and ±Inf as null), with the dashboard link and `requests` when given."""
    doc = to_json(r)
    if dashboard:
        doc["dashboard"] = dashboard
    if requests is not None:
        doc["requests"] = requests
    out: dict[str, object] = no_nan(doc)
    return out
