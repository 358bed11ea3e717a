"""The tail widget: hostile lines inert and literal, filter as you type, pause, bounded buffer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from plugintop.models.loki import Gap, LogEntry
from plugintop.ui.widgets.loglines import (
    MIN_GAP_S,
    QUIET_S,
    REPAINT_S,
    LineFilter,
    detail_lines,
    format_line,
    repaint_due,
)
from plugintop.ui.widgets.logview import LogView
from tests.hostile import HOSTILE as BASE

HOSTILE = [*BASE, "x" * 5_000_000, '{"level":"error","msg":"\\u001b[31mred [/] \\u202e","trace_id":"abc"}']


class Host(App[None]):
    def __init__(self, limit: int = 100_000) -> None:
        super().__init__()
        self.limit = limit

    def compose(self) -> ComposeResult:
        yield LogView(limit=self.limit, id="logs")


def entry(i: int, line: str) -> LogEntry:
    return LogEntry.of(1_800_000_000_000_000_000 + i * 1_000_000, line, {"tenant_id": "t"})


async def test_hostile_lines_are_inert_and_the_app_survives() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        view.add([entry(i, s) for i, s in enumerate(HOSTILE)], [Gap(1.0, 2.0, "\x1b[31mboom", False)])
        await pilot.pause()
        assert view.count == len(HOSTILE) + 1
        screen = "".join(str(view.render_line(y).text) for y in range(view.size.height))
        for i in range(len(HOSTILE) + 1):
            row = view._row(i)
            assert row is not None and "\x1b" not in row.text and "\x9b" not in row.text and "\r" not in row.text
            assert "\u202e" not in row.text and "\x07" not in row.text
            assert len(row.text) < 500  # a 5 MB line is cut in the view, whole in `raw`
        assert "FAKE" in screen and "[bold red]x" in screen and "[@click=app.quit]x[/]" in screen
        assert "status=ok␍status=FAIL" in screen and "⟨U+202E⟩evil" in screen
        huge = next(view._row(i) for i in range(view.count) if len(view._row(i).raw) > 1_000_000)  # type: ignore[union-attr]
        assert huge is not None and huge.raw == "x" * 5_000_000 and len(huge.text) < 500
        assert app.is_running


def _bottom_row(view: LogView) -> str:
    return str(view.render_line(view.size.height - 1).text)


async def test_following_keeps_the_newest_line_on_the_last_row_from_the_first_lines_and_across_resizes() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.add([entry(i, f"line {i}") for i in range(100)])  # overflows before any scrollbar is laid out
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y > 0 and "line 99" in _bottom_row(view)
        assert view.vertical_scrollbar.position == view.scroll_y  # the thumb at the end too
        await pilot.resize_terminal(60, 10)
        await pilot.pause()
        assert "line 99" in _bottom_row(view)
        view.add([entry(100, "line 100")])
        await pilot.pause(0.1)  # past the repaint interval
        assert "line 100" in _bottom_row(view)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert "line 100" in _bottom_row(view) and view.vertical_scrollbar.position == view.scroll_y


def test_repaints_come_every_interval_in_a_flood_and_soon_after_it_stops() -> None:
    painted = 100.0
    assert repaint_due(painted, painted + 0.049) == painted + REPAINT_S  # lines keep coming: the interval
    assert repaint_due(painted, painted + 0.03) == painted + 0.03 + QUIET_S  # they stopped: soon after
    assert repaint_due(painted, painted) == painted + MIN_GAP_S  # never two repaints closer than this


async def test_filter_as_you_type_invert_and_new_lines() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        view.add([entry(i, f'{{"level":"{"error" if i % 3 == 0 else "info"}","msg":"m{i}"}}') for i in range(30)])
        view.set_filter("error")
        assert view.count == 10
        view.add([entry(100, '{"level":"error","msg":"late"}'), entry(101, '{"level":"info","msg":"x"}')])
        assert view.count == 11 and "late" in view._row(10).text  # type: ignore[union-attr]
        view.set_filter("error", invert=True)
        assert view.count == 21
        view.set_filter("(unclosed")  # not a regex: taken literally, no crash
        assert view.count == 0
        view.set_filter("")
        assert view.count == 32
        await pilot.pause()


async def test_bounded_buffer_counts_what_it_dropped() -> None:
    app = Host(limit=100)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(LogView)
        view.set_filter("keep")
        for batch in range(5):
            view.add([entry(batch * 50 + i, f"{'keep' if i % 2 else 'drop'} {batch * 50 + i}") for i in range(50)])
        assert len(view.rows) == 100 and view.dropped == 150
        assert view.count == 50 and view._row(0).text.endswith("keep 151")  # type: ignore[union-attr]


def test_json_lines_become_the_template() -> None:
    row = format_line(
        entry(0, '{"ts":"x","level":"WARN","event":"llm.slow_response","tool":"t","msg":"slow","trace_id":"abc"}')
    )
    assert row.level == "warn" and row.trace_id == "abc"
    assert "llm.slow_response" in row.text and "slow" in row.text and "trace abc" in row.text


async def test_pause_keeps_buffering_with_a_count_then_shows_everything_in_order() -> None:
    app = Host(limit=1_000)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        view.add([entry(i, f"line {i}") for i in range(10)])
        view.pause(True)
        view.add([entry(10 + i, f"line {10 + i}") for i in range(25)], [Gap(1.0, 2.0, "loki down", True)])
        await pilot.pause()
        assert view.count == 10 and "paused · 26 new" in str(view.border_title)
        view.pause(False)
        assert view.count == 36 and view._row(35).raw == "line 34"  # type: ignore[union-attr]
        assert view._row(10).gap and "caught up, nothing lost" in view._row(10).text  # type: ignore[union-attr]


async def test_pause_longer_than_the_buffer_counts_the_overflow_as_dropped() -> None:
    app = Host(limit=1_000)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(LogView)
        view.pause(True)
        for b in range(3):
            view.add([entry(b * 500 + i, f"l {b * 500 + i}") for i in range(500)])
        view.pause(False)
        assert len(view.rows) == 1_000 and view.dropped == 500 and "500 dropped" in str(view.border_title)
        assert view._row(0).raw == "l 500"  # type: ignore[union-attr]


def test_template_is_configurable_and_reaches_nested_fields() -> None:
    line = entry(0, '{"level":"error","msg":"boom","error":{"type":"Timeout"},"tool":"t"}')
    assert "boom" in format_line(line).text
    assert format_line(line, ["error.type", "level"]).text == "Timeout  error"
    assert format_line(line, ["time", "message"]).text.endswith(" boom")  # `message` falls back to `msg`


async def test_the_view_shows_its_template() -> None:
    class Templated(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView(template=["error.type", "level"])

    app = Templated()
    async with app.run_test(size=(120, 40)):
        view = app.query_one(LogView)
        view.add([entry(0, '{"level":"error","msg":"boom","error":{"type":"Timeout"},"tool":"t"}')])
        assert view._row(0).text == "Timeout  error"  # type: ignore[union-attr]


_TEXT = st.text(alphabet=st.sampled_from("abcXYZ éÉüÜ-_:=0"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_TEXT, max_size=20), needle=_TEXT.filter(bool), invert=st.booleans())
def test_a_literal_filter_matches_like_the_case_insensitive_regex(lines: list[str], needle: str, invert: bool) -> None:
    """The literal fast path keeps exactly what `re.IGNORECASE` on the escaped text keeps."""
    literal = LineFilter(needle, invert)
    assert literal.needle is not None  # no regex syntax: taken literally
    regex = LineFilter(needle, invert)
    regex.needle = None  # the same escaped pattern, through the regex engine
    assert literal.matching(5, lines, len(lines)) == regex.matching(5, lines, len(lines))


def test_a_filter_is_a_regex_when_it_is_one_and_else_the_literal_text() -> None:
    assert LineFilter("err|warn").needle is None and LineFilter("err|warn").matching(0, ["WARN x", "info"], 2) == [0]
    assert LineFilter("(unclosed").needle == "(unclosed"  # not a valid regex: itself
    assert LineFilter("Timeout").matching(0, ["a timeout", "TIMEOUT", "time out"], 3) == [0, 1]
    assert LineFilter("timeout", invert=True).matching(10, ["a timeout", "time out"], 2) == [11]


def test_detail_shows_the_whole_object_sanitised() -> None:
    e = LogEntry.of(1, '{"level":"info","msg":"a\\u001b[2Jb","user":{"id":7}}', {"tenant_id": "t"}, {"trace_id": "ab"})
    lines = detail_lines(e)
    assert any("tenant_id=t" in x for x in lines) and any("trace_id=ab" in x for x in lines)
    assert '    "id": 7' in lines and not any("\x1b" in x for x in lines)
    huge = detail_lines(entry(0, "y" * 5_000_000))
    assert huge[-1] == "y" * 5_000_000  # whole in the detail


async def test_space_opens_the_whole_line_paged_and_enter_there_opens_its_trace() -> None:
    from plugintop.ui.linedetail import LineDetail, Pager

    opened: list[str] = []

    class Traced(Host):
        def on_log_view_detail_requested(self, event: LogView.DetailRequested) -> None:
            self.push_screen(LineDetail(event.item, self.query_one(LogView)))

        def on_log_view_trace_requested(self, event: LogView.TraceRequested) -> None:
            opened.append(event.trace_id)

    app = Traced()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.add([entry(0, '{"msg":"' + "z" * 3_000_000 + '","trace_id":"cafe"}')])
        view.focus()
        await pilot.press("space")
        await pilot.pause()
        pager = app.screen.query_one(Pager)
        assert pager.virtual_size.height > 3_000_000 // 80  # wrapped, not cut
        await pilot.press("end")
        await pilot.pause()
        assert "z" in pager.render_line(0).text
        await pilot.press("enter")
        await pilot.pause()
        assert opened == ["cafe"] and not isinstance(app.screen, LineDetail)
