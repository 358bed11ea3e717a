"""The owner's tools on the screen: the telemetry strip names an unwell pillar, `T` opens a trace by its id,
`6` shows the business table."""

from __future__ import annotations

from plugintop.ui.app import PlugintopApp
from plugintop.ui.prompt import TraceIdPrompt
from plugintop.ui.widgets.summary import Summary
from plugintop.ui.widgets.waterfall import Waterfall
from tests.ui.harness import demo_app, ready, until


async def healthy(app: PlugintopApp) -> None:
    await ready(app, health=True)
    assert app.health, "no health"


async def test_a_backend_down_shows_its_pillar_unknown_in_the_strip() -> None:
    with demo_app(break_backend="pyroscope") as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await healthy(app)
            await pilot.pause()
            states = {h.pillar: h.state for h in app.health}
            assert states == {"metrics": "ok", "traces": "ok", "logs": "ok", "profiles": "unknown"}
            text = str(app.query_one(Summary).render())
            assert "telemetry profiles UNKNOWN" in text


async def test_T_opens_a_trace_by_its_id_and_refuses_what_is_not_one() -> None:
    with demo_app() as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await healthy(app)
            assert app.result is not None and app.result.spans
            wanted = app.result.spans[-1].trace_id
            await pilot.press("T")
            await pilot.pause()
            assert isinstance(app.screen, TraceIdPrompt)
            await pilot.press(*"not-hex", "enter")
            await pilot.pause()
            assert isinstance(app.screen, TraceIdPrompt)  # refused in place
            box = app.screen.query_one("#traceid")
            box.value = wanted.upper()  # type: ignore[attr-defined]
            await pilot.press("enter")
            wf = app.query_one(Waterfall)
            await until(lambda: wf.trace is not None and wf.trace.trace_id == wanted)
            assert app.query_one(Waterfall).trace.trace_id == wanted  # type: ignore[union-attr]


async def test_6_focuses_the_business_table() -> None:
    with demo_app() as app:
        async with app.run_test(size=(80, 24)) as pilot:
            await healthy(app)
            await pilot.press("6")
            await pilot.pause()
            assert app.focused is not None and app.focused.id == "business"
            assert app.query_one("#business").row_count == 1  # type: ignore[attr-defined]
