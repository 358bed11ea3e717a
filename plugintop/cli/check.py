"""Provides `plugintop check`: is each backend reachable, with our credentials, and holding data?"""

from __future__ import annotations

import argparse
import asyncio

from plugintop.cli.common import add_backends, add_target, demo_stack, load, settled

DESCRIPTION = "Check each backend: reachable, auth accepted, version, round-trip time, data present."
EPILOG = "exit status: 0 every backend usable, 2 usage or configuration error, 3 some backend not usable"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="is every backend reachable, with data?", description=DESCRIPTION, epilog=EPILOG)
    add_target(p)
    add_backends(p)
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from plugintop.redact import redact
    from plugintop.timerange import resolve_range
    from plugintop.triage.check import format_results, run_checks
    from plugintop.triage.connections import open_backends

    async def work() -> int:
        async with demo_stack(ns):
            loaded = load(ns, "check")
            rng = resolve_range(ns.since, ns.start, ns.end)
            async with await open_backends(loaded.context) as backends:
                results = await run_checks(backends, loaded.context, ns.plugin, ns.tenant, rng)
        usable = all(r.usable for r in results)
        for line in format_results(results):
            print(redact(line))
        print("all backends usable" if usable else "some backends are not usable")
        return 0 if usable else 3

    settled()
    return asyncio.run(work())
