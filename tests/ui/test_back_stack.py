"""`esc` pops exactly what the last key pushed (issue 30): the view's back stack, tested first without a
pilot, then along the paths a user takes, each of which comes back to following the present."""

from __future__ import annotations

from dataclasses import replace

from plugintop.timerange import TimeRange
from plugintop.ui.state import BACK_DEPTH, View
from plugintop.ui.widgets.logview import LogView
from tests.ui.harness import ready, started, until

NOW = 1_796_000_000.0  # today's epoch (2026-12)
HOME = View(range=TimeRange(NOW - 3600, NOW))


def test_each_step_restores_only_what_it_changed() -> None:
    finding = HOME.pushed(tool="recommend_courses", window=(NOW - 1800, NOW - 900), live_for=None)
    flame = replace(finding.pushed(pane="flame", detail="flame"), utc=True)  # `u` is no step
    assert flame.back == ((("tool", None), ("window", None)), (("pane", "percentiles"), ("detail", "trace")))
    back_once = flame.popped()
    assert (back_once.pane, back_once.detail, back_once.tool) == ("percentiles", "trace", "recommend_courses")
    assert back_once.utc, "esc undoes the step, not a toggle made after it"
    home = back_once.popped()
    assert replace(home, utc=False) == HOME and home.popped() is home


def test_a_key_that_changes_nothing_pushes_no_step_and_the_stack_is_bounded() -> None:
    assert HOME.pushed(pane="percentiles", tool=None) is HOME
    view = HOME
    for i in range(BACK_DEPTH + 10):
        view = view.pushed(range=TimeRange(NOW - 3600 - i - 1, NOW - i - 1))
    assert len(view.back) == BACK_DEPTH


def following(logs: LogView) -> bool:
    return str(logs.border_title).find("following") >= 0


async def test_esc_walks_back_key_by_key_to_following_the_present() -> None:
    async with started((160, 48)) as (app, pilot):
        home, logs = app.view, app.query_one("#logs", LogView)
        await until(lambda: following(logs))
        await pilot.press("F")
        await pilot.pause()
        app.triage_done.clear()
        await pilot.press("enter")  # the top finding: every pane to its tool and window
        await ready(app)
        assert app.view.window is not None and app.view.tool is not None
        await until(lambda: not following(logs))
        await pilot.press("escape")  # undoes enter: the finding's tool and window
        await pilot.pause()
        after = app.view
        assert (after.tool, after.window, after.detail) == (None, None, "findings")
        await pilot.press("escape")  # undoes F
        await pilot.pause()
        assert (app.view.pane, app.view.detail) == ("percentiles", "trace")
        await until(lambda: following(logs))
        await pilot.press("[")  # half a range back
        await pilot.pause()
        assert app.view.range != home.range
        await until(lambda: not following(logs))
        await pilot.press("escape")  # undoes [: the range that ends now, followed again
        await pilot.pause()
        assert app.view.range == home.range and not app.view.back
        await until(lambda: following(logs))
        assert app.view.target == home.target and app.view.logs_target == home.logs_target


async def test_esc_after_opening_a_span_goes_back_to_the_spans_and_the_triage_s_trace() -> None:
    async with started((160, 48)) as (app, pilot):
        r = app.result
        assert r is not None and r.trace is not None and len(r.spans) > 1
        await pilot.press("2", "j", "enter")  # a slow span's trace other than the triage's
        opened = r.spans[1].trace_id
        assert opened != r.trace.trace_id
        await until(lambda: app.view.trace_id == opened and app.view.trace_note == "")
        assert app.view.pane == "trace" and app.focused is not None and app.focused.id == "waterfall"
        await pilot.press("escape")
        await until(lambda: app.view.trace_id == r.trace.trace_id if r.trace else False)
        assert app.view.pane == "spans" and app.focused is not None and app.focused.id == "spantable"
        await pilot.press("escape")  # undoes 2
        await pilot.pause()
        assert app.view.pane == "percentiles" and app.focused is not None and app.focused.id == "tools"
