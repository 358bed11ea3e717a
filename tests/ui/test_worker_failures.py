"""Every worker's failure is shown where it happened, whatever the exception (issue 28): the pane's title
and a notification; the header never stays on "triage running", no pane on "loading"; an id from a log
line, a sample or the prompt is opened only when it is a trace id (Tempo is asked nothing otherwise)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from textual.widgets import Input, Static

import plugintop.ui.app as app_mod
import plugintop.ui.reproduce as reproduce_mod
import plugintop.ui.widgets.logpane as logpane_mod
from plugintop.analysis.model import TriageResult
from plugintop.ids import TraceId
from plugintop.triage import Triage
from plugintop.ui.app import PlugintopApp
from plugintop.ui.prompt import TraceIdPrompt
from plugintop.ui.state import HealthLanded, SlowSpansFound, TraceLoaded, TriageLanded
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.summary import Summary
from tests.hostile import HOSTILE
from tests.ui.harness import demo_app, started, until

BOOM = "boom \x1b[2J\x9b31m\u202e [/] [link=https://evil]x[/link]\nsecond line"
CONTROLS = ("\x1b", "\x9b", "\u202e")


def notes(app: PlugintopApp) -> list[tuple[str, str]]:
    return [(str(n.message), n.severity) for n in app._notifications]


def inert_text(text: str) -> bool:
    return not any(c in text for c in CONTROLS)


async def test_a_triage_stopped_by_any_exception_is_said_on_the_header_and_its_pane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken(Triage):
        async def stream(self) -> AsyncGenerator[TriageResult, None]:
            raise RuntimeError(BOOM)
            yield self.result  # a generator, as the real one

    monkeypatch.setattr(app_mod, "Triage", Broken)
    async with started((160, 48)) as (app, pilot):
        await until(lambda: notes(app))
        await pilot.pause()
        header = str(app.query_one(Summary).render())
        assert "triage running" not in header and "loading" not in header, header
        assert "triage stopped: internal: RuntimeError: boom" in header and inert_text(header)
        title = str(app.query_one("#percentiles").border_subtitle)
        assert "the triage stopped: internal: RuntimeError" in title and inert_text(title)
        assert "second line" not in header + title  # one line
        (msg, severity), *_ = notes(app)
        assert severity == "error" and "RuntimeError" in msg and inert_text(msg)
        assert app.is_running and not app.view.loading


async def test_a_trace_that_fails_unexpectedly_is_not_left_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*a: Any, **kw: Any) -> None:
        raise ValueError(BOOM)

    monkeypatch.setattr(app_mod, "analyse_trace", broken)
    async with started((160, 48)) as (app, pilot):
        app.open_trace(TraceId("ab" * 16))
        await until(lambda: app.view.trace_note != "loading")
        await pilot.pause()
        assert app.view.trace_note == "not opened"
        attrs = str(app.query_one("#attrs", Static).render())
        assert "internal: ValueError: boom" in attrs and inert_text(attrs)
        assert "ValueError" in str(app.query_one("#detail").border_subtitle)
        assert any(s == "error" and "ValueError" in m and inert_text(m) for m, s in notes(app))


async def test_a_line_or_sample_naming_no_trace_id_asks_tempo_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    async def record(backends: Any, ctx: Any, plugin: str, tool: str | None, trace_id: str, near: Any = None) -> None:
        asked.append(trace_id)
        raise AssertionError("Tempo asked")

    monkeypatch.setattr(app_mod, "analyse_trace", record)
    hostile = ["../../../../api/admin/users?perpage=1000#", "4bf92f35\x0077b34da6", "0" * 32, *HOSTILE]
    async with started((160, 48)) as (app, pilot):
        before = app.view.trace_id
        for h in hostile:
            app.query_one(LogView).post_message(LogView.TraceRequested(h))
        await pilot.pause()
        await until(lambda: len(notes(app)) >= len(hostile))
        assert asked == [] and app.view.trace_id == before
        shown = notes(app)
        assert all(s == "warning" and "no valid trace id" in m and inert_text(m) for m, s in shown)


async def test_the_prompt_lets_only_a_trace_id_through(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[object] = []

    async def record(backends: Any, ctx: Any, plugin: str, tool: str | None, trace_id: str, near: Any = None) -> None:
        asked.append(trace_id)
        raise RuntimeError("not wanted here")

    monkeypatch.setattr(app_mod, "analyse_trace", record)
    async with started((160, 48)) as (app, pilot):
        await pilot.press("T")
        await pilot.pause()
        assert isinstance(app.screen, TraceIdPrompt)
        box = app.screen.query_one(Input)
        for bad in ("../../x", "4bf92f35 77b34da6", "0" * 32, "g" * 32):
            box.value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, TraceIdPrompt) and "hex" in str(box.border_subtitle)
        box.value = " ABC "
        await pilot.press("enter")
        await until(lambda: asked)
        assert asked == ["0" * 29 + "abc"] and isinstance(asked[0], TraceId)
        assert isinstance(app.view.trace_id, TraceId)


async def test_reproduce_mode_stopped_by_an_exception_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*a: Any, **kw: Any) -> None:
        raise KeyError(BOOM)

    monkeypatch.setattr(reproduce_mod, "new_slow_spans", broken)
    async with started((160, 48)) as (app, pilot):
        await pilot.press("R")
        await until(lambda: notes(app))
        await pilot.pause()
        title = str(app.query_one("#spans").border_subtitle)
        assert "reproduce mode stopped: internal: KeyError" in title and inert_text(title)
        assert not app.view.reproducing and "reproducing" not in str(app.query_one(Summary).render())


async def test_the_log_pane_stopped_by_an_exception_says_so_and_the_rest_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The log pane owns its reading: its failure is posted to the app, said in the pane and a notification,
    and the other panes keep working."""

    def broken(*a: Any, **kw: Any) -> None:
        raise RuntimeError(BOOM)

    monkeypatch.setattr(logpane_mod, "tenant_follower", broken)
    async with started((160, 48)) as (app, pilot):
        await until(lambda: "log pane stopped" in str(app.query_one("#logs").border_subtitle))
        title = str(app.query_one("#logs").border_subtitle)
        assert "the log pane stopped: internal: RuntimeError" in title and inert_text(title)
        await until(lambda: any("log pane stopped" in m for m, _ in notes(app)))  # (a notification is a message)
        assert any("log pane stopped" in m and sev == "error" for m, sev in notes(app))
        assert app.result is not None and app.result.verdict is not None  # the triage was not stopped with it


async def test_the_telemetry_check_stopped_by_an_exception_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*a: Any, **kw: Any) -> None:
        raise OSError(BOOM)

    monkeypatch.setattr(app_mod, "pillar_health", broken)
    with demo_app() as app:
        async with app.run_test(size=(160, 48)):
            await until(lambda: notes(app))
            (msg, severity), *_ = notes(app)
            assert severity == "error" and "telemetry check stopped: internal: OSError" in msg and inert_text(msg)


async def test_a_worker_message_that_lands_while_the_app_closes_is_let_go() -> None:
    """Textual's shutdown stops the app, prunes the screens, then dispatches what is still queued: a health
    check or a triage phase that lands then finds no panes and must not raise (seen once in CI)."""
    async with started((100, 30)) as (app, pilot):
        trace_id = app.view.trace_id or TraceId("ab" * 16)
        app.look(reproducing=True)
        app._running = False  # the order of App._shutdown
        await app.screen.remove_children()
        for message in (
            HealthLanded([]),
            TriageLanded(app._seq, app.result or TriageResult("p", "t", 0.0, 1.0), final=True),
            TraceLoaded(trace_id, None, "tempo: gone"),
            SlowSpansFound([], "watching"),
        ):
            app.post_message(message)
        await pilot.pause()
        app._running = True  # so that the harness closes it as usual
