"""What the screen says follows what it shows (one `View`): reproduce mode on the header, the filter off with
esc, `t` back to the window's trace, titles after `4` at 80 columns, the whole "from" column, every key in
the footer and `?`, the flame's width, search and selected frame, the chart's axis and error line, and
hostile text in every title."""

from __future__ import annotations

from dataclasses import replace

from textual.content import Content
from textual.widgets import DataTable, Static

from plugintop.ids import TraceId
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.summary import Summary
from plugintop.ui.widgets.waterfall import Waterfall
from tests.hostile import HOSTILE
from tests.ui.harness import demo_app, ready, started, until


def shown(widget: Static) -> str:
    return str(widget.render())


async def test_reproduce_mode_says_so_on_the_header() -> None:
    async with started((160, 48)) as (app, pilot):
        await pilot.press("R")
        await pilot.pause()
        assert "reproducing since" in shown(app.query_one(Summary))
        await pilot.press("R")
        await pilot.pause()
        assert "reproducing" not in shown(app.query_one(Summary))


async def test_moving_the_range_ends_reproduce_mode_and_its_note() -> None:
    async with started((160, 48)) as (app, pilot):
        await pilot.press("R")
        await pilot.pause()
        assert app.view.reproducing and "reproducing since" in shown(app.query_one(Summary))
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert not app.view.reproducing and "reproducing" not in shown(app.query_one(Summary))
        assert all(w.is_cancelled or w.is_finished for w in app.workers if w.group == "reproduce")
        await pilot.press("escape")  # the range back; reproduce mode is a key of its own (R)
        await pilot.pause()
        assert not app.view.reproducing and "reproducing" not in shown(app.query_one(Summary))


async def test_esc_in_the_filter_box_turns_the_filter_off() -> None:
    async with started((160, 48)) as (app, pilot):
        logs = app.query_one(LogView)
        await until(lambda: logs.count > 0)
        await pilot.press("slash", "z", "z", "q")
        await pilot.pause()
        assert logs.filter is not None and "filter zzq" in str(logs.border_title)
        await pilot.press("escape")
        await pilot.pause()
        assert logs.filter is None and "filter" not in str(logs.border_title)


async def test_t_shows_the_window_trace_not_the_last_one_opened() -> None:
    async with started((160, 48)) as (app, pilot):
        r = app.result
        assert r is not None and r.trace is not None and len(r.spans) > 1
        other = next(s.trace_id for s in r.spans if s.trace_id != r.trace.trace_id)
        app.open_trace(TraceId(other))
        wf = app.query_one(Waterfall)
        await until(lambda: wf.trace is not None and wf.trace.trace_id == other)
        await pilot.press("t")
        await pilot.pause()
        assert wf.trace is not None and wf.trace.trace_id == r.trace.trace_id
        assert app.view.trace_id == r.trace.trace_id
        assert r.trace.trace_id[:12] in str(app.query_one("#detail").border_title)


async def test_at_80_columns_a_pane_title_follows_its_content() -> None:
    async with started((80, 24)) as (app, pilot):
        await pilot.press("4")
        await pilot.pause()
        assert str(app.query_one("#detail").border_title).startswith("Flame")
        assert "[4 Flame]" in shown(app.query_one("#tabs", Static))  # the narrow layout's pane strip
        await pilot.press("3")
        await pilot.pause()
        assert str(app.query_one("#detail").border_title).startswith("Trace")
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert not app.query_one("#tabs").display  # side by side: no strip


async def test_the_from_column_says_exemplar_whole() -> None:
    async with started((160, 48)) as (app, pilot):
        await pilot.pause()
        table: DataTable[object] = app.query_one("#spantable", DataTable)
        sources = {str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert "exemplar" in sources and "exempla" not in sources


async def test_the_footer_shows_the_keys_that_matter_and_help_lists_every_key() -> None:
    async with started((200, 48)) as (app, pilot):
        await pilot.pause()
        from plugintop.ui.widgets.keybar import KeyBar

        footer = set(app.query_one(KeyBar).keys)
        assert {"t", "tab", "y", "left_square_bracket", "right_square_bracket", "R"} <= footer
        await pilot.press("question_mark")
        await pilot.pause()
        from plugintop.ui.keys import GROUPS  # here: the test must load (and fail) on a tree without it

        text = str(app.screen.query_one(Static).render())
        for keys in GROUPS.values():
            for k in keys:
                assert f"  {k.typed:<8} {k.says}" in text
        box = app.screen.query_one("VerticalScroll")
        await pilot.press("j", "j")  # j/k where the arrows move, here too
        await pilot.pause()
        assert box.scroll_y == 2


async def test_the_flame_fills_the_pane_searches_and_names_the_selected_frame() -> None:
    async with started((160, 48)) as (app, pilot):
        await pilot.press("f")
        await pilot.pause()
        from plugintop.ui.widgets.flame import FlameView, Icicle

        ice = app.query_one(Icicle)
        assert ice.size.width >= app.query_one("#detail").size.width - 4  # not ~36 columns
        flame = app.query_one(FlameView)
        info = app.query_one("#flameinfo", Static)
        root = ice.nodes[0]
        assert f"▶ {root.name}" in shown(info) and "total 100.0%" in shown(info)
        await pilot.press("slash", "s", "s", "l")
        await pilot.pause()
        assert ice.found and all("ssl" in ice.nodes[i].name.casefold() for i in ice.found)
        assert 0 < flame.share <= 1 and f"{len(ice.found)} frames" in shown(info)
        assert "ssl" in ice.nodes[ice.sel].name.casefold()  # the first match selected
        await pilot.press("enter")  # keep the search, back in the icicle
        await pilot.press("enter")  # zoom into the match
        await pilot.pause()
        top: DataTable[object] = app.query_one("#top", DataTable)
        under = {n.name for i, n in enumerate(ice.nodes) if ice._under(i, ice.root)}
        names = {str(top.get_row_at(i)[0])[1:] for i in range(top.row_count)}
        assert names and names <= under  # the top table follows the zoom
        await pilot.press("escape")
        await pilot.pause()
        assert not ice.found and flame.query_text == ""
        assert ice.root != 0 and app.view.detail == "flame"
        while ice.root != 0:  # esc zooms out a frame at a time, then leaves the flame graph
            await pilot.press("escape")
            await pilot.pause()
            assert app.view.detail == "flame"
        await pilot.press("escape")
        await pilot.pause()
        assert app.view.detail == "trace"


async def test_the_chart_has_a_time_axis_an_error_line_and_a_utc_toggle() -> None:
    async with started((160, 48)) as (app, pilot):
        await pilot.pause()
        chart = shown(app.query_one("#chart", Static))
        assert "\nerr " in chart and "SLO 0.50%" in chart
        assert "UTC   " in chart and "07:30" in chart  # the harness starts in UTC; NOW is 08:00 UTC
        app.query_one("#tools").focus()
        await pilot.press("u")
        await pilot.pause()
        assert app.view.utc is False and "local " in shown(app.query_one("#chart", Static))
        assert " local " in shown(app.query_one(Summary))


async def test_hostile_text_stays_inert_in_every_title_and_the_triage_completes() -> None:
    hostile = " ".join(HOSTILE)
    with demo_app(tenant=hostile) as app:
        app.session = replace(app.session, plugin=hostile)
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(app)
            assert app.result is not None and app.result.verdict is not None
            app.open_checked(hostile, "the test")  # no trace id: refused, said in a notification
            await until(lambda: len(app._notifications) > 0)
            await pilot.press("F")
            await pilot.pause()
            for node in [app.query_one("#logs"), *app.query(".pane")]:
                for title in (node._border_title, node._border_subtitle):
                    assert title is None or isinstance(title, Content)
                    assert title is None or "\x1b" not in title.plain
            logs_title = str(app.query_one("#logs").border_title)
            assert "[/]" in logs_title and "[bold red]x" in logs_title  # shown as written, not parsed
            assert app.is_running
