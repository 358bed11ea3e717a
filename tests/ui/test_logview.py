"""The tail widget: hostile lines inert and literal, filter as you type, pause, bounded buffer."""

from __future__ import annotations

from textual.app import App, ComposeResult

from plugintop.follow import Gap
from plugintop.models.loki import LogEntry
from plugintop.ui.widgets.logview import LogView, row_of
from tests.hostile import HOSTILE as BASE

HOSTILE = [*BASE, "x" * 5_000_000, '{"level":"error","msg":"\\u001b[31mred [/] \\u202e","trace_id":"abc"}']


class Host(App[None]):
    def __init__(self, limit: int = 100_000) -> None:
        super().__init__()
        self.limit = limit

    def compose(self) -> ComposeResult:
        yield LogView(limit=self.limit, id="logs")


def entry(i: int, line: str) -> LogEntry:
    return LogEntry(1_800_000_000_000_000_000 + i * 1_000_000, line, {"tenant_id": "t"})


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
    row = row_of(
        entry(0, '{"ts":"x","level":"WARN","event":"llm.slow_response","tool":"t","msg":"slow","trace_id":"abc"}')
    )
    assert row.level == "warn" and row.trace_id == "abc"
    assert "llm.slow_response" in row.text and "slow" in row.text and "trace abc" in row.text
