"""Provides `plugintop bundle save`: the triage of a range, and the rest of the screen's first page, as one
file that `report --replay` and `plugintop --replay` answer from with no network."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from plugintop.cli.common import add_backends, add_target, demo_stack, load, settled, triage_request

DESCRIPTION = (
    "Save an incident as one file: every request the triage and the screen's first page make, each answer,\n"
    "the report and the context's schema; never a token or an Authorization header. Replay it with\n"
    "`plugintop report --replay FILE` or `plugintop --replay FILE`, with no backend needed."
)
EPILOG = "exit status: 0 saved, 2 usage or the bundle would be over 5 MB, 3 every backend failed"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bundle", help="an incident as one file that replays", description=DESCRIPTION)
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    save = verbs.add_parser(
        "save",
        help="save the triage of a range to FILE",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    add_target(save)
    add_backends(save)
    save.add_argument("-o", "--output", metavar="FILE", required=True, help="the bundle to write")
    save.add_argument("--deadline", metavar="DUR", default="30s", help="stop waiting for backends after this long")
    save.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from plugintop.handoff.bundle import save
    from plugintop.handoff.replay import save as recorded
    from plugintop.report import exit_code
    from plugintop.timerange import parse_duration, resolve_range

    rng = resolve_range(ns.since, ns.start, ns.end)
    parse_duration(ns.deadline)  # a bad one is a usage error before any work
    out = Path(ns.output)

    async def work() -> tuple[int, int, int]:
        async with demo_stack(ns):
            loaded = load(ns, "bundle save")
            req = triage_request(ns, rng)
            bundle, result = await recorded(loaded.context, req, time.time())
            return save(out, bundle), bundle.manifest.requests, exit_code(result)

    settled()
    size, n, code = asyncio.run(work())
    print(f"saved {out}: {n} answers, {size / 1e6:.2f} MB; replay with: plugintop --replay {out}", file=sys.stderr)
    return 0 if code in (0, 1) else code
