"""Provides `plugintop report`: the triage as text, markdown or JSON, for pipes and tickets."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from plugintop.cli.common import add_backends, add_target, demo_stack, load, settled, triage_request

DESCRIPTION = "Print the triage (percentiles, findings, spans, trace, profile, cost, SLO, verdict)."
EPILOG = "exit status: 0 report made, 1 no data for that plugin/tenant, 2 usage, 3 every backend failed"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="the triage as text, markdown or JSON", description=DESCRIPTION, epilog=EPILOG)
    add_target(p)
    add_backends(p)
    p.add_argument("--format", choices=["text", "markdown", "json"], help="default: text on a terminal, json otherwise")
    p.add_argument(
        "--deadline",
        metavar="DUR",
        default="30s",
        help="stop waiting for backends after this long and report what is in (default 30s)",
    )
    p.add_argument("--replay", metavar="FILE", help="answer from a bundle (`plugintop bundle save`), no network")
    p.set_defaults(run=run)


async def _progress(waiting: Callable[[], Mapping[str, float]], after: float = 2.0) -> None:
    """One line on stderr for each backend that keeps the report waiting longer than `after` seconds."""
    said: set[str] = set()
    while True:
        await asyncio.sleep(0.25)
        for backend, waited in sorted(waiting().items()):
            if waited >= after and backend not in said:
                said.add(backend)
                print(f"plugintop: waiting for {backend} ({waited:.0f} s so far)…", file=sys.stderr, flush=True)


PIPE_WIDTH = 80


def text_width(columns: str | None, tty: bool) -> int:
    """The width the text report is asked for: `COLUMNS` when set (a pipe too), else the terminal's,
    else 80 columns (a pipe to a ticket or a mail). `report.render` holds it to the 80 its tables need."""
    if columns is not None and columns.strip().isdigit():
        return int(columns)
    if tty:
        return shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    return PIPE_WIDTH


def replay(ns: argparse.Namespace, fmt: str, width: int) -> int:
    """`report --replay FILE`: the triage answered from the bundle, at the moment it was saved."""
    from plugintop.handoff.bundle import load as load_bundle
    from plugintop.handoff.replay import replay as replayed
    from plugintop.querylog import as_json
    from plugintop.report import exit_code, render

    bundle = load_bundle(Path(ns.replay))
    settled()
    result, log = asyncio.run(replayed(bundle))
    sys.stdout.write(render(result, fmt, bundle.manifest.urls, width=width, requests=[as_json(r) for r in log]))
    return exit_code(result)


def run(ns: argparse.Namespace) -> int:
    from plugintop.connect.backends import open_backends
    from plugintop.querylog import as_json
    from plugintop.report import exit_code, render
    from plugintop.timerange import parse_duration, resolve_range
    from plugintop.triage import Triage

    fmt = ns.format or ("text" if sys.stdout.isatty() else "json")
    width = text_width(os.environ.get("COLUMNS"), sys.stdout.isatty())
    if ns.replay:
        return replay(ns, fmt, width)
    rng = resolve_range(ns.since, ns.start, ns.end)
    parse_duration(ns.deadline)  # a bad one is a usage error before any work

    async def work() -> tuple[str, int]:
        async with demo_stack(ns):
            loaded = load(ns, "report")
            req = triage_request(ns, rng)
            async with await open_backends(loaded.context) as backends:
                triage = Triage(backends, loaded.context, req)
                watch = asyncio.create_task(_progress(triage.waiting))
                try:
                    result = await triage.run()
                finally:
                    watch.cancel()
            g = loaded.context.grafana
            dashboard = g.dashboard_uid if g else None
            rows = [as_json(r) for r in backends.log]
            text = render(result, fmt, backends.urls, g.url if g else None, width, dashboard, requests=rows)
            return text, exit_code(result)

    settled()
    text, code = asyncio.run(work())
    sys.stdout.write(text)
    return code
