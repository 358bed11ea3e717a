"""SVG snapshots of the screen on the demo stack (frozen clock) at 80×24 and 160×48, and the overview at 100,
120, 130 and 200 columns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from plugintop.live import follow
from plugintop.ui.app import PlugintopApp
from plugintop.ui.widgets import logpane
from tests.ui.harness import demo_app, ready


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[PlugintopApp]:
    """The demo's screen; a log page that takes its loaded machine more than `FROZEN_S` to answer would
    add a (true) "no answer for 3 s" gap line, so the snapshots wait far longer before saying so."""
    monkeypatch.setattr(follow, "FROZEN_S", 600.0)
    monkeypatch.setattr(logpane, "FROZEN_S", 600.0)  # and the pane's "loki not answering since" likewise
    with demo_app() as a:
        yield a


def pressing(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Before the snapshot: the triage done and the telemetry strip in (it lands on its own), then `keys`,
    then a pause (a table sizes its columns when idle: under load that takes a while)."""

    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, PlugintopApp)
        await ready(app, health=True)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()

    return run


def test_overview_wide(snap_compare: Any, app: PlugintopApp) -> None:
    """The whole screen; the percentile chart with its time axis, target and error-rate line against the SLO."""
    assert snap_compare(app, terminal_size=(160, 48), run_before=pressing())


def test_overview_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    """One pane at a time: the percentiles and their chart (axis, error-rate line) at 80×24."""
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing())


def test_flame_wide(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(160, 48), run_before=pressing("f"))


def test_waterfall_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("3", "down", "down", "down", "down"))


def test_business_and_health_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    """The cost pane's business table (key 6) and the telemetry strip under the title, at 80×24."""
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("6"))


def test_business_and_health_wide(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(160, 48), run_before=pressing("6"))


def test_findings_list_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    """F: every finding with the highlighted one's evidence, at 80×24."""
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("F"))


def test_findings_list_wide(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(160, 48), run_before=pressing("F", "j"))


FLAME_SEARCH = ("f", "slash", "s", "s", "l", "enter")
"""The flame graph searched for `ssl`: matches marked, their share and the selected frame's line."""


def test_flame_search_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing(*FLAME_SEARCH))


def test_flame_search_wide(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(160, 48), run_before=pressing(*FLAME_SEARCH))


@pytest.mark.parametrize("width", [100, 120, 130, 200])
def test_overview_at_every_width(snap_compare: Any, app: PlugintopApp, width: int) -> None:
    """Between the narrow and the wide layout and past it: columns drop whole, no number is cut (80 and
    160 columns are above)."""
    assert snap_compare(app, terminal_size=(width, 40), run_before=pressing())
