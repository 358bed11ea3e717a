"""Provides `plugintop [--plugin X --tenant Y]`: the one-screen triage (the Textual app)."""

from __future__ import annotations

import argparse
import asyncio

from plugintop.cli.common import demo_stack, load, settled, start_demo


def run(ns: argparse.Namespace) -> int:
    started = start_demo(ns)  # the demo boots on other cores while the screen's modules load
    from plugintop.timerange import parse_duration, resolve_range
    from plugintop.triage.connections import preflight
    from plugintop.ui.app import PlugintopApp, Session

    async def work() -> int:
        async with demo_stack(ns, started):
            loaded = load(ns, "plugintop")
            preflight(loaded.context)
            session = Session(
                loaded.context,
                loaded.name,
                ns.plugin,
                ns.tenant,
                resolve_range(ns.since, ns.start, ns.end),
                parse_duration(ns.p99_target) if ns.p99_target else None,
            )
            app = PlugintopApp(session)
            code = await app.run_async()
        if app.return_code:  # the app failed: its message is printed, the demo stack is stopped
            return app.return_code
        return code or 0

    settled()
    return asyncio.run(work())
