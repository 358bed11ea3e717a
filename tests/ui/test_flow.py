"""Pilot tests of the flow: start → select tool → open span → waterfall → flame → back."""

from __future__ import annotations

import asyncio

from msgspec.structs import replace

from plugintop.ui.app import PlugintopApp
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.spans import Spans
from plugintop.ui.widgets.waterfall import Waterfall
from tests.ui.harness import demo_app, until


async def settle(app: PlugintopApp) -> None:
    """Waits for the triage and any trace worker (never on the tail, which runs until the app quits)."""
    await asyncio.wait_for(app.triage_done.wait(), 60)
    trace_workers = [w for w in app.workers if w.group == "trace"]
    await asyncio.wait_for(asyncio.gather(*(w.wait() for w in trace_workers), return_exceptions=True), 60)


async def test_start_fills_every_pane() -> None:
    with demo_app() as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app)
            await pilot.pause()
            r = app.result
            assert r is not None and r.verdict is not None and r.verdict.cause == "llm"
            assert app.query_one("#tools").row_count == 3  # type: ignore[attr-defined]
            assert app.query_one("#spantable").row_count > 0  # type: ignore[attr-defined]
            assert app.query_one(Waterfall).trace is not None
            assert app.query_one("#models").row_count == 1  # type: ignore[attr-defined]
            assert app.query_one(LogView).count > 0


async def test_select_tool_open_span_waterfall_flame_back() -> None:
    with demo_app() as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app)
            await pilot.press("1", "down", "enter")  # select search_catalog
            await settle(app)
            assert app.view.tool == "search_catalog"
            assert app.result is not None and all(s.tool == "search_catalog" for s in app.result.spans)
            await pilot.press("escape")  # back to all tools
            await settle(app)
            assert app.view.tool is None
            await pilot.press("2", "enter")  # open the slowest span
            await settle(app)
            wf = app.query_one(Waterfall)
            assert wf.trace is not None and wf.trace.trace_id == app.result.spans[0].trace_id
            await pilot.press("down", "down", "down", "down", "enter")  # the model-call span's attributes
            await pilot.pause()
            assert "chat" in (app.view.span or "")
            await pilot.press("f")
            assert app.query_one("#detail").current == "flame"
            await pilot.press("escape")
            assert app.query_one("#detail").current == "trace"
            await pilot.press("q")
        assert app.return_value == 0


async def test_one_backend_down_the_others_fill() -> None:
    with demo_app(break_backend="tempo") as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app)
            await pilot.pause()
            assert "tempo" in str(app.query_one("#spans").border_subtitle)
            assert app.query_one("#tools").row_count == 3  # type: ignore[attr-defined]
            assert app.result is not None and app.result.cost is not None


async def test_reproduce_mode_opens_the_first_new_slow_span() -> None:
    from plugintop.demo.scenario import Incident, load_scenario

    ongoing = Incident(tenant="acme", tool="recommend_courses", start="-10m", duration="2h", cause="llm", factor=6.0)
    sc = replace(load_scenario(None), incidents=[ongoing])
    clock = [1_800_000_000.0]
    with demo_app(scenario=sc, clock=clock) as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app)
            before = {s.trace_id for s in app.result.spans}  # type: ignore[union-attr]
            await pilot.press("R")
            await settle(app)
            await pilot.pause()
            assert app.view.reproducing and "reproducing" in app.view.repro_note
            clock[0] += 120  # two minutes of reproduction
            wf = app.query_one(Waterfall)
            await until(lambda: wf.trace is not None and wf.trace.trace_id not in before)
            listed = app.query_one(Spans)._samples.values()
            new = [s for s in listed if s.trace_id not in before]
            assert new and all(s.start >= 1_800_000_000.0 and s.duration_s > 2.0 for s in new)
            assert app.query_one(Waterfall).trace.trace_id == new[0].trace_id  # type: ignore[union-attr]
            await pilot.press("r")  # the triage again: what reproduce mode found stays listed, first
            await settle(app)
            await pilot.pause()
            assert list(app.query_one(Spans)._samples.values())[: len(new)] == new
            await pilot.press("R")
            assert not app.view.reproducing
