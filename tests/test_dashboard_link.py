"""The Grafana hand-off: with a Grafana URL and the platform's dashboard uid in the context, the report and
the help link to the "Plugin Overview" dashboard for the same plugin, tenant and absolute range."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from plugintop.analysis.model import TriageResult
from plugintop.config.context import context_from
from plugintop.present.commands import dashboard_link
from plugintop.report import render

START, END = 1_800_000_000.0, 1_800_003_600.0


def test_the_link_carries_plugin_tenant_and_the_range_encoded() -> None:
    link = dashboard_link("https://g.example.com/", "plugin-overview", "recommender", 'a&b=c"#x', START, END)
    u = urlsplit(link)
    assert (u.scheme, u.netloc, u.path) == ("https", "g.example.com", "/d/plugin-overview")
    q = parse_qs(u.query)
    assert q == {
        "var-plugin": ["recommender"],
        "var-tenant": ['a&b=c"#x'],
        "from": [str(int(START * 1000))],
        "to": [str(int(END * 1000))],
    }


def test_every_format_links_the_dashboard_only_when_both_are_configured() -> None:
    r = TriageResult("recommender", "acme", START, END)
    link = dashboard_link("https://g", "po", "recommender", "acme", START, END)
    assert json.loads(render(r, "json", None, "https://g", 80, "po"))["dashboard"] == link
    assert link in render(r, "markdown", None, "https://g", 80, "po")
    assert link in render(r, "text", None, "https://g", 80, "po")
    assert "dashboard" not in json.loads(render(r, "json", None, "https://g", 80, None))
    assert "/d/" not in render(r, "text", None, None, 80, "po")


def test_the_context_reads_the_dashboard_uid() -> None:
    ctx = context_from({"grafana": {"url": "https://g", "dashboard_uid": "plugin-overview"}})
    assert ctx.grafana is not None and ctx.grafana.dashboard_uid == "plugin-overview"
