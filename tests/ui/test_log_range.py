"""The log pane follows the range: a past range shows its own lines under "range", a range ending now
follows; `=` on a line keeps the lines whose field has that value, backspace drops it."""

from __future__ import annotations

import asyncio
import json

from plugintop.ui.app import PlugintopApp
from plugintop.ui.pivot import PivotScreen
from plugintop.ui.widgets.logview import LogView
from tests.ui.harness import NOW, demo_app


async def lines_in(app: PlugintopApp, want: str) -> LogView:
    """Waits for the log pane's worker to be done reading (a range) or to show `want` in its title."""
    view = app.query_one("#logs", LogView)
    for _ in range(300):
        if want in str(view.border_title) and view.count:
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"log pane never showed {want!r}: {view.border_title}")


def stamps(view: LogView) -> list[int]:
    return [item.ts_ns for i in range(view.count) if (item := view.item(i)) is not None]


async def test_a_past_range_shows_its_lines_and_R_follows_again() -> None:
    with demo_app() as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(app.triage_done.wait(), 60)
            view = await lines_in(app, "following")
            assert min(stamps(view)) >= (NOW - 300) * 1e9  # live: from the last five minutes
            await pilot.press("left_square_bracket")  # the range half a range earlier: it ends 30 min ago
            view = await lines_in(app, "range ")
            for _ in range(200):
                if "reading" not in str(view.border_title):
                    break
                await asyncio.sleep(0.05)
            lo, hi = app.view.range.start, app.view.range.end
            got = stamps(view)
            assert "following" not in str(view.border_title) and "reading" not in str(view.border_title)
            assert got and lo * 1e9 <= min(got) and max(got) < hi * 1e9 and got == sorted(got)
            await pilot.press("R")
            view = await lines_in(app, "following")
            await pilot.press("R")


async def test_a_field_of_a_line_becomes_a_filter_and_backspace_drops_it() -> None:
    with demo_app() as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(app.triage_done.wait(), 60)
            view = await lines_in(app, "following")
            view.focus()
            await pilot.press("end", "equals_sign")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PivotScreen)
            field, value = next((k, v) for k, v in screen.fields if k == "tool")
            pick = [k for k, _ in screen.fields].index(field)
            await pilot.press(*["down"] * pick, "enter")
            view = await lines_in(app, f"tool={value}")
            assert app.view.pivots == (("tool", value),)
            assert all(json.loads(item.line)["tool"] == value for i in range(view.count) if (item := view.item(i)))
            view.focus()
            await pilot.press("backspace")
            await pilot.pause()
            assert not app.view.pivots
