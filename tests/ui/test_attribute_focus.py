"""`enter` on an attribute of a finding's "why" (the findings view, `F`): the slow spans are the finding's
calls that have it (Tempo's, held to the attribute: an exemplar carries none), the log pane the lines whose
field has that value, the verdict stays; `esc` lets go of the attribute before the finding's tool and window."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from plugintop.demo.scenario import load_scenario
from plugintop.ui.widgets.findings import FindingsView
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.summary import Summary
from tests.ui.harness import ready, started, until

E1 = Path(__file__).parents[1] / "scenarios_public" / "v3" / "e1-model-slow.toml"


async def test_enter_on_an_attribute_holds_the_slow_spans_and_the_logs_to_it() -> None:
    async with started((160, 48), scenario=load_scenario(str(E1)), tenant="globex") as (app, pilot):
        assert app.result is not None and app.result.verdict is not None
        assert app.result.verdict.state == "incident"
        await pilot.press("F")
        await pilot.pause()
        view = app.query_one(FindingsView)
        attrs: DataTable[object] = view.query_one("#attrtable", DataTable)
        assert attrs.display and attrs.row_count >= 1
        first = view.lifts[0]
        assert (first.attribute, first.value) == ("llm.model", "gpt-4o")
        attrs.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.view.attribute == ("llm.model", "gpt-4o", False)
        assert ("llm.model", "gpt-4o") in app.view.pivots
        await ready(app)
        await pilot.pause()
        r = app.result
        assert r.verdict is not None and r.verdict.state == "incident"
        assert any('span.llm.model = "gpt-4o"' in q for q in r.queries.get("tempo", []))
        assert r.spans and all(s.source != "exemplar" for s in r.spans)
        logs = app.query_one("#logs", LogView)
        await until(lambda: logs.count > 0)
        lines = [getattr(row, "line", "") for row in logs.rows if hasattr(row, "line")]
        assert lines and all('"llm.model":"gpt-4o"' in ln.replace(" ", "") for ln in lines), lines[:2]
        header = str(app.query_one(Summary).render())
        assert "INCIDENT" in header and "llm.model=gpt-4o" in header
        assert "llm.model=gpt-4o" in str(app.query_one("#spans").border_title)
        await pilot.press("escape")  # undoes what enter did: the attribute, its log filter and its finding
        await pilot.pause()
        assert app.view.attribute is None and ("llm.model", "gpt-4o") not in app.view.pivots
        assert (app.view.tool, app.view.window) == (None, None) and app.view.detail == "findings"
