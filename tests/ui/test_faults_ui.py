"""The app with faulty or hostile backends: the faulty pane says so, the others fill, nothing is
ever rendered as markup or terminal control, the app never exits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from plugintop.config.context import context_from
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.timerange import TimeRange
from plugintop.ui.app import PlugintopApp, Session
from plugintop.ui.widgets.waterfall import Waterfall
from tests.faults import Fault, fault_server

NOW = 1_800_000_000.0


@contextmanager
def app_with(faults: dict[str, Fault]) -> Iterator[PlugintopApp]:
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as stack:
        urls = dict(stack.urls)
        servers = []
        for backend, fault in faults.items():
            cm = fault_server(fault, urls[backend])
            servers.append(cm)
            urls[backend] = cm.__enter__().url
        try:
            ctx = context_from({k: {"url": u, "timeout": {"read": 2}} for k, u in urls.items()})
            yield PlugintopApp(
                Session(
                    ctx,
                    "t",
                    "recommender",
                    "acme",
                    TimeRange(NOW - 3600, NOW),
                    2.0,
                    clock=lambda: NOW,
                    tail_every=3600.0,
                )
            )
        finally:
            for cm in servers:
                cm.__exit__(None, None, None)


async def test_html_tempo_and_failing_loki_are_shown_in_their_panes() -> None:
    with app_with({"tempo": Fault("html200"), "loki": Fault("status:500")}) as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(app.triage_done.wait(), 60)
            await pilot.pause()
            assert "HTML" in str(app.query_one("#spans").border_subtitle)
            assert "loki" in str(app.query_one("#logs").border_subtitle)
            assert app.query_one("#tools").row_count == 3  # type: ignore[attr-defined]
            assert app.result is not None and app.result.profile is not None and app.is_running


async def test_hostile_span_names_and_attributes_render_inert() -> None:
    with app_with({"tempo": Fault("hostile_trace", lambda p: p.startswith("/api/v2/traces/"))}) as app:
        async with app.run_test(size=(110, 70)) as pilot:  # narrow layout: one tall pane at a time
            await asyncio.wait_for(app.triage_done.wait(), 60)
            await pilot.press("3")
            await pilot.pause()
            wf = app.query_one(Waterfall)
            assert wf.trace is not None and len(wf.trace.spans) == 12 and wf.size.height >= 12
            rendered = "".join(wf.render_line(y).text for y in range(12))
            assert "\x1b" not in rendered and "\x9b" not in rendered and "\u202e" not in rendered
            assert "FAKE" in rendered and "[bold red]x" in rendered and "[/]" in rendered
            await pilot.press("3", *["down"] * 8, "enter")
            await pilot.pause()
            attrs = str(app.query_one("#attrs").render())
            assert "\x1b" not in attrs and app.is_running


async def test_a_hung_prometheus_is_named_while_waited_for_then_given_up_as_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Prometheus that accepts and never answers (the default read timeout is 20 s, longer than the wait
    here): the header says how long the triage has run and that it waits for Prometheus, then, at the call
    limit, an honest UNKNOWN naming it; never "healthy", never "running" for good."""
    import plugintop.triage.asking as asking
    from plugintop.ui.widgets.summary import Summary

    monkeypatch.setattr(asking, "CALL_LIMIT_S", 8.0)
    hung = Fault("stall_headers")
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as stack, fault_server(hung) as fs:
        urls = {**stack.urls, "prometheus": fs.url}
        ctx = context_from({k: {"url": u} for k, u in urls.items()})
        session = Session(ctx, "t", "recommender", "globex", TimeRange(NOW - 3600, NOW), 2.0, clock=lambda: NOW)
        app = PlugintopApp(session)
        async with app.run_test(size=(160, 48)) as pilot:
            seen = ""
            for _ in range(120):
                await asyncio.sleep(0.05)
                seen = str(app.query_one(Summary).render())
                if "waiting for prometheus" in seen:
                    break
            assert "triage running" in seen and "waiting for prometheus" in seen and "gives up by 8 s" in seen, seen
            await asyncio.wait_for(app.triage_done.wait(), 30)
            await pilot.pause()
            header = str(app.query_one(Summary).render())
            assert "UNKNOWN" in header and "prometheus: no answer in" in header, header
            assert "HEALTHY" not in header and "triage running" not in header


async def test_an_idle_tail_repaints_nothing() -> None:
    """Polling a Loki with nothing new draws nothing: the pane's subtitle is set only when it changes (each
    set repaints the whole pane: 2.8 KB a second over SSH while nothing happened)."""
    import inspect

    from plugintop.ui.widgets.logview import LogView

    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as stack:
        ctx = context_from({k: {"url": u} for k, u in stack.urls.items()})
        session = Session(
            ctx, "t", "recommender", "acme", TimeRange(NOW - 3600, NOW), 2.0, clock=lambda: NOW, tail_every=0.05
        )
        app = PlugintopApp(session)
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(app.triage_done.wait(), 60)
            await asyncio.sleep(1.0)  # the first reads are in
            view = app.query_one("#logs", LogView)
            sets = 0
            original = inspect.getattr_static(type(view), "border_subtitle")

            class Counting:
                def __get__(self, obj: LogView, objtype: type | None = None) -> str | None:
                    got: str | None = original.__get__(obj, objtype)
                    return got

                def __set__(self, obj: LogView, value: object) -> None:
                    nonlocal sets
                    sets += 1
                    original.__set__(obj, value)

            monkey = pytest.MonkeyPatch()
            monkey.setattr(type(view), "border_subtitle", Counting())
            try:
                await asyncio.sleep(1.0)  # ~20 polls, nothing new
                await pilot.pause()
            finally:
                monkey.undo()
            assert sets <= 1  # every poll set it before (~20 here)
