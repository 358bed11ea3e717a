"""The screen keeps its word while you move around: the verdict belongs to the tenant and the range, never to
the tool the panes look at; only the log pane's own input filters it; its clock is the header's."""

from __future__ import annotations

import re
import time

import pytest
from textual.widgets import DataTable, Input, Static

from plugintop.ui.app import PlugintopApp
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.summary import Summary
from tests.ui.harness import ready, started


def header(app: PlugintopApp) -> str:
    return str(app.query_one(Summary).render())


async def test_choosing_another_tool_keeps_the_incident() -> None:
    async with started((160, 48)) as (app, pilot):
        assert app.result is not None and app.result.verdict is not None
        assert app.result.verdict.state == "incident" and "INCIDENT" in header(app)
        findings = [(f.kind, f.tool) for f in app.result.findings]
        table: DataTable[object] = app.query_one("#tools", DataTable)
        other = next(str(k.value) for k in table.rows if k.value != app.result.verdict.tool)
        await pilot.press("1")
        table.move_cursor(row=table.get_row_index(other))
        await pilot.press("enter")
        await pilot.pause()
        assert app.view.tool == other
        await ready(app)
        await pilot.pause()
        assert app.result.verdict is not None and app.result.verdict.state == "incident", header(app)
        assert "INCIDENT" in header(app) and "HEALTHY" not in header(app)
        assert [(f.kind, f.tool) for f in app.result.findings] == findings
        assert app.result.spans and {sp.tool for sp in app.result.spans} == {other}  # the panes moved


async def test_text_typed_into_the_trace_prompt_is_no_log_filter() -> None:
    async with started((160, 48)) as (app, pilot):
        logs = app.query_one("#logs", LogView)
        before = logs.count
        assert before > 0
        await pilot.press("T", "z", "z", "z")
        await pilot.pause()
        prompt = app.screen.query_one(Input)
        assert prompt.id != "filter" and prompt.value == "zzz"
        assert logs.count == before, "the trace-id prompt's text filtered the log pane"
        await pilot.press("escape")
        await pilot.pause()
        assert logs.count == before and app.query_one("#filter", Input).value == ""


async def test_the_log_lines_keep_the_headers_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")  # local time 5 hours from UTC: the two clocks differ
    time.tzset()
    async with started((160, 48)) as (app, pilot):
        logs = app.query_one("#logs", LogView)
        line = logs.format(logs.item(0)).text  # type: ignore[arg-type]
        from plugintop.ui.format import hhmmss

        ts = logs.item(0).ts_ns / 1e9  # type: ignore[union-attr]
        assert line.startswith(hhmmss(ts, utc=True))  # the harness shows UTC
        await pilot.press("u")
        await pilot.pause()
        assert app.view.utc is False
        line = logs.format(logs.item(0)).text  # type: ignore[arg-type]
        assert line.startswith(hhmmss(ts, utc=False)), "u turned the header to local time, not the log lines"


@pytest.fixture(autouse=True)
def _zone_back() -> object:
    yield
    time.tzset()  # after monkeypatch restored TZ


async def fits_whole(app: PlugintopApp, pane: str, table_id: str, needed: tuple[str, ...]) -> list[str]:
    """Asserts the pane's table fits its pane, keeps the `needed` columns and cuts no cell; its columns."""
    table: DataTable[object] = app.query_one(table_id, DataTable)
    room = app.query_one(pane).content_region.width
    used = sum(c.get_render_width(table) for c in table.columns.values())
    labels = [str(c.label) for c in table.columns.values()]
    assert used <= room, f"{app.size.width} columns: {table_id} needs {used} cells of {room} ({labels})"
    assert set(needed) <= set(labels), labels
    for row in range(table.row_count):
        for col, cell in zip(table.columns.values(), table.get_row_at(row), strict=True):
            assert len(str(cell)) <= col.content_width, f"{app.size.width} columns: {cell} cut in {col.label}"
    return labels


async def test_the_percentiles_table_drops_columns_whole_at_every_width() -> None:
    async with started((160, 48)) as (app, pilot):
        for width in (60, 80, 100, 120, 130, 140, 160, 200, 240):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
            await pilot.pause()
            labels = await fits_whole(app, "#percentiles", "#tools", ("p99", "tool"))
        assert len(labels) == 7  # at 240 columns, every one


async def test_g_follows_the_present_again_from_a_findings_window() -> None:
    async with started((160, 48)) as (app, pilot):
        logs = app.query_one("#logs", LogView)
        await pilot.press("F", "enter")
        await pilot.pause()
        assert app.view.window is not None
        await pilot.pause(0.5)
        assert logs.mode.startswith("range"), logs.mode
        logs.focus()
        await pilot.press("G")
        await pilot.pause(0.5)
        assert logs.mode.startswith("following"), logs.mode
        assert app.view.window is not None  # the other panes still look at the finding
        await pilot.press("F", "enter")  # a new window: the pane reads it again
        await pilot.pause(0.5)
        assert logs.mode.startswith("range"), logs.mode


async def test_with_prometheus_down_no_pane_says_nothing_crossed_or_no_data() -> None:
    async with started((160, 48), break_backend="prometheus") as (app, pilot):
        assert app.result is not None and app.result.verdict is not None
        assert app.result.verdict.state == "unknown"
        await pilot.press("F")
        await pilot.pause()
        evidence = str(app.query_one("#evidence", Static).render())
        assert "nothing crossed" not in evidence and "unknown" in evidence, evidence
        chart = str(app.query_one("#chart", Static).render())
        assert "prometheus" in chart and "no data for this plugin" not in chart, chart


async def test_the_verdict_line_and_the_why_keep_the_headers_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")  # 5 hours from UTC: the two clocks differ
    time.tzset()
    async with started((200, 50)) as (app, pilot):
        from datetime import UTC, datetime

        from plugintop.ui.widgets.findings import FindingsView

        assert app.result is not None and app.result.verdict is not None and app.result.verdict.window
        start, end = app.result.verdict.window
        utc_text = f"{datetime.fromtimestamp(start, UTC):%H:%M}-{datetime.fromtimestamp(end, UTC):%H:%M}Z"
        local_text = f"{datetime.fromtimestamp(start):%H:%M}-{datetime.fromtimestamp(end):%H:%M} ("
        assert utc_text in header(app) and "UTC" in header(app)  # the harness starts in UTC
        await pilot.press("u")
        await pilot.pause()
        assert "local" in header(app)
        assert local_text in header(app) and utc_text not in header(app), header(app)
        await pilot.press("F")
        await pilot.pause()
        why = str(app.query_one(FindingsView).query_one("#evidence", Static).render())
        assert "since " in why and not re.search(r"\d\d:\d\dZ", why), why


async def test_y_says_what_it_copied() -> None:
    async with started((160, 48)) as (app, pilot):
        assert app.view.trace_id is not None
        await pilot.press("y")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert app.clipboard == app.view.trace_id
        assert any(f"copied trace id {app.view.trace_id}" in m for m in said), said


async def test_a_later_phase_keeps_the_waterfalls_selection() -> None:
    async with started((160, 48)) as (app, pilot):
        from plugintop.ui.widgets.waterfall import Waterfall

        wf = app.query_one(Waterfall)
        assert app.result is not None and app.result.trace is not None and wf.trace is app.result.trace
        wf.focus()
        await pilot.press("j", "j")
        await pilot.pause()
        assert wf.cursor == 2
        app.show(app.result)  # what each phase of a triage does with its result
        await pilot.pause()
        assert wf.cursor == 2, "a phase of the same triage sent the waterfall's selection back to the top"


async def test_the_slow_spans_table_drops_columns_whole_at_every_width() -> None:
    async with started((160, 48)) as (app, pilot):
        for width in (80, 100, 120, 130, 140, 160, 200):
            await pilot.resize_terminal(width, 40)
            await pilot.press("2")  # the spans pane shown (the narrow layout shows one pane)
            await pilot.pause()
            await pilot.pause()
            await fits_whole(app, "#spans", "#spantable", ("duration", "trace"))
