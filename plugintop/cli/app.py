"""Provides `plugintop [--plugin X --tenant Y]`: the one-screen triage (the Textual app)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from plugintop.cli.common import demo_stack, load, settled, start_demo

if TYPE_CHECKING:
    from plugintop.handoff.bundle import Bundle
    from plugintop.ui.session import Session


def replay_session(bundle: Bundle) -> Session:
    """The screen's session on a bundle: its context, target and range, the clock at the moment it was saved."""
    from plugintop.handoff.replay import replay_context
    from plugintop.timerange import TimeRange
    from plugintop.ui.session import Session

    m = bundle.manifest
    return Session(
        replay_context(bundle.context),
        "replay",
        m.plugin,
        m.tenant,
        TimeRange(m.start, m.end),
        m.p99_target_s,
        clock=lambda: m.saved_at,
        urls=dict(m.urls),
        replay=bundle.exchanges,
        saved_at=m.saved_at,
    )


def replay(ns: argparse.Namespace) -> int:
    """`plugintop --replay FILE`: the screen on a bundle, nothing asked of the network."""
    from plugintop.handoff.bundle import load as load_bundle
    from plugintop.ui.app import PlugintopApp

    session = replay_session(load_bundle(Path(ns.replay)))  # a damaged bundle says so first
    need_terminal()

    async def work() -> int:
        app = PlugintopApp(session)
        code = await app.run_async()
        return app.return_code or code or 0

    settled()
    return asyncio.run(work())


def need_terminal() -> None:
    """The screen draws on a terminal: on a pipe or a file it would write escape codes until killed.

    Raises:
        UsageError: stdin or stdout is not a terminal (one line naming the command for a pipe).
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        from plugintop.errors import UsageError

        raise UsageError(
            "the screen needs a terminal (stdin and stdout); for a pipe or a file: plugintop report ... "
            "--format text|markdown|json"
        )


def run(ns: argparse.Namespace) -> int:
    if getattr(ns, "replay", None):
        return replay(ns)
    need_terminal()
    started = start_demo(ns)  # the demo boots on other cores while the screen's modules load
    from plugintop.connect.backends import preflight
    from plugintop.timerange import parse_duration, resolve_range
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
