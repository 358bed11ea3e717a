"""SVG snapshots of the screen on the demo stack (frozen clock) at 80×24 and 160×48."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from plugintop.ui.app import PlugintopApp
from tests.ui.harness import demo_app


@pytest.fixture
def app() -> Iterator[PlugintopApp]:
    with demo_app() as a:
        yield a


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, PlugintopApp)
    await asyncio.wait_for(app.triage_done.wait(), 60)
    for _ in range(100):  # the telemetry strip lands on its own: the same screen every run
        if app.health:
            break
        await asyncio.sleep(0.05)
    await pilot.pause(0.2)  # a table sizes its columns when idle: under load that takes a while
    await pilot.wait_for_scheduled_animations()


def test_overview_wide(snap_compare: Any, app: PlugintopApp) -> None:
    """The whole screen; the percentile chart with its time axis, target and error-rate line against the SLO."""
    assert snap_compare(app, terminal_size=(160, 48), run_before=ready)


def test_overview_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    """One pane at a time: the percentiles and their chart (axis, error-rate line) at 80×24."""
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_flame_wide(snap_compare: Any, app: PlugintopApp) -> None:
    async def flame(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("f")
        await pilot.pause(0.2)  # a table sizes its columns when idle: under load that takes a while

    assert snap_compare(app, terminal_size=(160, 48), run_before=flame)


def test_waterfall_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    async def trace(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("3", "down", "down", "down", "down")
        await pilot.pause(0.2)  # a table sizes its columns when idle: under load that takes a while

    assert snap_compare(app, terminal_size=(80, 24), run_before=trace)


async def business(pilot: Pilot[Any]) -> None:
    """Ready (the telemetry strip in), then the cost pane's business table (key 6)."""
    await ready(pilot)
    await pilot.press("6")
    await pilot.pause(0.2)


def test_business_and_health_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    """The cost pane's business table and the telemetry strip under the title, at 80×24."""
    assert snap_compare(app, terminal_size=(80, 24), run_before=business)


def test_business_and_health_wide(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(160, 48), run_before=business)


def test_findings_list_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    """F: every finding with the highlighted one's evidence, at 80×24."""

    async def findings(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("F")
        await pilot.pause(0.2)  # a table sizes its columns when idle: under load that takes a while

    assert snap_compare(app, terminal_size=(80, 24), run_before=findings)


def test_findings_list_wide(snap_compare: Any, app: PlugintopApp) -> None:
    async def findings(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("F", "j")
        await pilot.pause(0.2)  # a table sizes its columns when idle: under load that takes a while

    assert snap_compare(app, terminal_size=(160, 48), run_before=findings)


async def flame_search(pilot: Pilot[Any]) -> None:
    """The flame graph searched for `ssl`: matches marked, their share and the selected frame's line."""
    await ready(pilot)
    await pilot.press("f", "slash", "s", "s", "l", "enter")
    await pilot.pause(0.2)


def test_flame_search_narrow(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=flame_search)


def test_flame_search_wide(snap_compare: Any, app: PlugintopApp) -> None:
    assert snap_compare(app, terminal_size=(160, 48), run_before=flame_search)
