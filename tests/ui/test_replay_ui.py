"""`plugintop --replay FILE`: the screen of a saved incident with no backend anywhere — the header says
REPLAY and when, the verdict and panes are the recorded ones, and `Q` lists the requests, `y` copying one as
a command."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable

from plugintop.cli.app import replay_session
from plugintop.config.context import context_from
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.handoff.replay import save
from plugintop.timerange import TimeRange
from plugintop.triage import TriageRequest
from plugintop.ui.app import PlugintopApp
from plugintop.ui.querylog import QueryLogScreen
from plugintop.ui.widgets.logview import LogView
from plugintop.ui.widgets.summary import Summary
from tests.ui.harness import NOW, ready, until


def _bundle() -> object:
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as stack:
        ctx = context_from({k: {"url": u} for k, u in stack.urls.items()})
        req = TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(NOW - 3600, NOW))
        bundle, _ = asyncio.run(save(ctx, req, NOW))
    return bundle  # the demo is gone: every answer now comes from the bundle


def test_the_screen_replays_a_bundle_with_no_backend() -> None:
    bundle = _bundle()

    async def go() -> None:
        app = PlugintopApp(replay_session(bundle))  # type: ignore[arg-type]
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(app)
            logs = app.query_one("#logs", LogView)
            await until(lambda: logs.count > 0)
            header = str(app.query_one(Summary).render())
            assert header.startswith("REPLAY saved ") and "INCIDENT" in header, header
            assert logs.count > 0
            assert app.backends is not None
            assert not [r.target for r in app.backends.log if r.error], "the first page asked beyond the bundle"
            await pilot.press("Q")
            await pilot.pause()
            assert isinstance(app.screen, QueryLogScreen)
            table: DataTable[object] = app.screen.query_one(DataTable)
            assert table.row_count == len(app.backends.log) > 20
            await pilot.press("y")
            assert app.clipboard.split()[0] in ("promtool", "logcli", "curl", "tempo-cli"), app.clipboard
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, QueryLogScreen)

    asyncio.run(go())
