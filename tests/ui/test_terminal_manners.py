"""Terminal manners: NO_COLOR renders (no crash in Textual's monochrome filter), the layout follows every
resize (not one step behind), Ctrl-C quits with 0."""

from __future__ import annotations

import pytest

from plugintop.ids import TraceId
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.waterfall import Waterfall
from tests.ui.harness import demo_app, ready, started, until


async def test_no_color_renders_every_pane(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    with demo_app() as app:
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(app)
            await pilot.pause()
            for key in ("2", "3", "4", "5"):
                await pilot.press(key)
                await pilot.pause()
            assert app.query_one(LogView).count > 0
            assert app.is_running
        assert app.return_value is None  # not exited on an error


async def test_the_layout_follows_each_resize() -> None:
    async with started((80, 24)) as (app, pilot):
        assert app.screen.has_class("-narrow")
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert not app.screen.has_class("-narrow")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        await pilot.resize_terminal(60, 15)
        await pilot.pause()
        assert app.screen.has_class("-narrow")


async def test_ctrl_c_quits_with_0() -> None:
    with demo_app() as app:
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(app)
            await pilot.press("ctrl+c")
            await pilot.pause()
        assert app.return_value == 0


async def test_markup_and_control_in_a_backends_error_stay_inert_in_titles() -> None:
    """Tempo answers 400 with `[/]`, markup and terminal controls in its message: the spans pane's subtitle
    shows the text as it is, and the triage still completes."""
    from textual.content import Content

    from tests.hostile import HOSTILE
    from tests.servers import Answer, Backend, serve

    message = "parse error near [/] [bold]x[/bold] " + " ".join(HOSTILE)

    class BadTempo(Backend):
        def answer(self, req):  # type: ignore[no-untyped-def]
            return Answer(400, {"error": message}, "application/json")

    with serve(BadTempo()) as tempo, demo_app(urls={"tempo": tempo.url}) as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(app)
            await pilot.pause()
            assert app.result is not None and app.result.verdict is not None
            sub = app.query_one("#spans")._border_subtitle  # what is drawn
            assert isinstance(sub, Content) and "[/]" in sub.plain and "\x1b" not in sub.plain
            assert app.is_running


async def test_j_and_k_move_in_every_table() -> None:
    async with started((160, 48)) as (app, pilot):
        for pane, table in (("1", "#tools"), ("2", "#spantable")):
            await pilot.press(pane)
            t = app.query_one(table)
            start = t.cursor_row  # type: ignore[attr-defined]
            await pilot.press("j")
            assert t.cursor_row == start + 1  # type: ignore[attr-defined]
            await pilot.press("k")
            assert t.cursor_row == start  # type: ignore[attr-defined]


async def test_y_copies_the_trace_on_screen_and_a_missing_trace_says_so() -> None:
    async with started((160, 48)) as (app, pilot):
        assert app.result is not None and len(app.result.spans) > 1
        other = app.result.spans[-1].trace_id
        app.open_trace(TraceId(other))
        await until(lambda: app.query_one(Waterfall).trace is not None and app.view.trace_note == "")
        assert app.view.trace_id == other and app.query_one(Waterfall).trace.trace_id == other  # type: ignore[union-attr]
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign, assignment]
        app.query_one("#tools").focus()
        await pilot.press("y")
        assert copied == [other]
        app.open_trace(TraceId("0123456789abcdef0123456789abcdef"))
        await until(lambda: "not opened" in str(app.query_one("#detail").border_title))
        assert "not opened" in str(app.query_one("#detail").border_title)


async def test_the_footer_ends_after_a_whole_hint_at_every_width() -> None:
    from plugintop.ui.widgets.keybar import KeyBar

    async with started((80, 24)) as (app, pilot):
        bar = app.query_one(KeyBar)
        every = {b.key: b.description for b, _ in bar.hints()}
        for width in (60, 80, 100, 120, 200):
            await pilot.resize_terminal(width, 24)
            await pilot.pause()
            line, keys = bar.fitted(bar.size.width)
            assert line.cell_len <= width
            assert keys == list(every)[: len(keys)] and keys
            assert line.plain.rstrip().endswith(every[keys[-1]])  # "R reproduce", never "R rep"
        assert len(bar.fitted(200)[1]) > len(bar.fitted(60)[1])
