"""The app on the demo stack with a frozen clock, for Pilot and snapshot tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from textual.pilot import Pilot

from plugintop.config.context import context_from
from plugintop.demo.scenario import Scenario, load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.timerange import TimeRange
from plugintop.ui.app import PlugintopApp, Session

NOW = 1_800_000_000.0


@contextmanager
def demo_app(
    tenant: str = "acme",
    break_backend: str | None = None,
    scenario: Scenario | None = None,
    clock: list[float] | None = None,
    urls: dict[str, str] | None = None,
) -> Iterator[PlugintopApp]:
    """The app on the demo stack; `break_backend` points one backend at a closed port, `urls` replaces some."""
    t = clock or [NOW]
    with DemoStack(scenario or load_scenario(None), now=NOW, clock=lambda: t[0]) as stack:
        urls = {**stack.urls, **(urls or {})}
        if break_backend:
            urls[break_backend] = "http://127.0.0.1:9"
        ctx = context_from({k: {"url": u} for k, u in urls.items()})
        session = Session(
            ctx,
            "demo",
            scenario.plugin if scenario is not None else "recommender",
            tenant,
            TimeRange(NOW - 3600, NOW),
            2.0,
            clock=lambda: t[0],
            tail_every=3600.0,
            reproduce_every=0.1,
            utc=True,  # snapshots the same in every time zone (local time: tests/test_chart.py)
        )
        yield PlugintopApp(session)


async def until(check: Callable[[], object], seconds: float = 10.0) -> None:
    """Waits until `check()` holds, at most `seconds` (then returns: the caller's assert says what failed)."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)


async def ready(app: PlugintopApp, health: bool = False) -> None:
    """The triage done (and with `health`, the telemetry strip in: it lands on its own)."""
    await asyncio.wait_for(app.triage_done.wait(), 60)
    if health:
        await until(lambda: app.health)


@asynccontextmanager
async def started(size: tuple[int, int] = (160, 48), **demo: Any) -> AsyncIterator[tuple[PlugintopApp, Pilot[Any]]]:
    """The app on the demo stack (`demo_app`'s arguments) at `size`, its triage done."""
    with demo_app(**demo) as app:
        async with app.run_test(size=size) as pilot:
            await ready(app)
            yield app, pilot
